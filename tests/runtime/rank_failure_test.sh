#!/usr/bin/env bash
# A scheduler rank is SIGKILLed mid-run. Checks: the driver's pending Gets raise in time (the
# program says RANK-FAILURE-TEST-PASSED); the job ends failed (the session status file, and the
# survivors' exit codes); no process of the job is left.
# usage: rank_failure_test.sh <mpiexec> <program> <ranks>
set -uo pipefail
test_name=rank_failure_test
mpiexec=$1 program=$2 ranks=$3
source "$(dirname "$0")/recovery_job.sh"
run_recovery_job "$mpiexec" "$ranks" "$program"

grep -q "RANK-FAILURE-TEST-PASSED" "$work/out" || fail "the driver's checks failed"
victim=$((ranks - 1))
[ "$(exit_code_of "$victim")" = 137 ] || fail "the victim rank $victim did not die of SIGKILL"
[ "$(exit_code_of 0)" = 0 ] || fail "the driver exited with $(exit_code_of 0)"
for r in $(seq 1 $((ranks - 2))); do
  [ "$(exit_code_of "$r")" = 1 ] || fail "survivor rank $r exited with '$(exit_code_of "$r")', expected 1 (the job lost a rank)"
done
session=$(sed -n 's/^session //p' "$work/out")
status=$(cat "$session/status" 2>/dev/null)
case "$status" in
  failed:*"$victim"*) echo "job status: $status" ;;
  *) fail "session status is '$status', expected failed naming rank $victim" ;;
esac
no_process_left "$program" || fail "processes of the job are still running"
echo "$test_name: PASSED"
