#!/bin/sh
# build.sh OUTDIR — builds dnngo's CUDA/cuDNN/cuBLAS TEST DOUBLE (not a GPU,
# not NVIDIA code; see README.md) into OUTDIR as libcuda.so.1, libcudnn.so.9
# and libcublas.so.13. Only tests and build.sh use it; never install it.
set -eu
out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
inc=$here/../../../../include
cc=${CC:-cc}
flags="-O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-format-truncation -fPIC -shared -I$inc -I$here"
mkdir -p "$out"
$cc $flags -Wl,-soname,libcuda.so.1 -o "$out/libcuda.so.1" "$here/fc_cuda.c" -lm -lpthread
$cc $flags -Wl,-soname,libcudnn.so.9 -Wl,-rpath,'$ORIGIN' -o "$out/libcudnn.so.9" "$here/fc_cudnn.c" "$out/libcuda.so.1" -lm
$cc $flags -Wl,-soname,libcublas.so.13 -Wl,-rpath,'$ORIGIN' -o "$out/libcublas.so.13" "$here/fc_cublas.c" "$out/libcuda.so.1" -lm
