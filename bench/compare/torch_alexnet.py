#!/usr/bin/env python3
"""The Seed AlexNet in PyTorch on the CPU, timed like dnngo's bench package.

Network (single tower, NCHW float32, 3x227x227 input):

  conv1 96 11x11/4 -> ReLU -> LRN(5, alpha, 0.75, k=2) -> maxpool 3/2
  conv2 256 5x5 pad 2 -> ReLU -> LRN -> maxpool 3/2
  conv3 384 3x3 pad 1 -> ReLU -> conv4 384 3x3 pad 1 -> ReLU
  conv5 256 3x3 pad 1 -> ReLU -> maxpool 3/2 -> flatten 9216
  FC 4096 -> ReLU -> dropout 0.5 -> FC 4096 -> ReLU -> dropout 0.5 -> FC 1000

LRN is in PyTorch's convention, y = x / (k + alpha/n * sum x^2)^beta, alpha
= 1e-4 by default (--lrn-alpha; dnngo's SeedConfig() uses 5e-4 in the same
convention: the timing does not depend on it).

Cases (--cases, comma-separated MODE:BATCH):
  forward:N  eval mode under torch.inference_mode()
  train:N    forward + softmax cross-entropy + backward + SGD(lr 0.01,
             momentum 0.9, weight decay 5e-4), train mode (dropout on)

Each case: --warmup untimed runs, then --iters timed runs of one batch each;
images/s is batch / time of one run, reported as the median, min and max.
One machine-readable line per case on stdout:

  RESULT {"framework": "pytorch", "variant": "lrn-native", "mode": "forward", "batch": 16, ...}

and a human table at the end. --jsonl FILE also appends the JSON to FILE.

Export (no timing unless --cases is also given explicitly):
  --export model.onnx             opset 13, the LRN as one ONNX LRN node
  --export-decomposed dec.onnx    the LRN as square + pad + 5 shifted
                                  slices summed + pow + div (exact)
Both have a dynamic batch axis (input "input", output "logits") and the same
weights (--seed). Beside them --ref-dir (default: the export's folder) gets
reference inputs and outputs and checks.json, which `ort_alexnet.mjs --check`
runs: the whole network at batch 2 and an LRN-only probe with alpha = 1 (at
alpha = 1e-4 the LRN changes activations by ~1e-5 relative, too little for
the whole-network check to tell a wrong LRN from a right one).
"""
import argparse
import inspect
import json
import os
import platform
import statistics
import sys
import time
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

FRAMEWORK = "pytorch"
DEFAULT_CASES = "forward:1,forward:16,forward:64,train:16,train:64"


# ---------------------------------------------------------------------------
# LRN in three forms: PyTorch's module, one ONNX LRN node, and decomposed.

