#!/usr/bin/env bash
# run.sh — AlexNet (Seed) throughput of PyTorch (CPU), ONNX Runtime (CPU,
# onnxruntime-node) and oneDNN driven from C (onednn_alexnet.c, inference) on this
# machine, in one table, to put beside dnngo's
#   go test -tags onednn -run '^$' -bench 'Forward|TrainStep' ./bench
#
#   bash bench/compare/run.sh                 # the full comparison (~5 min on 2 cores)
#   bash bench/compare/run.sh --smoke         # < 1 min: 2 runs, batch 1 and 16
#   bash bench/compare/run.sh --run-dnngo     # also dnngo's own benchmark, back to back, same method
#   bash bench/compare/run.sh --dnngo go.txt  # add an existing `go test -bench` output to the table
#   bash bench/compare/run.sh --only-c        # oneDNN driven from C alone (no PyTorch timing, no ORT)
#
# Options: --keep DIR (keep the exported models, reference data, results and
# logs in DIR instead of a temporary folder), --no-lock (do not take
# /tmp/dnngo-bench.lock), --no-install (fail instead of installing), --no-c (skip
# oneDNN driven from C: onednn_alexnet.c, built with cc -fopenmp ... -ldnnl into
# the work folder, checked against PyTorch's logits, then timed), --only-c (only
# that one: the check, then its timing, and --run-dnngo / --dnngo if given).
# Environment: ITERS (timed runs per case, default 10; smoke 2), WARMUP
# (default 2; smoke 1), THREADS (default: nproc), TORCH_CASES (default
# forward:1,forward:16,forward:64,train:16,train:64), ORT_CASES (default
# forward:1,forward:16,forward:64), LRN_ALPHA (default 1e-4, divided by n),
# PYTHON (default /usr/bin/python3, where Debian's python3-torch lives),
# TORCH_BLAS (default openblas; "system" keeps the system's libblas.so.3),
# GO_BENCH (go -bench regexp for --run-dnngo, default 'Forward|TrainStep', i.e. every
# backend compiled in, the pure-Go cpu one too: '(Forward|TrainStep)/backend=onednn'
# for oneDNN alone; smoke: onednn at batch 1 and 16), GO_TAGS (default onednn),
# C_VARIANTS (oneDNN-from-C variants, default "fp32:4d fp32:2d": precision and
# fc6's input, see onednn_alexnet.c; add bf16:4d on CPUs with AVX512_BF16/AMX,
# wino:2d for fp32 with Winograd conv3-5 as dnngo's onednn backend runs them),
# C_BATCHES (default 1,16,64; smoke 1,16).
#
# Installs what is missing (as root, or through sudo): python3-torch from
# Debian, libopenblas0-openmp (PyTorch's linear layers; see below), nodejs/npm
# from Debian if there is no node, and onnxruntime-node
# (pinned in package.json / package-lock.json) into bench/compare/node_modules.
# Takes /tmp/dnngo-bench.lock (the repository's benchmark lock) from the
# export to the end, so that no other benchmark that honours it runs alongside.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

say() { printf '\n== %s\n' "$*"; }
die() { printf 'run.sh: error: %s\n' "$*" >&2; exit 1; }

SMOKE=0 RUN_DNNGO=0 KEEP="" LOCK=1 INSTALL=1 DNNGO_FILES=() WITH_C=1 ONLY_C=0
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --run-dnngo) RUN_DNNGO=1 ;;
    --dnngo) [ $# -ge 2 ] && [ -r "$2" ] || die "--dnngo needs a readable go test -bench output file"
      DNNGO_FILES+=("$(realpath "$2")"); shift ;;
    --keep) [ $# -ge 2 ] || die "--keep needs a folder"; KEEP="$2"; shift ;;
    --no-lock) LOCK=0 ;;
    --no-install) INSTALL=0 ;;
    --no-c) WITH_C=0 ;;
    --only-c) ONLY_C=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done

if [ "$SMOKE" = 1 ]; then
  ITERS="${ITERS:-2}" WARMUP="${WARMUP:-1}"
  TORCH_CASES="${TORCH_CASES:-forward:1,forward:16,train:16}"
  ORT_CASES="${ORT_CASES:-forward:1,forward:16}"
  GO_BENCH="${GO_BENCH:-(Forward|TrainStep)/backend=onednn/batch=(1|16)\$}"
