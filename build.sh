#!/usr/bin/env bash
# build.sh — build and test dnngo with every backend this machine can compile.
#
#   ./build.sh setup    install the C libraries the optional backends need (apt,
#                       where this machine allows it) and build bin/alexnet with
#                       every backend this machine can build
#   ./build.sh          build everything (go build + go vet) for each tag set
#   ./build.sh test     gofmt check, go vet, go test for each tag set, and
#                       the race detector on the fast packages (what CI runs)
#   ./build.sh tags     print the tag sets this machine can build
#   ./build.sh goldens  generate the PyTorch golden cases into testdata/golden
#                       (git-ignored; the tests use it when ../shared/testdata/golden,
#                       CI's reference copy, is absent); needs python3-torch,
#                       which it installs with apt where this machine allows
#
# Tag sets: "" (pure Go, always), "onednn" when oneDNN's headers and library
# are installed (Debian/Ubuntu: apt-get install -y libdnnl-dev), "cudnn"
# (needs only a C compiler: the CUDA libraries are loaded at run time).
# "mpi" (data-parallel training across processes, package collective) is
# added to the last set when an MPI's mpi.h is found through pkg-config
# mpi-c (Debian/Ubuntu: apt-get install -y libopenmpi-dev openmpi-bin); its
# tests run the packages that use MPI under mpirun -np 2.
set -euo pipefail
cd "$(dirname "$0")"
# go-nvml (used by -tags cudnn) wraps NVML functions that its bundled nvml.h marks deprecated:
# keep those compiler warnings out of the log.
export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g} -Wno-deprecated-declarations"

have_go_files() { compgen -G "backend/$1/*.go" >/dev/null; }

have_onednn() {
  have_go_files onednn || return 1
  printf '#include <dnnl.h>\nint main(void){return dnnl_version()==0;}\n' |
    ${CC:-cc} -x c - -o /dev/null -ldnnl >/dev/null 2>&1
}

have_cudnn() {
  have_go_files cudnn || return 1
  command -v "${CC:-cc}" >/dev/null 2>&1
}

have_mpi() {
  command -v pkg-config >/dev/null 2>&1 || return 1
  local flags
  flags=$(pkg-config --cflags --libs mpi-c 2>/dev/null) || return 1
  printf '#include <mpi.h>\nint main(void){return MPI_Init(0,0);}\n' |
    ${CC:-cc} -x c - -o /dev/null $flags >/dev/null 2>&1
}

# The tag set of the MPI tests: the last set plus mpi ("" when no MPI).
mpi_tags() {
  have_mpi || return 0
  local last
  last=$(tag_sets | tail -n 1)
  echo "${last:+$last,}mpi"
}

