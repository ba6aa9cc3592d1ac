#!/usr/bin/env python3
"""The Seed AlexNet in PyTorch, timed like dnngo's BenchmarkSeed.

Same network (227x227 input, 96-256-384-384-256 convolutions, LRN n=5
alpha=5e-4 beta=0.75 k=2 after conv1 and conv2, 3/2 max pooling, FC
4096-4096-1000, dropout 0.5 when training), same passes (inference forward
at batch 64 and 256, a training step with cross-entropy and SGD momentum 0.9
weight decay 5e-4 at batch 128), same precisions:

  fp32  strict: TF32 off for cuDNN and matmul
  tf32  TF32 on for cuDNN and matmul
  bf16  autocast(bfloat16), float32 master weights
  fp16  autocast(float16), float32 master weights, GradScaler

with torch.backends.cudnn.benchmark = True. Prints one line per case:

  torch precision=fp32 pass=forward batch=64 images/s=12345.6
"""
import argparse
import time

import torch
import torch.nn as nn


def seed_alexnet():
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True),
        nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(inplace=True),
        nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2), nn.Flatten(),
        nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 1000),
    )


def configure(precision):
    torch.backends.cudnn.benchmark = True
    tf32 = precision == "tf32"
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    if precision in ("bf16", "fp16"):
        # autocast runs convolutions and matmuls in 16 bits; float32 ops stay
        # float32 (TF32 off, as in dnngo's 16-bit modes).
        return {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    return None


def bench(precision, pass_, batch, iters, warmup):
    dtype = configure(precision)
    dev = torch.device("cuda")
    torch.manual_seed(batch)
    model = seed_alexnet().to(dev)
    x = torch.randn(batch, 3, 227, 227, device=dev)
    labels = torch.randint(0, 1000, (batch,), device=dev)
    autocast = torch.autocast("cuda", dtype=dtype, enabled=dtype is not None)
    if pass_ == "forward":
        model.eval()

        def run():
            with torch.inference_mode(), autocast:
                model(x)
    else:
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        loss_fn = nn.CrossEntropyLoss()
        scaler = torch.amp.GradScaler("cuda", enabled=precision == "fp16")

        def run():
            opt.zero_grad(set_to_none=True)
            with autocast:
                loss = loss_fn(model(x), labels)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
    for _ in range(warmup):
        run()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(iters):
        run()
    torch.cuda.synchronize()
    return batch * iters / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--precisions", default="fp32,tf32,bf16,fp16")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    print(f"torch {torch.__version__} cuda {torch.version.cuda} cudnn {torch.backends.cudnn.version()} "
          f"device {torch.cuda.get_device_name(0)}", flush=True)
    for p in a.precisions.split(","):
        for pass_, batch in (("forward", 64), ("forward", 256), ("train", 128)):
            ips = bench(p, pass_, batch, a.iters, a.warmup)
            print(f"torch precision={p} pass={pass_} batch={batch} images/s={ips:.1f}", flush=True)


if __name__ == "__main__":
    main()
