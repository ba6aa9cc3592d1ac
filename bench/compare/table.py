#!/usr/bin/env python3
"""Join the comparison's results into one table (standard library only).

  python3 table.py RESULTS.jsonl [--go GO_BENCH.txt ...] [--markdown]

RESULTS.jsonl: the lines torch_alexnet.py and ort_alexnet.mjs write with
--jsonl (or their stdout: lines starting "RESULT " are read too).
--go: output of dnngo's `go test -bench 'Forward|TrainStep' ./bench`; each
BenchmarkForward/backend=B/batch=N and BenchmarkTrainStep/... line is one
sample (its images/s metric), so -benchtime 1x -count K gives K samples of one
batch each, the same method as the two scripts: median, min and max of them.
"""
import argparse
import json
import re
import statistics
import sys

FWD_FLOP = 2 * 1135256096  # per image, see torch_alexnet.py --flops-only
TRAIN_FLOP = 3 * FWD_FLOP - 2 * 105415200  # less conv1's data gradient

GO_LINE = re.compile(r"^Benchmark(Forward|TrainStep)/backend=([^/\s]+)/batch=(\d+)(?:-(\d+))?\s+\d+\s+(.*)$")


def read_results(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("RESULT "):
                line = line[len("RESULT "):]
            if line.startswith("{"):
                rows.append(json.loads(line))
    return rows


def read_go(path):
    samples = {}
    with open(path) as f:
        for line in f:
            m = GO_LINE.match(line.strip())
            if not m:
                continue
            bench, backend, batch, procs, rest = m.groups()
            metrics = dict((u, float(v)) for v, u in re.findall(r"([0-9.eE+-]+)\s+(\S+)", rest))
            if "images/s" not in metrics:
                continue
            key = ("forward" if bench == "Forward" else "train", int(batch), backend, int(procs or 1))
            samples.setdefault(key, []).append(metrics["images/s"])
    rows = []
    for (mode, batch, backend, procs), ips in samples.items():
        med = statistics.median(ips)
        flop = FWD_FLOP if mode == "forward" else TRAIN_FLOP
        rows.append({"framework": "dnngo", "variant": f"backend={backend}", "mode": mode, "batch": batch,
                     "threads": procs, "iters": len(ips), "ips_median": med, "ips_min": min(ips),
                     "ips_max": max(ips), "ms_median": 1e3 * batch / med, "gflops_median": med * flop / 1e9})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="*")
    ap.add_argument("--go", action="append", default=[], help="go test -bench output of ./bench")
    ap.add_argument("--markdown", action="store_true", help="a Markdown table")
    a = ap.parse_args()
    rows = []
    for p in a.results:
        rows += read_results(p)
    for p in a.go:
        rows += read_go(p)
    if not rows:
        sys.exit("table: no results")
    order = {"dnngo": 0, "onednn-c": 1, "pytorch": 2, "onnxruntime": 3}
    rows.sort(key=lambda r: (r["mode"] != "forward", r["batch"], order.get(r["framework"], 9), r["variant"]))
    best = {}
    for r in rows:
        k = (r["mode"], r["batch"])
        best[k] = max(best.get(k, 0), r["ips_median"])
    hdr = ["mode", "batch", "framework", "variant", "threads", "runs", "img/s median", "min", "max",
           "GFLOP/s", "ms/batch", "vs best"]
    lines = []
    for r in rows:
        lines.append([r["mode"], str(r["batch"]), r["framework"], r["variant"], str(r["threads"]),
                      str(r.get("iters", "")), f"{r['ips_median']:.2f}", f"{r['ips_min']:.2f}",
                      f"{r['ips_max']:.2f}", f"{r['gflops_median']:.1f}", f"{r['ms_median']:.1f}",
                      f"{r['ips_median'] / best[(r['mode'], r['batch'])]:.2f}"])
    left = 4
    if a.markdown:
        print("| " + " | ".join(hdr) + " |")
        print("|" + "|".join("---" if i < left else "---:" for i in range(len(hdr))) + "|")
        for l in lines:
            print("| " + " | ".join(l) + " |")
        return
    w = [max(len(x[i]) for x in [hdr] + lines) for i in range(len(hdr))]
    fmt = lambda l: "  ".join(c.ljust(w[i]) if i < left else c.rjust(w[i]) for i, c in enumerate(l))
    print(fmt(hdr))
    print("  ".join("-" * x for x in w))
    prev = None
    for r, l in zip(rows, lines):
        if prev is not None and (r["mode"], r["batch"]) != prev:
            print()
        prev = (r["mode"], r["batch"])
        print(fmt(l))


if __name__ == "__main__":
    main()
