#!/usr/bin/env python3
"""Joins dnngo's BenchmarkSeed output and torch_alexnet.py's into one
Markdown table with the ratio dnngo/PyTorch (images/s, higher is better).

  python3 table.py dnngo_bench.txt torch_bench.txt
"""
import re
import sys

GO = re.compile(r"^BenchmarkSeed/precision=(\w+)/pass=(\w+)/batch=(\d+)(?:-\d+)?\s+\d+\s+.*?([\d.]+(?:e[+-]?\d+)?) images/s")
PY = re.compile(r"^torch precision=(\w+) pass=(\w+) batch=(\d+) images/s=([\d.]+)")


def read(path, rx):
    out = {}
    with open(path) as f:
        for line in f:
            m = rx.match(line.strip())
            if m:
                out[(m[1], m[2], int(m[3]))] = float(m[4])
    return out


def main():
    go, py = read(sys.argv[1], GO), read(sys.argv[2], PY)
    keys = sorted(set(go) | set(py), key=lambda k: (["fp32", "tf32", "bf16", "fp16"].index(k[0]) if k[0] in
                                                    ["fp32", "tf32", "bf16", "fp16"] else 9, k[1], k[2]))
    print("| precision | pass | batch | dnngo images/s | PyTorch images/s | dnngo / PyTorch |")
    print("|---|---|---:|---:|---:|---:|")
    for k in keys:
        g, p = go.get(k), py.get(k)
        ratio = f"{g / p:.2f}x" if g and p else "–"
        fmt = lambda v: f"{v:.0f}" if v else "missing"
        print(f"| {k[0]} | {k[1]} | {k[2]} | {fmt(g)} | {fmt(p)} | {ratio} |")
    if not keys:
        print("(no results parsed)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
