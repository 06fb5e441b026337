#!/usr/bin/env bash
# Builds Prism and runs its whole test suite: the one command for a fresh clone and for CI.
#   1. installs the Debian packages (scripts/install-deps.sh --with-slurm; root or sudo)
#   2. configures the `ci` preset (RelWithDebInfo, -Werror) into build/
#   3. builds everything with all cores
#   4. runs `ctest --preset ci` (every test, each under its own time limit) and sums up
#
# usage: scripts/test.sh [ctest args...]
#   scripts/test.sh                  the whole suite
#   scripts/test.sh -L unit          only the unit tests (any ctest option passes through)
#   scripts/test.sh -R hostlist -V
# env:
#   TEST_TIMEOUT   limit in seconds for a test that sets none itself (default 600)
#   SKIP_DEPS=1    do not run install-deps.sh (no root needed)
#   CCACHE_DIR     compiler cache (default build/.ccache)
# Results: build/test-logs/ctest.log (the full output), build/test-logs/junit.xml.
# Safe to run again: it reuses build/ and only rebuilds what changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
build=$root/build
test_timeout=${TEST_TIMEOUT:-600}
start=$SECONDS

current_phase=""
phase() {
  current_phase=$1
  printf '\n==> [%4ds] %s\n' "$((SECONDS - start))" "$*"
}
# A failing step before the tests (set -e) still ends with a one-line verdict.
on_exit() {
  local rc=$?
  if [[ $rc -ne 0 && "$current_phase" != test:* ]]; then
    echo
    echo "RESULT: FAILED in ${current_phase%%:*} after $((SECONDS - start))s (exit code $rc)"
  fi
}
trap on_exit EXIT

phase "dependencies: scripts/install-deps.sh --with-slurm"
if [[ "${SKIP_DEPS:-0}" == 1 ]]; then
  echo "skipped (SKIP_DEPS=1)"
else
  ./scripts/install-deps.sh --with-slurm
fi
echo "$(cmake --version | head -1); $(c++ --version | head -1); $(mpirun --version 2>&1 | head -1)"
deps_done=$SECONDS

export CCACHE_DIR=${CCACHE_DIR:-$build/.ccache}
mkdir -p "$CCACHE_DIR" "$build/test-logs"
# The MPI tests run ranks as root on CI machines (ENV.md section 3).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

./scripts/reset-stale-build.sh "$build"

phase "configure: cmake --preset ci"
cmake --preset ci
configure_done=$SECONDS

phase "build: cmake --build --preset ci -j $(nproc)"
cmake --build --preset ci -j "$(nproc)"
build_done=$SECONDS

phase "test: ctest --preset ci --timeout $test_timeout $*"
rm -f "$build/Testing/Temporary/LastTestsFailed.log"
set +e
ctest --preset ci --timeout "$test_timeout" --output-junit "$build/test-logs/junit.xml" "$@" 2>&1 |
  tee "$build/test-logs/ctest.log"
ctest_rc=${PIPESTATUS[0]}
set -e
test_done=$SECONDS

echo
echo "================================ Prism test summary ================================"
printf 'deps %ds   configure %ds   build %ds   tests %ds   total %ds\n' \
  "$((deps_done - start))" "$((configure_done - deps_done))" "$((build_done - configure_done))" \
  "$((test_done - build_done))" "$((test_done - start))"
grep -E '^[0-9]+% tests passed' "$build/test-logs/ctest.log" || true
if [[ $ctest_rc -ne 0 ]]; then
  failed=$build/Testing/Temporary/LastTestsFailed.log
  if [[ -s "$failed" ]]; then
    echo "failed tests (rerun one: scripts/test.sh -R '^NAME\$' -V):"
    sed 's/^[0-9]*:/  /' "$failed"
  fi
  echo "full output: build/test-logs/ctest.log   JUnit: build/test-logs/junit.xml"
  echo "RESULT: FAILED (ctest exit code $ctest_rc)"
  exit "$ctest_rc"
fi
echo "RESULT: PASSED"
