#!/usr/bin/env bash
# bench/gpu/run.sh — the cuDNN backend's GPU check, in one call.
#
#   bench/gpu/run.sh stage   HERE (Go, a C compiler, ../shared): build the test
#                            binary (conformance, loader, precision tests and the
#                            Seed benchmarks) with -tags cudnn, stage the golden
#                            data, check the Python side's syntax. Everything
#                            lands in bench/gpu/stage/ (git-ignored): carry it.
#   bench/gpu/run.sh gpu     THERE (the GPU machine: NVIDIA driver, headers,
#                            PyTorch; no Go): header check, conformance suite,
#                            Seed forward (b64, b256) and training step (b128) in
#                            each precision, the same network in PyTorch, one
#                            table with ratios; the conformance suite once
#                            more under compute-sanitizer memcheck when it is
#                            there (up to 4 more minutes). Results under $OUT
#                            (or bench/gpu/stage/out).
#   bench/gpu/run.sh memcheck  only the memcheck step.
#
# See bench/gpu/README.md for the one device call.
set -uo pipefail
cd "$(dirname "$0")/../.."
STAGE=bench/gpu/stage

stage() {
  set -e
  rm -rf "$STAGE"
  mkdir -p "$STAGE/golden"
  echo "== building the test binary (go test -c -tags cudnn ./backend/cudnn)"
  CGO_CFLAGS="${CGO_CFLAGS:--O2} -Wno-deprecated-declarations" go test -c -tags cudnn -ldflags='-s -w' -o "$STAGE/cudnn.test" ./backend/cudnn
  echo "== staging the golden data"
  gold="${DNNGO_GOLDEN_DIR:-../shared/testdata/golden}"
  cp "$gold"/*.safetensors "$gold"/README.md "$STAGE/golden/"
  echo "== checking the Python side"
  python3 -m py_compile bench/gpu/torch_alexnet.py bench/gpu/table.py
  rm -rf bench/gpu/__pycache__
  git rev-parse --short HEAD > "$STAGE/commit" 2>/dev/null || true
  du -sh "$STAGE"
  echo "staged: carry bench/gpu/stage, then run: bash bench/gpu/run.sh gpu"
}

# headers lists -I flags for the folders that hold cuda.h, cudnn.h and
# cublas_v2.h (toolkit or pip wheels).
headers() {
  local site
  site=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null)
  local roots=(/usr/local/cuda/include /usr/local/cuda/targets/x86_64-linux/include /usr/include
    "$site/nvidia/cudnn/include" "$site/nvidia/cu13/include" "$site/nvidia/cublas/include"
    "$site/nvidia/cuda_runtime/include")
  local h r flags=()
  for h in cuda.h cudnn.h cublas_v2.h library_types.h cuda_runtime_api.h; do
    for r in "${roots[@]}"; do
      if [ -f "$r/$h" ]; then flags+=("-I$r"); break; fi
    done
  done
  printf '%s\n' "${flags[@]}" | awk '!seen[$0]++' | tr '\n' ' '
}

# memcheck runs the conformance suite once more under NVIDIA's
# compute-sanitizer (memcheck: out-of-bounds and misaligned device accesses,
# leaks of device memory) when the GPU machine has it; absent, it says so
# and passes.
memcheck() {
  OUT=${OUT:-$STAGE/out}
  mkdir -p "$OUT"
  local cs
  cs=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda-*/bin/compute-sanitizer 2>/dev/null | head -n 1)
  if [ -z "$cs" ]; then
    echo "== 2b. compute-sanitizer not found: memcheck skipped"
    return 0
  fi
  echo "== 2b. conformance suite under $cs --tool memcheck"
  (cd backend/cudnn && DNNGO_GOLDEN_DIR="$PWD/../../$STAGE/golden" timeout "${MEMCHECK_TIMEOUT:-240}" "$cs" --tool memcheck \
    --leak-check full --error-exitcode 3 ../../"$STAGE"/cudnn.test -test.count=1 -test.run 'TestConformance' \
    -test.timeout=230s) >"$OUT/memcheck.log" 2>&1
  local rc=$?
  grep -E 'ERROR SUMMARY|LEAK SUMMARY|^--- FAIL|^(ok|FAIL|PASS)' "$OUT/memcheck.log" | tail -n 10
  echo "memcheck: exit $rc (full log memcheck.log)"
  return $rc
}