tag_sets() {
  echo ""
  local all=()
  if have_onednn; then echo "onednn"; all+=(onednn); fi
  if have_cudnn; then echo "cudnn"; all+=(cudnn); fi
  if [ ${#all[@]} -gt 1 ]; then (IFS=,; echo "${all[*]}"); fi
}

missing_notes() {
  if have_go_files onednn && ! have_onednn; then
    echo "note: oneDNN not found, skipping -tags onednn (install: apt-get install -y libdnnl-dev)" >&2
  fi
  if ! have_mpi; then
    echo "note: MPI not found (pkg-config mpi-c), skipping -tags mpi (install: apt-get install -y libopenmpi-dev openmpi-bin)" >&2
  fi
}

install_deps() {
  command -v apt-get >/dev/null 2>&1 || { echo "note: no apt-get here; install oneDNN (libdnnl) yourself for -tags onednn" >&2; return 0; }
  local pkgs=()
  [ -e /usr/include/dnnl.h ] || pkgs+=(libdnnl-dev)
  command -v "${CC:-cc}" >/dev/null 2>&1 || pkgs+=(gcc libc6-dev)
  have_mpi || pkgs+=(libopenmpi-dev openmpi-bin pkg-config)
  [ ${#pkgs[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "note: not root and no sudo: run 'apt-get install -y ${pkgs[*]}' as root for the oneDNN backend" >&2; return 0
    fi
  fi
  echo "== installing ${pkgs[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

# torch_python prints a Python that imports torch (the one on $PATH, else
# Debian's /usr/bin/python3), or fails.
torch_python() {
  local py
  for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import torch' >/dev/null 2>&1; then
      command -v "$py"; return 0
    fi
  done
  return 1
}

install_torch() {
  command -v apt-get >/dev/null 2>&1 || return 1
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || return 1
    sudo="sudo"
  fi
  echo "== installing python3-torch (Debian's PyTorch, ~185 MB download)"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch >/dev/null
}

cmd=${1:-build}
case "$cmd" in
goldens)
  py=$(torch_python) || { install_torch && py=$(torch_python); } || {
    echo "error: no Python with PyTorch here and it cannot be installed: install it (Debian: apt-get install -y python3-torch, as root), then rerun $0 goldens" >&2
    exit 1
  }
  echo "== $py tools/goldens/gen_goldens.py --out testdata/golden"
  "$py" tools/goldens/gen_goldens.py --out testdata/golden
  echo "the tests now use testdata/golden when ../shared/testdata/golden is absent (or: DNNGO_GOLDEN_DIR=$PWD/testdata/golden go test ./...)"
  ;;
setup)
  install_deps
  missing_notes
  tags=$(tag_sets | tail -n 1) # the last set holds every tag this machine can build
  if have_mpi; then tags=$(mpi_tags); fi
  echo "== go build -tags '${tags}' -o bin/alexnet ./cmd/alexnet"
  go build -tags "$tags" -o bin/alexnet ./cmd/alexnet
  devs=$(bin/alexnet devices 2>/dev/null || true)
  compiled=$(awk '/^  [a-z]+ +(opens|compiled in)/{print $1}' <<<"$devs" | paste -sd, -)
  usable=$(awk '/^  [a-z]+ +opens/{print $1}' <<<"$devs" | paste -sd, -)
  echo "built bin/alexnet: backends compiled in: ${compiled:-none}; usable on this machine: ${usable:-none} (bin/alexnet devices -v says why the others do not open)"
  ;;
tags)
  tag_sets | sed 's/^$/(none: pure Go)/'
  ;;
build)
  missing_notes
  while IFS= read -r tags; do
    echo "== go build/vet -tags '${tags}' ./..."
    go build -tags "$tags" ./...
    go vet -tags "$tags" ./...
  done < <(tag_sets)
  if have_mpi; then
    echo "== go build/vet -tags '$(mpi_tags)' ./..."
    go build -tags "$(mpi_tags)" ./...
    go vet -tags "$(mpi_tags)" ./...
  fi
  ;;
test)
  missing_notes
  unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
  if [ -n "$unformatted" ]; then
    echo "gofmt would change:"; echo "$unformatted"; exit 1
  fi
  # The cudnn backend runs on a test double of libcuda/libcudnn/libcublas
  # (backend/cudnn/testdata/fakecuda: host code written from NVIDIA's
  # documented API, not a GPU), built into a temporary folder that only these
  # commands see; with DNNGO_REQUIRE_FAKECUDA=1 a cudnn test that cannot
  # open it fails instead of skipping.
  fakecuda=()
  if have_cudnn; then
    fakecuda_dir=$(mktemp -d "${TMPDIR:-/tmp}/dnngo-fakecuda.XXXXXX")
    trap 'rm -rf "$fakecuda_dir"' EXIT
    echo "== building the CUDA test double into $fakecuda_dir"
    sh backend/cudnn/testdata/fakecuda/build.sh "$fakecuda_dir"
    fakecuda=(env DNNGO_CUDA_LIB_DIR="$fakecuda_dir" DNNGO_REQUIRE_FAKECUDA=1)
  fi
  while IFS= read -r tags; do
    echo "== go vet -tags '${tags}' ./..."
    go vet -tags "$tags" ./...
    if [ "$tags" = cudnn ]; then
      echo "== go test -tags cudnn ./... on the CUDA test double (immediate mode)"
      "${fakecuda[@]}" go test -count=1 -tags cudnn ./...
      echo "== go test -tags cudnn on the CUDA test double (deferred mode): backend/cudnn, alexnet"
      "${fakecuda[@]}" DNNGO_FAKECUDA_MODE=deferred go test -count=1 -tags cudnn -skip TestSeedStep ./backend/cudnn ./alexnet
    else
      # Other sets run without the double: cudnn's tests must skip cleanly there.
      echo "== go test -tags '${tags}' ./..."
      DNNGO_REQUIRE_FAKECUDA=0 go test -count=1 -tags "$tags" ./...
    fi
  done < <(tag_sets)
  # MPI: the packages that use it, their tests launching mpirun -np 2 by
  # re-executing the test binary (DNNGO_REQUIRE_MPI=1: no silent skip).
  if ! have_mpi && [ "${DNNGO_REQUIRE_MPI:-}" = 1 ]; then
    echo "DNNGO_REQUIRE_MPI=1 but no MPI (pkg-config mpi-c, mpi.h): apt-get install -y libopenmpi-dev openmpi-bin pkg-config" >&2
    exit 1
  fi
  if have_mpi; then
    echo "== go test -tags '$(mpi_tags)' (MPI: collective, data-parallel training)"
    go vet -tags "$(mpi_tags)" ./...
    DNNGO_REQUIRE_MPI=1 go test -count=1 -tags "$(mpi_tags)" ./collective
    DNNGO_REQUIRE_MPI=1 go test -count=1 -tags "$(mpi_tags)" -run MPI ./alexnet ./train ./cmd/alexnet
  fi
  # The benchmarks run (one iteration each) with every backend this machine
  # builds, so that they cannot rot; their numbers here mean nothing.
  all_tags=$(tag_sets | tail -n 1)
  # On the CUDA test double one step runs and no number is printed.
  echo "== go test -tags '${all_tags}' -bench . -benchtime 1x ./bench (smoke)"
  "${fakecuda[@]}" go test -count=1 -tags "$all_tags" -run '^$' -bench . -benchtime 1x ./bench | grep -E '^(Benchmark|ok|FAIL|---)' | tail -n 200
  if have_cudnn; then
    echo "== bench smoke on the CUDA test double (deferred mode)"
    "${fakecuda[@]}" DNNGO_FAKECUDA_MODE=deferred go test -count=1 -tags cudnn -run '^$' -bench '(Forward|TrainStep)/backend=cudnn' -benchtime 1x -v ./bench | grep -E '^(Benchmark|ok|FAIL|---)|test double'
  fi
  # The pure-Go backend without assembly, as on CPUs without AVX2 or
  # with CGO-free static builds that choose -tags purego.
  echo "== go test -tags purego (cpu backend, no assembly)"
  go test -count=1 -tags purego ./backend/cpu/...
  # The race detector on the packages whose tests are quick under it.
  echo "== go test -race (fast packages)"
  go test -count=1 -race ./backend ./backend/all ./backend/cpu/internal/parallel ./backend/cpu/internal/vec ./safetensors
  go test -count=1 -race -run 'TestConformance/.*/(badinput|dropout|sgd|resources|reference)|Allocates' ./backend/cpu
  go test -count=1 -race -skip 'TestFashionMNISTInstalled' ./data/...
  if have_mpi; then
    DNNGO_REQUIRE_MPI=1 go test -count=1 -race -tags mpi ./collective
  fi
  if have_onednn; then
    go test -count=1 -race -tags onednn -run 'TestConformance/(golden|badinput|dropout|sgd|resources)|Allocating|Concurrent' ./backend/onednn
  fi
  if have_cudnn; then
    "${fakecuda[@]}" go test -count=1 -race -tags cudnn -skip 'TestSeedStep' ./backend/cudnn
  fi
  ;;
*)
  echo "usage: $0 [setup|build|test|tags|goldens]" >&2
  exit 2
  ;;
esac
