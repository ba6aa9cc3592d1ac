#!/usr/bin/env python3
"""Generate dnngo's golden cases with PyTorch: every AlexNet layer forward
and backward, and a three-step mini-AlexNet training run, computed in
float64 and stored as float32 safetensors files — the same cases, tensor
names, shapes, dtypes and metadata keys as the reference set CI keeps
(../shared/testdata/golden beside the repository).

    ./build.sh goldens                      # writes testdata/golden/ (git-ignored)
    python3 tools/goldens/gen_goldens.py --out DIR [--case conv1 ...]

Needs PyTorch (Debian: apt-get install python3-torch, 1.13) and nothing
else: the safetensors files are written by hand. Runs on one thread with
fixed seeds, so two runs write the same bytes.

Conventions (what the conformance suite and the README of the reference set
assume): activations NCHW, conv weights OIHW, fc weights [out, in],
row-major little-endian; inputs drawn in float64 from
torch.Generator().manual_seed(seed), rounded to float32 and stored; outputs
computed in float64 from exactly those float32 values and rounded to
float32 once. Per-layer gradients are those of sum(y * dy) for a random dy.

With the reference set's seeds (CASES below) and Debian's PyTorch 1.13.1
this writes the reference set's tensors bit for bit (checked on all 16
files, 2026-12-04); only metadata such as "set" and "generator" differ.
Another PyTorch version may round a few float64 results differently in
the last float32 bit: the suite's tolerances are far above that.
"""

import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

GENERATOR = "tools/goldens/gen_goldens.py"
PRECISION = ("inputs drawn in float64 and rounded to float32 (stored); outputs computed in float64 "
             "from exactly the stored float32 inputs, rounded to float32 once")
LAYOUT = "activations NCHW, conv weights OIHW, fc weights [out,in], row-major"
CONV_DEF = ("y[n,o,i,j] = b[o] + sum_{c,p,q} w[o,c,p,q] * xpad[n, (o div (O/G))*(C/G) + c, i*stride+p, j*stride+q]; "
            "cross-correlation (no kernel flip), zero padding; dx, dw, db are the gradients of sum(y*dy)")
LRN = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)


def f32(t):
    """Round a float64 tensor to float32 and back: the stored value."""
    return t.float().double()


def randn(g, shape, std=1.0):
    return f32(torch.randn(shape, generator=g, dtype=torch.float64) * std)


