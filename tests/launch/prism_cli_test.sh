#!/usr/bin/env bash
# The `prism` command end to end outside Slurm (mpirun): help, bad flags, a Prism program, the
# job's exit status with and without recovery, and a forwarded signal.
# usage: prism_cli_test.sh PRISM MONTE_CARLO_PI WORK_DIR
set -euo pipefail
prism=$1
pi=$2
work=$3
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
rm -rf "$work"
mkdir -p "$work"
cd "$work"
# Outside an allocation even when ctest itself runs inside one.
unset SLURM_JOB_ID SLURM_JOBID
export PRISM_SESSION_ROOT=$work/sessions
# prism launch makes its status directory here: the test checks that none is left.
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"

"$prism" --help | grep -q 'prism launch' || fail "prism --help"
"$prism" launch --help | grep -q -- '--cpus-per-rank' || fail "prism launch --help"

rc=0
"$prism" launch -n 0 -- true 2>err.txt || rc=$?
{ [[ $rc -eq 2 ]] && grep -q -- '--ranks' err.txt; } || fail "-n 0: exit $rc, $(cat err.txt)"
rc=0
"$prism" launch --cpus-per-rank=x -- true 2>err.txt || rc=$?
{ [[ $rc -eq 2 ]] && grep -q -- '--cpus-per-rank' err.txt; } || fail "bad --cpus-per-rank: $rc"
rc=0
"$prism" launch --nodes 2 -- true 2>err.txt || rc=$?
{ [[ $rc -eq 2 ]] && grep -q -- '--nodes 2' err.txt; } || fail "--nodes without hosts: $rc"

dry=$("$prism" launch --dry-run -n 3 --head-cpus 0 -- "$pi" 8)
echo "dry run: $dry"
[[ "$dry" == "PRISM_HEAD_CPUS=0 mpirun "*"--bind-to none"*"-n 3 "* ]] || fail "dry run: $dry"

# A Prism program: 4 ranks on this host (oversubscribed on a 2-core machine).
start=$SECONDS
"$prism" launch -n 4 -- "$pi" 8 100000 >pi.out 2>pi.err || { cat pi.out pi.err; fail "pi"; }
echo "monte_carlo_pi, 4 ranks: $((SECONDS - start)) s"
grep -q 'π ≈ 3\.1[0-9]* from 800000 samples in 8 tasks on 4 ranks' pi.out || fail "no pi"

# The job's exit status is rank 0's; mpirun --enable-recovery alone would say 0.
status() {
  local rc=0
  "$prism" launch "$@" >/dev/null 2>&1 || rc=$?
  echo $rc
}
# shellcheck disable=SC2016  # expanded by the rank's shell
by_rank='if [ "$OMPI_COMM_WORLD_RANK" = "$0" ]; then eval "$1"; fi; sleep 0.5; exit 0'
[[ $(status -n 2 -- sh -c "$by_rank" 0 'exit 3') -eq 3 ]] || fail "rank 0's exit 3 was lost"
[[ $(status -n 2 -- sh -c "$by_rank" 0 'kill -9 $$') -eq 137 ]] || fail "rank 0's SIGKILL lost"
# A worker's death: the job goes on with recovery (status 0), is ended without it (137).
[[ $(status -n 2 -- sh -c "$by_rank" 1 'kill -9 $$') -eq 0 ]] || fail "recovery did not keep rank 0"
[[ $(status --no-recovery -n 2 -- sh -c "$by_rank" 1 'kill -9 $$') -eq 137 ]] ||
  fail "without recovery a worker's death is not the job's"
[[ -z "$(find "$TMPDIR" -maxdepth 1 -name "prism-launch.*")" ]] ||
  fail "status directories left in $TMPDIR: $(ls "$TMPDIR")"

# SIGUSR1 to prism reaches every rank (mpirun passes it on): each rank's trap exits 7.
cat >ranks.sh <<'SH'
trap 'exit 7' USR1
touch "ready.$OMPI_COMM_WORLD_RANK"
i=0
while [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
exit 1
SH
"$prism" launch -n 2 -- sh "$work/ranks.sh" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 300); do [[ -e ready.0 && -e ready.1 ]] && break; sleep 0.1; done
kill -USR1 "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc -eq 7 ]] || fail "SIGUSR1: the job ended with $rc, not 7"
echo "PASS prism launch under mpirun"
