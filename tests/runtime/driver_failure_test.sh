#!/usr/bin/env bash
# The driver is SIGKILLed mid-run. Checks: every scheduler rank exits by itself with code 1
# within 30 s, and no process of the job remains.
# usage: driver_failure_test.sh <mpiexec> <program> <ranks>
set -uo pipefail
test_name=driver_failure_test
mpiexec=$1 program=$2 ranks=$3
source "$(dirname "$0")/recovery_job.sh"
start=$(date +%s)
run_recovery_job "$mpiexec" "$ranks" "$program"
elapsed=$(($(date +%s) - start))

grep -q "driver dies now" "$work/out" || fail "the driver did not reach the point of failure"
[ "$(exit_code_of 0)" = 137 ] || fail "the driver did not die of SIGKILL"
for r in $(seq 1 $((ranks - 1))); do
  [ "$(exit_code_of "$r")" = 1 ] || fail "rank $r exited with '$(exit_code_of "$r")', expected 1 (its driver died)"
done
[ "$elapsed" -le 30 ] || fail "the job took $elapsed s to end"
no_process_left "$program" || fail "processes of the job are still running"
echo "$test_name: PASSED in ${elapsed} s"