def write_safetensors(path, tensors, metadata):
    """Write tensors (name -> float64 or int64 tensor, in order) with the
    metadata; float tensors are stored as F32, int64 ones as I64 (first,
    so that they are 8-byte aligned)."""
    items = sorted(tensors.items(), key=lambda kv: kv[1].dtype != torch.int64)
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name, t in items:
        if t.dtype == torch.int64:
            dtype, raw = "I64", t.contiguous().numpy().astype("<i8").tobytes()
        else:
            dtype, raw = "F32", t.float().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * ((8 - len(js) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def common(case, op, variant, seed, **extra):
    m = {"format": "alexnet-golden/1", "case": case, "op": op, "variant": variant, "set": "regenerated",
         "seed": seed, "precision": PRECISION, "reference": f"PyTorch {torch.__version__} CPU, float64",
         "layout": LAYOUT, "generator": GENERATOR}
    m.update(extra)
    return m


def grads(fn, inputs, dy):
    """y = fn(*inputs) and the gradients of sum(y*dy) for each input."""
    leaves = [t.clone().requires_grad_(True) for t in inputs]
    y = fn(*leaves)
    (y * dy).sum().backward()
    return y.detach(), [l.grad.detach() for l in leaves]


def conv_case(case, variant, seed, xs, ws, stride, pad, groups, real=None):
    g = torch.Generator().manual_seed(seed)
    fan_in = ws[1] * ws[2] * ws[3]
    x, w, b = randn(g, xs), randn(g, ws, math.sqrt(2 / fan_in)), randn(g, (ws[0],), 0.1)
    y0 = F.conv2d(x, w, b, stride=stride, padding=pad, groups=groups)
    dy = randn(g, y0.shape)
    y, (dx, dw, db) = grads(lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=pad, groups=groups), [x, w, b], dy)
    meta = common(case, "conv2d", variant, seed)
    if real:
        meta["real_alexnet_params"] = real
    meta.update(kernel_size=ws[2], stride=stride, padding=pad, groups=groups, dilation=1, in_channels=xs[1],
                out_channels=ws[0], bias="true", definition=CONV_DEF,
                init=f"x~N(0,1); w~N(0,2/fan_in), fan_in={fan_in}; b~N(0,0.1^2); dy~N(0,1); drawn in that order")
    return {"x": x, "w": w, "b": b, "y": y, "dy": dy, "dx": dx, "dw": dw, "db": db}, meta


def linear_case(case, seed, n, fin, fout, note=None):
    g = torch.Generator().manual_seed(seed)
    x, w, b = randn(g, (n, fin)), randn(g, (fout, fin), math.sqrt(2 / fin)), randn(g, (fout,), 0.1)
    dy = randn(g, (n, fout))
    y, (dx, dw, db) = grads(F.linear, [x, w, b], dy)
    meta = common(case, "linear", "real", seed, in_features=fin, out_features=fout,
                  definition="y = x @ w^T + b; dx = dy @ w; dw = dy^T @ x; db = sum_n dy",
                  init=f"x~N(0,1); w~N(0,2/{fin}); b~N(0,0.1^2); dy~N(0,1)")
    if note:
        meta["note"] = note
    return {"x": x, "w": w, "b": b, "y": y, "dy": dy, "dx": dx, "dw": dw, "db": db}, meta


def relu_case(case, seed, shape, real):
    g = torch.Generator().manual_seed(seed)
    x, dy = randn(g, shape), randn(g, shape)
    assert (x != 0).all(), "an input is exactly 0: ReLU's gradient there is a convention"
    y, (dx,) = grads(F.relu, [x], dy)
    meta = common(case, "relu", "slim", seed, real_alexnet_params=real,
                  definition="y = max(x,0); dx = dy * (x > 0)  (no element of x is exactly 0)", init="x~N(0,1); dy~N(0,1)")
    return {"x": x, "y": y, "dy": dy, "dx": dx}, meta


def lrn(x):
    return F.local_response_norm(x, LRN["size"], alpha=LRN["alpha"], beta=LRN["beta"], k=LRN["k"])


def lrn_case(case, seed, shape, real):
    g = torch.Generator().manual_seed(seed)
    x, dy = randn(g, shape, 50.0), randn(g, shape)
    y, (dx,) = grads(lrn, [x], dy)
    meta = common(case, "lrn", "slim", seed, real_alexnet_params=real, size=5, alpha="0.0001", beta="0.75", k="2.0",
                  definition=("across channels: y[n,c,i,j] = x[n,c,i,j] / (k + alpha/size * sum_{c'=c-2}^{c+2} x[n,c',i,j]^2)^beta, "
                              "terms with c' outside [0,C) are zero (torch.nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2))"),
                  init="x~N(0,50^2); dy~N(0,1)")
    return {"x": x, "y": y, "dy": dy, "dx": dx}, meta


def top2_gaps(x, k=3, s=2):
    """top1 - top2 of every k×k/s pooling window of x [N,C,H,W]: [N*C, windows]."""
    n, c, h, w = x.shape
    cols = F.unfold(x.reshape(n * c, 1, h, w), k, stride=s)  # [N*C, k*k, windows]
    top = cols.topk(2, dim=1).values
    return top[:, 0, :] - top[:, 1, :], top[:, 0, :]


def pool_case(case, variant, seed, shape, real=None):
    g = torch.Generator().manual_seed(seed)
    n = math.prod(shape)
    q = torch.special.ndtri((torch.arange(n, dtype=torch.float64) + 0.5) / n)
    x = f32(q[torch.randperm(n, generator=g)].reshape(shape))
    assert torch.unique(x.float()).numel() == n, "tie-free input: every value distinct in float32"
    gaps, _ = top2_gaps(x)
    y0 = F.max_pool2d(x, 3, 2)
    dy = randn(g, y0.shape)
    y, (dx,) = grads(lambda x: F.max_pool2d(x, 3, 2), [x], dy)
    meta = common(case, "maxpool2d", variant, seed, kernel_size=3, stride=2, padding=0, ceil_mode="false",
                  definition=("y[n,c,i,j] = max_{0<=p,q<3} x[n,c,2i+p,2j+q]; Ho = floor((H-3)/2)+1; "
                              "dx scatters dy to each window's argmax, overlapping windows add"),
                  tie_free="true: x is a random permutation of the N normal quantiles Phi^-1((i+0.5)/N), all distinct in float32",
                  min_top2_gap=repr(gaps.min().item()), init="x = tie-free N(0,1) sample (see tie_free); dy~N(0,1)")
    if real:
        meta["real_alexnet_params"] = real
    return {"x": x, "y": y, "dy": dy, "dx": dx}, meta


def softmax_case(case, seed):
    g = torch.Generator().manual_seed(seed)
    logits = randn(g, (2, 1000), 2.0)
    labels = torch.randint(0, 1000, (2,), generator=g, dtype=torch.int64)
    lg = logits.clone().requires_grad_(True)
    loss = F.cross_entropy(lg, labels, reduction="mean")
    loss.backward()
    meta = common(case, "softmax_cross_entropy", "real", seed, reduction="mean",
                  definition=("loss = -(1/N) sum_n log(softmax(logits[n])[labels[n]]); dlogits = d loss / d logits = "
                              "(softmax(logits) - onehot(labels)) / N (upstream gradient 1)"),
                  init="logits~N(0,2^2); labels uniform in [0,1000) (int64)")
    return {"labels": labels, "logits": logits, "loss": loss.detach().reshape(1), "dlogits": lg.grad.detach()}, meta


# mini_alexnet: conv (in, out, k, stride, pad, lrn, pool), then fc (in, out, relu).
MINI_CONV = [("conv1", 3, 16, 11, 4, 0, True, True), ("conv2", 16, 32, 5, 1, 2, True, True),
             ("conv3", 32, 48, 3, 1, 1, False, False), ("conv4", 48, 48, 3, 1, 1, False, False),
             ("conv5", 48, 32, 3, 1, 1, False, True)]
MINI_FC = [("fc6", 128, 64, True), ("fc7", 64, 64, True), ("fc8", 64, 10, False)]
MINI_PARAMS = [f"{l[0]}.{p}" for l in MINI_CONV + MINI_FC for p in ("w", "b")]
SGD = dict(lr=0.01, momentum=0.9, weight_decay=5e-4)
MARGIN = 2e-5


def mini_forward(p, x, acts=None, margins=None):
    """Forward pass; fills acts (pre-ReLU conv/fc outputs, pool outputs)
    and margins (min |ReLU input|/rms, min pool top1-top2 gap ratio)."""
    h = x
    for name, _, _, _, s, pad, use_lrn, pool in MINI_CONV:
        z = F.conv2d(h, p[name + ".w"], p[name + ".b"], stride=s, padding=pad)
        if acts is not None:
            acts["act." + name] = z
        if margins is not None:
            margins["relu"] = min(margins["relu"], (z.abs().min() / z.pow(2).mean().sqrt()).item())
        h = F.relu(z)
        if use_lrn:
            h = lrn(h)
        if pool:
            if margins is not None:
                gaps, top1 = top2_gaps(h)
                rms = h.pow(2).mean().sqrt()
                pos = top1 > 0
                if pos.any():
                    ratio = gaps[pos] / torch.maximum(top1[pos], rms)
                    margins["pool"] = min(margins["pool"], ratio.min().item())
            h = F.max_pool2d(h, 3, 2)
            if acts is not None:
                acts["act.pool" + name[4:]] = h
    h = h.reshape(h.shape[0], -1)
    for name, _, _, relu in MINI_FC:
        z = F.linear(h, p[name + ".w"], p[name + ".b"])
        if relu:
            if acts is not None:
                acts["act." + name] = z
            if margins is not None:
                margins["relu"] = min(margins["relu"], (z.abs().min() / z.pow(2).mean().sqrt()).item())
            z = F.relu(z)
        h = z
    return h


def mini_draw(seed):
    g = torch.Generator().manual_seed(seed)
    x = randn(g, (4, 3, 99, 99))
    labels = torch.randint(0, 10, (4,), generator=g, dtype=torch.int64)
    p = {}
    for name, cin, cout, k, *_ in MINI_CONV:
        p[name + ".w"] = randn(g, (cout, cin, k, k), math.sqrt(2 / (cin * k * k)))
        p[name + ".b"] = randn(g, (cout,), 0.1)
    for name, fin, fout, _ in MINI_FC:
        p[name + ".w"] = randn(g, (fout, fin), math.sqrt(2 / fin) if name != "fc8" else math.sqrt(1 / 64))
        p[name + ".b"] = randn(g, (fout,), 0.1)
    return x, labels, p


def mini_run(x, labels, p0):
    """Three SGD steps (PyTorch's rule) in float64; returns what the case
    stores and the margins at the parameters after 0, 1 and 2 steps."""
    p = {k: v.clone() for k, v in p0.items()}
    v = {}
    losses, out, margins = [], {}, {"relu": math.inf, "pool": math.inf}
    for step in range(4):
        leaves = {k: t.clone().requires_grad_(True) for k, t in p.items()}
        acts = {} if step == 0 else None
        logits = mini_forward(leaves, x, acts, margins if step < 3 else None)
        loss = F.cross_entropy(logits, labels, reduction="mean")
        losses.append(loss.item())
        if step == 0:
            out["logits"], out["loss"] = logits.detach(), loss.detach().reshape(1)
            out.update({k: a.detach() for k, a in acts.items()})
        if step == 3:
            out["logits_step3"] = logits.detach()
            break
        loss.backward()
        for k in p:
            gk = leaves[k].grad.detach()
            if step == 0:
                out["grad." + k] = gk
            d = gk + SGD["weight_decay"] * p[k]
            v[k] = d if step == 0 else SGD["momentum"] * v[k] + d
            p[k] = p[k] - SGD["lr"] * v[k]
    out["losses"] = torch.tensor(losses, dtype=torch.float64)
    for k in p:
        out["step3." + k] = p[k]
    return out, margins


def mini_case(case, base):
    seed = base
    while True:
        x, labels, p = mini_draw(seed)
        out, margins = mini_run(x, labels, p)
        if margins["relu"] >= MARGIN and margins["pool"] >= MARGIN:
            break
        seed += 1
        if seed - base > 2000:
            sys.exit(f"mini_alexnet: no seed in {base}..{seed} has ReLU and max-pool margins ≥ {MARGIN}")
    t = {"labels": labels, "x": x}
    t.update({"init." + k: p[k] for k in MINI_PARAMS})
    t["logits"], t["loss"] = out["logits"], out["loss"]
    t.update({"grad." + k: out["grad." + k] for k in MINI_PARAMS})
    t["losses"], t["logits_step3"] = out["losses"], out["logits_step3"]
    t.update({"step3." + k: out["step3." + k] for k in MINI_PARAMS})
    for a in ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7"]:
        t["act." + a] = out["act." + a]
    meta = common(case, "mini_alexnet", "real", seed,
                  topology=("conv1 3->16 k11 s4 p0, ReLU, LRN, maxpool3/2 | conv2 16->32 k5 s1 p2, ReLU, LRN, maxpool3/2 | "
                            "conv3 32->48 k3 p1, ReLU | conv4 48->48 k3 p1, ReLU | conv5 48->32 k3 p1, ReLU, maxpool3/2 | "
                            "flatten (C,H,W) 32x2x2=128 | fc6 128->64, ReLU | fc7 64->64, ReLU | fc8 64->10 | "
                            "mean softmax cross-entropy; no dropout"),
                  lrn="size=5 alpha=1e-4 beta=0.75 k=2 (torch.nn.LocalResponseNorm)",
                  maxpool="3x3 stride 2 padding 0 floor",
                  optimizer=("torch.optim.SGD(lr=0.01, momentum=0.9, weight_decay=0.0005, dampening=0, nesterov=False) "
                             "on all params (biases too), 3 steps on the same batch"),
                  update_rule="d = grad + wd*w; v = d on the first step, v = momentum*v + d after; w = w - lr*v",
                  losses=("losses[i] = loss at the params after i SGD steps (i=0..3); losses[0] == loss; "
                          "the gradients of losses[0..2] drive steps 1..3"),
                  init=("x~N(0,1) [4,3,99,99]; labels uniform in [0,10); conv and fc6/fc7 weights N(0,2/fan_in), fc8 weights "
                        "N(0,1/64), biases N(0,0.1^2); drawn in the order x, labels, then params in the order conv1.w conv1.b ... fc8.w fc8.b"),
                  activations=("act.convK/act.fc6/act.fc7 = pre-ReLU outputs; act.poolK = max-pool outputs (pool1, pool2 after "
                               "ReLU+LRN, pool5 after ReLU); all at the initial params"),
                  seed_search=(f"seeds {base}..{seed} tried; the first one whose forward passes at the params after 0, 1 and 2 "
                               f"steps have min |ReLU input|/rms >= {MARGIN} and, over every max-pool window with a positive max, "
                               f"min (top1-top2)/max(top1, rms of the pool input) >= {MARGIN} was kept"),
                  min_relu_margin=repr(margins["relu"]), min_pool_gap=repr(margins["pool"]))
    return t, meta


# The cases of the reference set, with its seeds.
CASES = {
    "conv1": lambda: conv_case("conv1", "real", 1081077, (2, 3, 227, 227), (96, 3, 11, 11), 4, 0, 1),
    "relu1": lambda: relu_case("relu1", 1047758, (2, 96, 13, 13), "n=2,c=96,h=55"),
    "lrn1": lambda: lrn_case("lrn1", 1043402, (2, 96, 13, 13), "n=2,c=96,h=55"),
    "pool1": lambda: pool_case("pool1", "slim", 1056747, (2, 16, 55, 55), "n=2,c=96,h=55"),
    "conv2": lambda: conv_case("conv2", "real", 1048591, (2, 96, 27, 27), (256, 96, 5, 5), 1, 2, 1),
    "conv2_groups2": lambda: conv_case("conv2_groups2", "slim", 1092258, (2, 24, 27, 27), (64, 12, 5, 5), 1, 2, 2,
                                       "n=2,cin=96,h=27,cout=256,k=5,s=1,p=2,g=2"),
    "lrn2": lambda: lrn_case("lrn2", 1046384, (2, 256, 13, 13), "n=2,c=256,h=27"),
    "pool2": lambda: pool_case("pool2", "slim", 1070257, (2, 32, 27, 27), "n=2,c=256,h=27"),
    "conv3": lambda: conv_case("conv3", "real", 1097465, (2, 256, 13, 13), (384, 256, 3, 3), 1, 1, 1),
    "conv4": lambda: conv_case("conv4", "slim", 1086938, (2, 96, 13, 13), (96, 96, 3, 3), 1, 1, 1,
                               "n=2,cin=384,h=13,cout=384,k=3,s=1,p=1,g=1"),
    "conv5": lambda: conv_case("conv5", "slim", 1003340, (2, 96, 13, 13), (64, 96, 3, 3), 1, 1, 1,
                               "n=2,cin=384,h=13,cout=256,k=3,s=1,p=1,g=1"),
    "pool5": lambda: pool_case("pool5", "real", 1034194, (2, 256, 13, 13)),
    "fc6": lambda: linear_case("fc6", 1016413, 2, 9216, 64,
                               "reduced fc6: AlexNet's 9216 inputs (256x6x6 flattened C,H,W), 64 outputs instead of 4096"),
    "fc8": lambda: linear_case("fc8", 1080794, 2, 64, 10, "reduced fc8: 64 inputs, 10 outputs"),
    "softmax_xent": lambda: softmax_case("softmax_xent", 1076930),
    "mini_alexnet": lambda: mini_case("mini_alexnet", 1000000),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="directory to write the *.safetensors cases into")
    ap.add_argument("--case", action="append", choices=sorted(CASES), help="only these cases (default: all)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    for name in args.case or list(CASES):
        tensors, meta = CASES[name]()
        path = os.path.join(args.out, name + ".safetensors")
        write_safetensors(path, tensors, meta)
        print(f"wrote {path} ({os.path.getsize(path)} bytes, seed {meta['seed']})")


if __name__ == "__main__":
    main()