gpu() {
  OUT=${OUT:-$STAGE/out}
  mkdir -p "$OUT"
  [ -x "$STAGE/cudnn.test" ] || { echo "no $STAGE/cudnn.test: run 'bench/gpu/run.sh stage' here and carry bench/gpu/stage"; exit 2; }
  local start=$SECONDS status=0
  {
    echo "== machine"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())' 2>&1
    echo "dnngo commit $(cat $STAGE/commit 2>/dev/null)"
  } | tee "$OUT/machine.txt"

  echo "== 1. header check: include/dnngo_cuda.h against NVIDIA's headers"
  local inc
  inc=$(headers)
  echo "cc -std=c11 $inc -Iinclude include/check/headercheck.c"
  if cc -std=c11 -w $inc -Iinclude include/check/headercheck.c -o "$OUT/headercheck" >"$OUT/headercheck.log" 2>&1 && "$OUT/headercheck" | tee -a "$OUT/headercheck.log"; then
    :
  else
    status=1
    echo "headercheck: FAIL"; grep -m 20 -E 'error|assert' "$OUT/headercheck.log"
  fi

  echo "== 2. tests on the GPU: loader, conformance suite (golden, gradients, reference, bad input, dropout, SGD, resources), precisions"
  local test=(../../"$STAGE"/cudnn.test -test.count=1 -test.v -test.timeout=240s)
  (cd backend/cudnn && DNNGO_GOLDEN_DIR="$PWD/../../$STAGE/golden" "${test[@]}") >"$OUT/tests.log" 2>&1
  local trc=$?
  if grep -q -- '--- SKIP: TestConformance' "$OUT/tests.log"; then
    # The search did not find the libraries by itself: say why, then retry with
    # the wheel folders named explicitly (the loader's error lists every place).
    grep -m1 -A1 -- '--- SKIP: TestConformance' "$OUT/tests.log"
    local site
    site=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    export DNNGO_CUDA_LIB_DIR="$site/nvidia/cudnn/lib:$site/nvidia/cu13/lib:$site/nvidia/cublas/lib"
    echo "retrying with DNNGO_CUDA_LIB_DIR=$DNNGO_CUDA_LIB_DIR"
    (cd backend/cudnn && DNNGO_GOLDEN_DIR="$PWD/../../$STAGE/golden" "${test[@]}") >"$OUT/tests.log" 2>&1
    trc=$?
  fi
  grep -E '^(=== RUN|\s*--- (PASS|FAIL|SKIP)).*Test[A-Za-z]+$|^--- (FAIL|SKIP)|cudnn on |rel err .*tol' "$OUT/tests.log" | grep -vE '=== RUN' | grep -E 'FAIL|SKIP|cudnn on|^--- ' | head -40
  echo "tests: $(grep -c -- '--- PASS' "$OUT/tests.log") passed, $(grep -c -- '--- FAIL' "$OUT/tests.log") failed, $(grep -c -- '--- SKIP' "$OUT/tests.log") skipped (exit $trc; full log tests.log)"
  [ $trc -eq 0 ] || status=1

  memcheck || status=1

  echo "== 3. dnngo Seed network: forward b64/b256, training step b128, each precision ($((SECONDS - start)) s so far)"
  (cd backend/cudnn && ../../"$STAGE"/cudnn.test -test.run '^$' -test.bench 'Seed' -test.benchtime "${ITERS:-20}x" -test.timeout=150s) 2>&1 | tee "$OUT/dnngo_bench.txt" | grep -E 'images/s|FAIL|panic|Error' || status=1

  echo "== 4. PyTorch, same network and precisions, cudnn.benchmark=True ($((SECONDS - start)) s so far)"
  PYTHONUNBUFFERED=1 timeout 150 python3 bench/gpu/torch_alexnet.py --iters "${ITERS:-20}" 2>&1 | tee "$OUT/torch_bench.txt" || status=1

  echo "== 5. dnngo vs PyTorch (images/s; ratio > 1 means dnngo is faster)"
  python3 bench/gpu/table.py "$OUT/dnngo_bench.txt" "$OUT/torch_bench.txt" | tee "$OUT/table.md"
  echo "== done in $((SECONDS - start)) s, status $status; results in $OUT"
  return $status
}

case "${1:-}" in
stage) stage ;;
gpu) gpu ;;
memcheck) memcheck ;;
*)
  sed -n '2,19p' "$0"
  exit 2
  ;;
esac
