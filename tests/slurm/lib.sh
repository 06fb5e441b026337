# shellcheck shell=bash
# Sourced by the slurm test scripts. Skips (exit 77) when the local cluster cannot run here,
# fails when it should be up but is not, and moves into a fresh work directory.
# env (set by tests/slurm/CMakeLists.txt): SLURM_CONF BUILD_BIN_DIR TEST_WORK_DIR SOURCE_DIR
#                                          SLURM_CLUSTER_SCRIPT
set -euo pipefail

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

"$SLURM_CLUSTER_SCRIPT" check || exit $?
[[ -f "$SLURM_CONF" ]] || fail "no cluster: $SLURM_CONF is missing (did slurm_cluster_up pass?)"
rm -rf "$TEST_WORK_DIR"
mkdir -p "$TEST_WORK_DIR"
cd "$TEST_WORK_DIR"
export PRISM_SESSION_ROOT=$TEST_WORK_DIR/sessions

# Runs an sbatch script to its end (at most $1 seconds): sbatch_wait SECONDS OUTPUT SCRIPT [ARGS]
# Prints the job's output; returns the job's exit code. (It polls squeue every 0.2 s rather
# than using `sbatch --wait`, which polls every few seconds: 10 s for a 1-second job.)
sbatch_wait() {
  local limit=$1 output=$2
  shift 2
  local id
  id=$(sbatch --parsable --chdir="$TEST_WORK_DIR" --output="$output" "$@") || return 1
  id=${id%%;*}
  local deadline=$((SECONDS + limit))
  while [[ -n "$(squeue -h -j "$id" -o %i 2>/dev/null)" ]]; do
    if [[ $SECONDS -ge $deadline ]]; then
      scancel --quiet "$id" || true
      echo "job $id ($*) did not finish within $limit s" >&2
      return 124
    fi
    sleep 0.2
  done
  echo "---- $output" >&2
  cat "$output" >&2 || true
  # MinJobAge=60 keeps the finished job in slurmctld: ExitCode=<code>:<signal>.
  local exit_code
  exit_code=$(scontrol show job "$id" | grep -o 'ExitCode=[0-9]*:[0-9]*' | head -n 1)
  echo "job $id: $(scontrol show job "$id" | grep -o 'JobState=[A-Z]*') $exit_code" >&2
  [[ "$exit_code" == ExitCode=0:0 ]] && return 0
  local code=${exit_code#ExitCode=}
  code=${code%%:*}
  return $((code == 0 ? 1 : code))
}
