#!/usr/bin/env bash
# PG-20: a rank holding a placement-group bundle is SIGKILLed; the bundle is placed again on a
# live rank (the program says PG-RESCHEDULE-TEST-PASSED), the driver exits 0, no process is left.
# usage: pg_rank_failure_test.sh <mpiexec> <program> <ranks>
set -uo pipefail
test_name=pg_rank_failure_test
mpiexec=$1 program=$2 ranks=$3
source "$(dirname "$0")/recovery_job.sh"
run_recovery_job "$mpiexec" "$ranks" "$program"

grep -q "PG-RESCHEDULE-TEST-PASSED" "$work/out" || fail "the driver's checks failed"
[ "$(exit_code_of 0)" = 0 ] || fail "the driver exited with $(exit_code_of 0)"
no_process_left "$program" || fail "processes of the job are still running"
echo "$test_name: PASSED"
