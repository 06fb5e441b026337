#!/usr/bin/env bash
# `prism memory` against a running 2-rank job: the summary of every rank comes back through the
# job's session directory; bad options and a missing job give clear errors.
# usage: prism_memory_test.sh PRISM MEMORY_JOB WORK_DIR
set -euo pipefail
prism=$1
job=$2
work=$3
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
rm -rf "$work"
mkdir -p "$work"
cd "$work"
export PRISM_SESSION_ROOT=$work/sessions

"$prism" memory --help | grep -q -- '--session' || fail "prism memory --help"
rc=0
"$prism" memory --timeout abc 2>err.txt || rc=$?
{ [[ $rc -eq 2 ]] && grep -q -- "--timeout 'abc'" err.txt; } || fail "bad --timeout: $rc"
rc=0
"$prism" memory 2>err.txt || rc=$?
{ [[ $rc -eq 1 ]] && grep -q 'no running Prism job' err.txt; } || fail "no job: $rc $(cat err.txt)"

mpirun --oversubscribe --bind-to none -n 2 "$job" "$work" >job.out 2>&1 &
pid=$!
trap 'touch "$work/stop"; wait $pid || true' EXIT
for _ in $(seq 1 300); do
  [[ -s ready ]] && break
  kill -0 $pid 2>/dev/null || fail "the job ended early: $(cat job.out)"
  sleep 0.1
done
[[ -s ready ]] || fail "the job did not start"

"$prism" memory --timeout 20 >summary.txt || fail "prism memory: $(cat summary.txt)"
cat summary.txt
grep -q "^session $(head -1 ready)$" summary.txt || fail "not the job's session"
grep -Eq '^ +0 ' summary.txt || fail "no line for rank 0"
grep -Eq '^ +1 ' summary.txt || fail "no line for rank 1"
grep -q 'Aggregate object store stats' summary.txt || fail "no totals"
grep -Eq '^ +0 .* 4\.0 MiB' summary.txt || fail "rank 0 does not show its 4 MiB object"
"$prism" memory --session "$(head -1 ready)" --timeout 20 | grep -q 'LOCAL_REFERENCE' ||
  fail "--session"

touch stop
trap - EXIT
wait $pid || fail "the job failed: $(cat job.out)"
echo "PASS"
