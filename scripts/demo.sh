#!/usr/bin/env bash
# Builds and runs Prism's main demo: examples/hello_tasks, monte_carlo_pi (tasks reporting to a
# progress actor), actor_counter and allreduce_sgd (actors training a model with AllReduce), each
# first as a one-rank cluster, then on 4 ranks through `prism launch` (mpirun here, srun inside
# a Slurm allocation).
# usage: scripts/demo.sh     (installs missing Debian packages first: root or sudo)
# env: SKIP_DEPS=1 skips install-deps.sh; CCACHE_DIR (default build/.ccache)
# Safe to run again: it reuses build/ (the `ci` preset, as scripts/test.sh) and only rebuilds
# what changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
build=$root/build
ranks=4

say() { printf '\n==> %s\n' "$*"; }
run() {
  echo "\$ $*"
  timeout 300 "$@"
}

if [[ "${SKIP_DEPS:-0}" != 1 ]]; then
  say "dependencies: scripts/install-deps.sh"
  ./scripts/install-deps.sh
fi
export CCACHE_DIR=${CCACHE_DIR:-$build/.ccache}
mkdir -p "$CCACHE_DIR"
# mpirun refuses to start ranks as root without these (ENV.md section 3).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

./scripts/reset-stale-build.sh "$build"
say "configure: cmake --preset ci"
cmake --preset ci >/dev/null
demos=(hello_tasks monte_carlo_pi actor_counter allreduce_sgd)
say "build: cmake --build --preset ci --target ${demos[*]} prism_command"
cmake --build --preset ci -j "$(nproc)" --target "${demos[@]}" prism_command

for demo in "${demos[@]}"; do
  say "$demo as a one-rank cluster (rank 0 is the driver and runs the tasks and actors itself)"
  run "$build/bin/$demo"
  say "$demo on $ranks ranks (rank 0 drives, all ranks run tasks and actors)"
  run "$build/bin/prism" launch -n "$ranks" --oversubscribe -- "$build/bin/$demo"
done
say "demo done"
