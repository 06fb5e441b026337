#!/usr/bin/env bash
# Builds and runs, in one go on a GPU machine, the GPU checks of the collectives: the NCCL
# backend's tests (tests/collective/nccl_test.cc) and an AllReduce bus-bandwidth sweep
# (allreduce_busbw.cc). Output: the test log and the sweep table on stdout, a copy under $OUT
# (or ./gpu-results) as gpu_checks.log.
#
#   benchmarks/gpu/run_gpu_checks.sh [build-dir=build-gpu] [max-bytes=1073741824]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-gpu}
max_bytes=${2:-1073741824}
out=${OUT:-$root/gpu-results}
mkdir -p "$out"
log=$out/gpu_checks.log
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export PRISM_SESSION_ROOT=${PRISM_SESSION_ROOT:-/tmp/prism-gpu-sessions} PRISM_LOG_CONSOLE_LEVEL=warn
export NCCL_DEBUG=${NCCL_DEBUG:-WARN}
{
  echo "== $(date -u) on $(hostname)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || true
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPRISM_WITH_CUDA=ON \
    -DPRISM_BUILD_TESTS=ON >/dev/null || { echo "configure failed"; exit 1; }
  ninja -C "$build" -j"$(nproc)" prism_collective_nccl_tests prism_allreduce_busbw \
    prism_collective_tests || { echo "build failed"; exit 1; }
  status=0
  echo "== NCCL backend tests"
  mpirun --oversubscribe --bind-to none -n 2 "$build/bin/prism_collective_nccl_tests" || status=1
  echo "== UCX backend tests (2 ranks), for comparison on this machine"
  mpirun --oversubscribe --bind-to none -n 2 "$build/bin/prism_collective_tests" || status=1
  echo "== AllReduce bus bandwidth (NCCL backend)"
  mpirun --oversubscribe --bind-to none -n 1 "$build/bin/prism_allreduce_busbw" "$max_bytes" 8 \
    || status=1
  echo "== done, status $status"
  exit $status
} 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
