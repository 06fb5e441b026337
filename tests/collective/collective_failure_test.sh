#!/usr/bin/env bash
# A group member's rank is SIGKILLed mid-AllReduce (or, mode "stream", mid large Broadcast or
# AllGather). Checks: the survivors' calls raise in time and a re-created group works (the
# program says COLLECTIVE-FAILURE-TEST-PASSED); the victim died of SIGKILL; the driver exits 0;
# no process of the job is left.
# usage: collective_failure_test.sh <mpiexec> <program> <ranks> [allreduce|stream]
set -uo pipefail
test_name=collective_failure_test
mpiexec=$1 program=$2 ranks=$3 mode=${4:-allreduce}
source "$(dirname "$0")/../runtime/recovery_job.sh"
run_recovery_job "$mpiexec" "$ranks" "$program" "$mode"

grep -q "COLLECTIVE-FAILURE-TEST-PASSED" "$work/out" || fail "the driver's checks failed"
victim=$((ranks - 1))
[ "$(exit_code_of "$victim")" = 137 ] || fail "the victim rank $victim did not die of SIGKILL"
[ "$(exit_code_of 0)" = 0 ] || fail "the driver exited with $(exit_code_of 0)"
no_process_left "$program" || fail "processes of the job are still running"
echo "$test_name: PASSED"