class _LRNOnnxOp(torch.autograd.Function):
    """Computes F.local_response_norm; exports as a single ONNX LRN node."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return F.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        # ONNX LRN: square_sum over [c - floor((n-1)/2), c + ceil((n-1)/2)],
        # y = x / (bias + alpha/size * square_sum)^beta: PyTorch's convention.
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class LRNOnnxOp(nn.Module):
    def __init__(self, size, alpha, beta, k):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        return _LRNOnnxOp.apply(x, self.size, self.alpha, self.beta, self.k)


class LRNDecomposed(nn.Module):
    """Exact LRN from elementwise ops: x^2, zero-pad the channel axis,
    sum of `size` shifted channel slices, then x / (k + alpha/size*s)^beta."""

    def __init__(self, channels, size, alpha, beta, k):
        super().__init__()
        self.c, self.size, self.alpha, self.beta, self.k = channels, size, alpha, beta, k

    def forward(self, x):
        sq = x * x
        # Same window as PyTorch: size//2 channels before, (size-1)//2 after.
        sqp = F.pad(sq, (0, 0, 0, 0, self.size // 2, (self.size - 1) // 2))
        s = sqp[:, 0:self.c]
        for i in range(1, self.size):
            s = s + sqp[:, i:i + self.c]
        return x / (self.k + (self.alpha / self.size) * s).pow(self.beta)


def make_lrn(kind, channels, alpha):
    size, beta, k = 5, 0.75, 2.0
    if kind == "native":
        return nn.LocalResponseNorm(size, alpha=alpha, beta=beta, k=k)
    if kind == "onnx-op":
        return LRNOnnxOp(size, alpha, beta, k)
    if kind == "decomposed":
        return LRNDecomposed(channels, size, alpha, beta, k)
    raise ValueError(f"unknown LRN kind {kind!r}")


def seed_alexnet(lrn="native", alpha=1e-4, classes=1000):
    # The LRN modules hold no parameters, so every LRN kind has the same
    # state_dict keys: weights move between variants with load_state_dict.
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True),
        make_lrn(lrn, 96, alpha), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(inplace=True),
        make_lrn(lrn, 256, alpha), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2), nn.Flatten(),
        nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, classes),
    )


# ---------------------------------------------------------------------------
# FLOPs

def count_macs(model, shape=(1, 3, 227, 227)):
    """Multiply-adds of every conv and linear layer for one image, by hooks."""
    per_layer = []

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            macs = out.shape[1] * out.shape[2] * out.shape[3] * (m.in_channels // m.groups) * kh * kw
        else:
            macs = m.in_features * m.out_features
        per_layer.append((m, macs))

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(shape))
    model.train(was_training)
    for h in hs:
        h.remove()
    total = sum(m for _, m in per_layer)
    first_conv = per_layer[0][1]
    return total, first_conv, per_layer


# ---------------------------------------------------------------------------
# Timing

def loaded_blas():
    """The BLAS/LAPACK/oneDNN libraries this process has mapped (PyTorch's
    linear layers go through BLAS: Debian's default is the slow reference
    one, which run.sh replaces with OpenBLAS for the PyTorch process)."""
    libs = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                name = os.path.basename(p)
                if p.startswith("/") and any(k in name for k in ("blas", "mkl_", "libdnnl", "lapack")) \
                        and p not in libs:
                    libs.append(p)
    except OSError:
        pass
    return [os.path.realpath(p) for p in libs]


def time_case(mode, batch, model, warmup, iters, seed):
    g = torch.Generator().manual_seed(seed + batch)
    x = torch.randn(batch, 3, 227, 227, generator=g)
    if mode == "forward":
        model.eval()

        def step():
            with torch.inference_mode():
                model(x)
    elif mode == "train":
        model.train()
        labels = torch.randint(0, 1000, (batch,), generator=g)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), labels)
            loss.backward()
            opt.step()
    else:
        raise ValueError(f"unknown mode {mode!r} (forward or train)")
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def parse_cases(s):
    out = []
    for item in s.split(","):
        item = item.strip()
        if not item:
            continue
        mode, _, b = item.partition(":")
        mode = {"fwd": "forward", "forward": "forward", "train": "train"}.get(mode)
        if mode is None or not b.isdigit() or int(b) < 1:
            raise SystemExit(f"bad case {item!r}: want forward:N or train:N")
        out.append((mode, int(b)))
    return out


def print_table(rows, file=sys.stdout):
    hdr = ("framework", "variant", "mode", "batch", "threads", "img/s median", "min", "max", "GFLOP/s", "ms/batch")
    lines = [hdr]
    for r in rows:
        lines.append((r["framework"], r["variant"], r["mode"], str(r["batch"]), str(r["threads"]),
                      f"{r['ips_median']:.2f}", f"{r['ips_min']:.2f}", f"{r['ips_max']:.2f}",
                      f"{r['gflops_median']:.1f}", f"{r['ms_median']:.1f}"))
    w = [max(len(l[i]) for l in lines) for i in range(len(hdr))]
    for j, l in enumerate(lines):
        print("  ".join(c.ljust(w[i]) if i < 3 else c.rjust(w[i]) for i, c in enumerate(l)), file=file)
        if j == 0:
            print("  ".join("-" * x for x in w), file=file)


# ---------------------------------------------------------------------------
# Export

def save_f32(path, t):
    """Raw little-endian float32, C order (what ort_alexnet.mjs --check reads)."""
    t.detach().contiguous().to(torch.float32).numpy().astype("<f4").tofile(path)


def export_onnx(model, path, opset):
    model.eval()
    dummy = torch.randn(1, 3, 227, 227)
    with torch.no_grad():
        _onnx_export(model, dummy, path, opset, do_constant_folding=True)


def _onnx_export(model, x, path, opset, **kw):
    """torch.onnx.export with the TorchScript exporter (the one that honours
    autograd.Function.symbolic), a dynamic batch axis and quiet warnings."""
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kw["dynamo"] = False  # torch >= 2.9 defaults to the dynamo exporter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, path, opset_version=opset,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, **kw)


def onnx_op_types(path):
    """The op types of an exported model (best effort: needs the onnx package)."""
    try:
        import onnx
    except ImportError:
        return None
    m = onnx.load(path, load_external_data=False)
    seen = {}
    for n in m.graph.node:
        seen[n.op_type] = seen.get(n.op_type, 0) + 1
    return seen


def do_export(a, base):
    ref_dir = a.ref_dir or os.path.dirname(os.path.abspath(a.export or a.export_decomposed))
    os.makedirs(ref_dir, exist_ok=True)
    checks = []
    g = torch.Generator().manual_seed(a.seed + 1)
    x = torch.randn(2, 3, 227, 227, generator=g)  # batch 2: exercises the dynamic axis (exported at 1)
    base.eval()
    with torch.no_grad():
        ref = base(x)
    save_f32(os.path.join(ref_dir, "net_input.f32"), x)
    save_f32(os.path.join(ref_dir, "net_output.f32"), ref)

    # LRN-only probe, alpha = 1 so that the LRN term matters.
    gp = torch.Generator().manual_seed(a.seed + 2)
    px = 3 * torch.randn(2, 96, 13, 13, generator=gp)
    probe_ref = F.local_response_norm(px, 5, 1.0, 0.75, 2.0)
    save_f32(os.path.join(ref_dir, "lrn_input.f32"), px)
    save_f32(os.path.join(ref_dir, "lrn_output.f32"), probe_ref)

    for kind, path in (("onnx-op", a.export), ("decomposed", a.export_decomposed)):
        if not path:
            continue
        m = seed_alexnet(kind, a.lrn_alpha)
        m.load_state_dict(base.state_dict())
        m.eval()
        with torch.no_grad():
            d = (m(x) - ref).abs().max().item()
        print(f"export: pytorch {kind} LRN vs native on the whole net: max |diff| = {d:.3g}", flush=True)
        t0 = time.perf_counter()
        export_onnx(m, path, a.opset)
        ops = onnx_op_types(path)
        print(f"export: wrote {path} ({os.path.getsize(path) / 1e6:.0f} MB, opset {a.opset}, LRN {kind}, "
              f"{time.perf_counter() - t0:.1f} s)" + (f", ops {ops}" if ops else ""), flush=True)
        checks.append({"name": f"net lrn-{kind}", "model": os.path.abspath(path),
                       "input": "net_input.f32", "input_shape": list(x.shape),
                       "output": "net_output.f32", "output_shape": list(ref.shape)})

        probe = make_lrn(kind, 96, 1.0).eval()
        ppath = os.path.join(ref_dir, f"lrn_probe_{kind}.onnx")
        with torch.no_grad():
            d = (probe(px) - probe_ref).abs().max().item()
            _onnx_export(probe, px, ppath, a.opset)
        print(f"export: LRN probe (alpha=1) {kind}: pytorch vs F.local_response_norm max |diff| = {d:.3g}; "
              f"wrote {ppath}", flush=True)
        checks.append({"name": f"lrn-probe {kind} (alpha=1)", "model": os.path.abspath(ppath),
                       "input": "lrn_input.f32", "input_shape": list(px.shape),
                       "output": "lrn_output.f32", "output_shape": list(probe_ref.shape)})
    with open(os.path.join(ref_dir, "checks.json"), "w") as f:
        json.dump({"dir": os.path.abspath(ref_dir), "checks": checks}, f, indent=1)
    print(f"export: reference data and checks in {os.path.join(ref_dir, 'checks.json')}", flush=True)


def dump_raw(a, base):
    """Weights, a batch-2 input and its eval-mode logits as raw float32 (C order) for
    `onednn_alexnet --check DIR`; fc6's weight is written [4096, 256, 6, 6] (the same bytes)."""
    os.makedirs(a.dump_raw, exist_ok=True)
    names = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
    layers = [m for m in base if isinstance(m, (nn.Conv2d, nn.Linear))]
    for name, m in zip(names, layers):
        save_f32(os.path.join(a.dump_raw, f"{name}_w.f32"), m.weight)
        save_f32(os.path.join(a.dump_raw, f"{name}_b.f32"), m.bias)
    g = torch.Generator().manual_seed(a.seed + 1)
    x = torch.randn(2, 3, 227, 227, generator=g)
    base.eval()
    with torch.no_grad():
        y = base(x)
    save_f32(os.path.join(a.dump_raw, "net_input.f32"), x)
    save_f32(os.path.join(a.dump_raw, "net_output.f32"), y)
    print(f"dump-raw: weights, input [2,3,227,227] and logits [2,1000] (LRN alpha {a.lrn_alpha:g}) in {a.dump_raw}; "
          f"logits rms {y.pow(2).mean().sqrt().item():.4g}", flush=True)


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads (default: os.cpu_count())")
    ap.add_argument("--iters", type=int, default=10, help="timed runs per case (default 10)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs per case (default 2)")
    ap.add_argument("--cases", default=None, help=f"comma-separated MODE:BATCH (default {DEFAULT_CASES})")
    ap.add_argument("--lrn", default="native", choices=["native", "decomposed"],
                    help="LRN used for timing: nn.LocalResponseNorm or the decomposed form")
    ap.add_argument("--lrn-alpha", type=float, default=1e-4, help="LRN alpha, divided by n=5 (default 1e-4)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jsonl", help="also append one JSON line per case to this file")
    ap.add_argument("--export", metavar="MODEL.onnx", help="export with one ONNX LRN node per LRN")
    ap.add_argument("--export-decomposed", metavar="MODEL.onnx", help="export with the LRN decomposed")
    ap.add_argument("--ref-dir", help="where the reference data and checks.json go (default: the export's folder)")
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--dump-raw", metavar="DIR",
                    help="write the weights (conv1_w.f32, conv1_b.f32, ... fc8_b.f32; OIHW and [out,in]), a batch-2 "
                         "input and its eval logits as raw float32 for onednn_alexnet --check, and exit")
    ap.add_argument("--flops-only", action="store_true", help="print the FLOP count and exit")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    base = seed_alexnet("native", a.lrn_alpha)
    params = sum(p.numel() for p in base.parameters())
    macs, conv1_macs, per_layer = count_macs(base)
    fwd_flop = 2 * macs
    # Training: forward + data gradient + weight gradient, less conv1's data
    # gradient (the input needs none): dnngo's bench counts the same.
    train_flop = 3 * fwd_flop - 2 * conv1_macs
    print(f"pytorch {torch.__version__} | python {platform.python_version()} | threads {torch.get_num_threads()} "
          f"(interop {torch.get_num_interop_threads()}) | mkldnn {torch.backends.mkldnn.is_available()} | "
          f"cpus {os.cpu_count()}", flush=True)
    blas = loaded_blas()
    print("libraries: " + (", ".join(blas) or "?"), flush=True)
    if any("/blas/libblas" in p for p in blas):
        print("warning: PyTorch uses the reference BLAS (slow linear layers); install libopenblas0-openmp "
              "(run.sh does) or point LD_LIBRARY_PATH at an optimised libblas.so.3", flush=True)
    blas_name = next((os.path.dirname(p).split("/")[-1] for p in blas if "blas" in os.path.basename(p)), "?")
    print(f"model: Seed AlexNet, {params:,} parameters, LRN alpha {a.lrn_alpha:g} (/n), "
          f"{macs / 1e9:.3f} G MACs = {fwd_flop / 1e9:.2f} GFLOP forward per image, "
          f"{train_flop / 1e9:.2f} GFLOP per training image", flush=True)
    if a.flops_only:
        for m, n in per_layer:
            print(f"  {str(m):70s} {n / 1e6:9.1f} M MACs")
        return

    if a.dump_raw:
        dump_raw(a, base)
        return

    if a.export or a.export_decomposed:
        do_export(a, base)
        if a.cases is None:
            return

    cases = parse_cases(a.cases or DEFAULT_CASES)
    init = {k: v.clone() for k, v in base.state_dict().items()}
    model = base if a.lrn == "native" else seed_alexnet(a.lrn, a.lrn_alpha)
    variant = f"lrn-{a.lrn}"
    rows = []
    jf = open(a.jsonl, "a") if a.jsonl else None
    for mode, batch in cases:
        # Fresh weights per case so that train steps do not drift into
        # denormals or NaNs over a long run.
        model.load_state_dict(init)
        times = time_case(mode, batch, model, a.warmup, a.iters, a.seed)
        med = statistics.median(times)
        flop = fwd_flop if mode == "forward" else train_flop
        r = {
            "framework": FRAMEWORK, "version": torch.__version__, "variant": variant, "mode": mode,
            "batch": batch, "threads": torch.get_num_threads(), "blas": blas_name,
            "iters": a.iters, "warmup": a.warmup,
            "ips_median": batch / med, "ips_min": batch / max(times), "ips_max": batch / min(times),
            "ms_median": 1e3 * med, "gflops_median": batch / med * flop / 1e9,
        }
        rows.append(r)
        line = json.dumps(r)
        print("RESULT " + line, flush=True)
        if jf:
            jf.write(line + "\n")
            jf.flush()
    if jf:
        jf.close()
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
