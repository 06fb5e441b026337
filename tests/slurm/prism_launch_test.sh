#!/usr/bin/env bash
# `prism launch` inside an allocation: it goes through srun (direct launch, one srun task per
# rank), runs a Prism program, returns the job's exit status and forwards signals.
# shellcheck source=tests/slurm/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
prism=$BUILD_BIN_DIR/prism
alloc() { timeout 100 salloc --quiet "$@"; }

# 1. The command it runs.
dry=$(alloc -N 2 -n 4 "$prism" launch --dry-run -n 4 -- "$BUILD_BIN_DIR/monte_carlo_pi")
echo "dry run: $dry"
[[ "$dry" == "srun --mpi=pmix -n 4 "* ]] || fail "inside an allocation the command is not srun"

# 2. A Prism program through srun prints pi.
start=$SECONDS
alloc -N 2 -n 4 "$prism" launch -n 4 -- "$BUILD_BIN_DIR/monte_carlo_pi" 8 100000 >pi.out 2>&1 ||
  { cat pi.out; fail "monte_carlo_pi under prism launch failed"; }
cat pi.out
echo "monte_carlo_pi, 4 ranks on 2 nodes: $((SECONDS - start)) s"
grep -q 'π ≈ 3\.1[0-9]* from 800000 samples in 8 tasks on 4 ranks' pi.out ||
  fail "no estimate of pi from 4 ranks"

# 3. Each rank is its own srun task of one step (under mpirun they would all be task 0).
alloc -N 2 -n 4 "$prism" launch -n 4 -- "$BUILD_BIN_DIR/rank_env_report" >tasks.out
cat tasks.out
[[ $(grep -o '^task=[0-9]*' tasks.out | sort -u | wc -l) -eq 4 ]] || fail "not 4 srun tasks"
[[ $(grep -o 'step=[0-9]*' tasks.out | sort -u | wc -l) -eq 1 ]] || fail "not one step"
[[ $(grep -o 'node=n[0-9]*' tasks.out | sort -u | wc -l) -eq 2 ]] || fail "not on 2 nodes"

# 4. The job's exit status comes back.
rc=0
alloc -N 1 -n 2 "$prism" launch -n 2 -- sh -c 'exit 3' || rc=$?
[[ $rc -eq 3 ]] || fail "exit status 3 came back as $rc"

# 5. SIGUSR1 sent to prism reaches every rank (srun passes it on): each rank's trap exits 7.
cat >ranks.sh <<'SH'
trap 'exit 7' USR1
touch "ready.$SLURM_PROCID"
i=0
while [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
exit 1
SH
cat >signal.sh <<SH
"$prism" launch -n 2 -- sh "$TEST_WORK_DIR/ranks.sh" &
pid=\$!
for _ in \$(seq 1 300); do [ -e ready.0 ] && [ -e ready.1 ] && break; sleep 0.1; done
kill -USR1 \$pid
wait \$pid
SH
rc=0
alloc -N 1 -n 2 bash signal.sh || rc=$?
[[ $rc -eq 7 ]] || fail "SIGUSR1 to prism launch: job ended with $rc, not 7 (each rank's trap)"
echo "PASS prism launch under Slurm"