fi
ITERS="${ITERS:-10}" WARMUP="${WARMUP:-2}" THREADS="${THREADS:-$(nproc)}"
TORCH_CASES="${TORCH_CASES:-forward:1,forward:16,forward:64,train:16,train:64}"
ORT_CASES="${ORT_CASES:-forward:1,forward:16,forward:64}"
LRN_ALPHA="${LRN_ALPHA:-1e-4}"
GO_BENCH="${GO_BENCH:-Forward|TrainStep}" GO_TAGS="${GO_TAGS-onednn}"
C_VARIANTS="${C_VARIANTS:-fp32:4d fp32:2d}"
[ "$SMOKE" = 1 ] && C_BATCHES="${C_BATCHES:-1,16}"
C_BATCHES="${C_BATCHES:-1,16,64}"
[ "$ONLY_C" = 0 ] || [ "$WITH_C" = 1 ] || die "--only-c and --no-c contradict each other"
if [ -z "${PYTHON:-}" ]; then
  PYTHON=python3; [ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
  PYTHON_SET=0
else
  PYTHON_SET=1
fi

# --- install what is missing ------------------------------------------------
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
APT_UPDATED=0
apt_install() {
  [ "$INSTALL" = 1 ] || die "missing: $* (not installing: --no-install)"
  command -v apt-get >/dev/null || die "missing: $*; this is not a Debian-like system (no apt-get): install them by hand"
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
    die "missing: $*; installing needs root (or sudo): run 'apt-get install -y $*' as root"
  fi
  echo "installing $* (apt-get) ..."
  if ! $SUDO apt-get install -y -q "$@" >/tmp/dnngo-compare-apt.log 2>&1; then
    if [ "$APT_UPDATED" = 0 ]; then
      APT_UPDATED=1
      $SUDO apt-get update -q >>/tmp/dnngo-compare-apt.log 2>&1 ||
        die "apt-get update failed (no network to the Debian mirrors?); see /tmp/dnngo-compare-apt.log"
      $SUDO apt-get install -y -q "$@" >>/tmp/dnngo-compare-apt.log 2>&1 ||
        die "apt-get install -y $* failed; see /tmp/dnngo-compare-apt.log"
    else
      die "apt-get install -y $* failed; see /tmp/dnngo-compare-apt.log"
    fi
  fi
}

say "checking the tools"
if ! "$PYTHON" -c 'import torch, numpy' >/dev/null 2>&1; then
  [ "$PYTHON_SET" = 0 ] || die "PYTHON=$PYTHON cannot import torch and numpy; unset PYTHON to use Debian's python3-torch"
  apt_install python3-torch python3-numpy
  PYTHON=/usr/bin/python3
  "$PYTHON" -c 'import torch, numpy' ||
    die "python3-torch is installed but '$PYTHON -c \"import torch\"' fails (output above)"
fi
"$PYTHON" -c 'import torch; print("pytorch", torch.__version__, "at", torch.__file__)'
# Debian's PyTorch does its linear layers through libblas.so.3, by default the
# reference BLAS (~2 GFLOP/s here): give the PyTorch processes OpenBLAS (the
# OpenMP build, which shares PyTorch's libgomp thread pool) through
# LD_LIBRARY_PATH. TORCH_BLAS=system keeps whatever libblas.so.3 the system has.
TORCH_LD="${LD_LIBRARY_PATH:-}"
if [ "${TORCH_BLAS:-openblas}" != system ]; then
  MULTIARCH="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_config_var("MULTIARCH") or "")')"
  OPENBLAS_DIR="/usr/lib/${MULTIARCH:-x86_64-linux-gnu}/openblas-openmp"
  [ -e "$OPENBLAS_DIR/libblas.so.3" ] || apt_install libopenblas0-openmp
  [ -e "$OPENBLAS_DIR/libblas.so.3" ] || die "libopenblas0-openmp installed but $OPENBLAS_DIR/libblas.so.3 is missing"
  TORCH_LD="$OPENBLAS_DIR${TORCH_LD:+:$TORCH_LD}"
fi
py() { LD_LIBRARY_PATH="$TORCH_LD" "$PYTHON" "$@"; }
# torch.onnx.export (the TorchScript exporter used here) needs no onnx package; if
# python3-onnx happens to be installed, the export also lists the op types.

if [ "$ONLY_C" = 0 ]; then
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
  die "node $(node --version) is too old for onnxruntime-node 1.30 (needs 18 or later)"
if ! (cd "$HERE" && node -e 'require("onnxruntime-node")' >/dev/null 2>&1); then
  [ "$INSTALL" = 1 ] || die "onnxruntime-node is not installed in $HERE/node_modules (not installing: --no-install)"
  echo "installing onnxruntime-node into $HERE/node_modules (npm ci) ..."
  # The package's postinstall would fetch CUDA binaries from outside the npm
  # registry; the CPU runtime is inside the npm package itself.
  (cd "$HERE" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error) ||
    die "npm ci failed in $HERE (is the npm registry reachable?)"
  (cd "$HERE" && node -e 'require("onnxruntime-node")') ||
    die "onnxruntime-node is installed but does not load (output above)"
fi
echo "node $(node --version), onnxruntime-node $(cd "$HERE" && node -p 'require("onnxruntime-node/package.json").version')"
fi
if [ "$WITH_C" = 1 ]; then
  command -v cc >/dev/null || die "oneDNN from C needs a C compiler (cc); --no-c skips it"
  [ -e /usr/include/oneapi/dnnl/dnnl.h ] || [ -e /usr/local/include/oneapi/dnnl/dnnl.h ] || apt_install libdnnl-dev
fi
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; threads $THREADS;" \
  "iters $ITERS, warmup $WARMUP"

# --- one benchmark at a time ------------------------------------------------
if [ "$LOCK" = 1 ] && command -v flock >/dev/null; then
  exec 9>>/tmp/dnngo-bench.lock
  if ! flock -n 9; then
    say "waiting for /tmp/dnngo-bench.lock (another benchmark is running)"
    flock 9
  fi
fi

if [ -n "$KEEP" ]; then
  mkdir -p "$KEEP"; WORK="$(cd "$KEEP" && pwd)"
else
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/dnngo-compare.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
fi
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"

if [ "$WITH_C" = 1 ]; then
  say "oneDNN from C: build, then check its logits against PyTorch's (same weights, LRN alpha 5e-4 and 1)"
  cc -O2 -Wall -fopenmp -o "$WORK/onednn_alexnet" "$HERE/onednn_alexnet.c" -ldnnl -lm ||
    die "cannot build onednn_alexnet.c (cc -O2 -fopenmp ... -ldnnl -lm)"
  for a in 5e-4 1; do
    py "$HERE/torch_alexnet.py" --threads "$THREADS" --lrn-alpha "$a" --dump-raw "$WORK/raw-$a" | tail -n 1
    for v in $C_VARIANTS; do
      prec="${v%%:*}" fc6="${v#*:}" flags=()
      [ "$prec" = bf16 ] && flags+=(--bf16)
      [ "$prec" = wino ] && flags+=(--wino)
      "$WORK/onednn_alexnet" --threads "$THREADS" --check "$WORK/raw-$a" --lrn-alpha "$a" --fc6 "$fc6" \
        "${flags[@]+"${flags[@]}"}" || die "oneDNN-from-C's logits ($v) differ from PyTorch's: not timing it"
    done
    rm -rf "$WORK/raw-$a"
  done
fi

if [ "$ONLY_C" = 0 ]; then
say "export to ONNX (opset 13, dynamic batch) in $WORK"
py "$HERE/torch_alexnet.py" --threads "$THREADS" --lrn-alpha "$LRN_ALPHA" \
  --export "$WORK/alexnet_lrn.onnx" --export-decomposed "$WORK/alexnet_lrn_decomposed.onnx"

say "check: ONNX Runtime outputs vs PyTorch on the same input"
(cd "$HERE" && node ort_alexnet.mjs --threads "$THREADS" --check "$WORK/checks.json") ||
  die "ONNX Runtime's outputs differ from PyTorch's: not benchmarking a different network"

say "PyTorch ($TORCH_CASES)"
py "$HERE/torch_alexnet.py" --threads "$THREADS" --lrn-alpha "$LRN_ALPHA" \
  --iters "$ITERS" --warmup "$WARMUP" --cases "$TORCH_CASES" --jsonl "$RESULTS"

for v in lrn decomposed; do
  model="$WORK/alexnet_lrn.onnx" variant=lrn-onnx-op
  [ "$v" = lrn ] || { model="$WORK/alexnet_lrn_decomposed.onnx"; variant=lrn-decomposed; }
  say "ONNX Runtime, $variant ($ORT_CASES)"
  (cd "$HERE" && node ort_alexnet.mjs --model "$model" --variant "$variant" --threads "$THREADS" \
    --iters "$ITERS" --warmup "$WARMUP" --cases "$ORT_CASES" --jsonl "$RESULTS")
done
fi

if [ "$WITH_C" = 1 ]; then
  for v in $C_VARIANTS; do
    prec="${v%%:*}" fc6="${v#*:}" flags=()
    [ "$prec" = bf16 ] && flags+=(--bf16)
    [ "$prec" = wino ] && flags+=(--wino)
    say "oneDNN from C, $prec, fc6 $fc6 (forward, batch $C_BATCHES)"
    "$WORK/onednn_alexnet" --threads "$THREADS" --iters "$ITERS" --warmup "$WARMUP" --batches "$C_BATCHES" \
      --fc6 "$fc6" "${flags[@]+"${flags[@]}"}" --jsonl "$RESULTS"
  done
fi

if [ "$RUN_DNNGO" = 1 ]; then
  command -v go >/dev/null || die "--run-dnngo: no go on PATH"
  say "dnngo: go test -tags '$GO_TAGS' -run '^\$' -bench '$GO_BENCH' -benchtime 1x -count $ITERS ./bench"
  # -benchtime 1x -count K: K samples of one batch each, after the benchmark's
  # own untimed first pass: the method of the two scripts above.
  (cd "$ROOT" && go test -tags "$GO_TAGS" -run '^$' -bench "$GO_BENCH" -benchtime 1x -count "$ITERS" ./bench) |
    tee "$WORK/dnngo_bench.txt"
  DNNGO_FILES+=("$WORK/dnngo_bench.txt")
fi

say "AlexNet (Seed) throughput, $(nproc) cores, medians of $ITERS runs (min/max over the runs)"
GO_ARGS=()
for f in "${DNNGO_FILES[@]+"${DNNGO_FILES[@]}"}"; do GO_ARGS+=(--go "$f"); done
"$PYTHON" "$HERE/table.py" "$RESULTS" "${GO_ARGS[@]+"${GO_ARGS[@]}"}" | tee "$WORK/table.txt"
[ -z "$KEEP" ] || echo "results, models and logs kept in $WORK"
