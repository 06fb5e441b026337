#!/usr/bin/env bash
# The driver is SIGKILLed mid-run, after every rank has spilled objects. Checks: every scheduler
# rank exits by itself with code 1 within 30 s of the driver's death (the time is printed), and
# nothing of the job remains: no process, no spill directory (the driver's included: the
# survivors on its host remove it), no shared-memory segment in /dev/shm (Open MPI's
# vader_segment.*.<job>.*, or any other new entry no live process maps). Logs and the status
# file stay: status says the driver died.
# usage: driver_failure_test.sh <mpiexec> <program> <ranks>
set -uo pipefail
test_name=driver_failure_test
mpiexec=$1 program=$2 ranks=$3
source "$(dirname "$0")/recovery_job.sh"

# A small store, so that every rank spills.
export PRISM_OBJECT_STORE_MEMORY=$((4 << 20))
ls /dev/shm 2>/dev/null | sort > "$work/shm_before"
run_recovery_job "$mpiexec" "$ranks" "$program"
end_ms=$(date +%s%3N)

grep -q "driver dies now" "$work/out" || fail "the driver did not reach the point of failure"
[ "$(exit_code_of 0)" = 137 ] || fail "the driver did not die of SIGKILL"
for r in $(seq 1 $((ranks - 1))); do
  [ "$(exit_code_of "$r")" = 1 ] || fail "rank $r exited with '$(exit_code_of "$r")', expected 1 (its driver died)"
done
death_ms=$(sed -n 's/^driver dies now at \([0-9]*\)$/\1/p' "$work/out")
[ -n "$death_ms" ] || fail "the driver did not print when it died"
exit_ms=$((end_ms - death_ms))
echo "$test_name: the survivors were gone ${exit_ms} ms after the driver's SIGKILL"
[ "$exit_ms" -le 30000 ] || fail "the survivors took $exit_ms ms to leave"
no_process_left "$program" || fail "processes of the job are still running"

session=$(sed -n 's/^session //p' "$work/out")
[ -d "$session/logs" ] || fail "no session directory '$session' with logs"
for r in $(seq 0 $((ranks - 1))); do
  [ -s "$session/logs/rank-$r.log" ] || fail "the log of rank $r is missing"
done
for r in $(seq 0 $((ranks - 1))); do
  grep -q "Spilled" "$session/logs/rank-$r.log" || fail "rank $r spilled nothing: the test proves nothing about its spill files"
done
if [ -e "$session/spill" ]; then
  find "$session/spill" | head
  fail "spill files remain in $session/spill"
fi
status=$(cat "$session/status" 2>/dev/null)
[ "$status" = "failed: the driver (rank 0) died" ] || fail "session status is '$status'"

# Shared memory: Open MPI's segments carry the job id (hex), which the session name gives.
jobid=$(basename "$session" | sed -n 's/^session_ompi-\([0-9]*\)_.*/\1/p')
if [ -n "$jobid" ]; then
  hex=$(printf '%x' "$jobid")
  if ls /dev/shm 2>/dev/null | grep -q "\.$hex\."; then
    ls -l /dev/shm | grep "\.$hex\."
    fail "shared-memory segments of job $hex remain"
  fi
fi
# Any other new /dev/shm entry that no live process maps is a leak (entries of other jobs that
# run at the same time are mapped by their processes).
leaked=""
for entry in $(comm -13 "$work/shm_before" <(ls /dev/shm 2>/dev/null | sort) 2>/dev/null); do
  [ -e "/dev/shm/$entry" ] || continue
  grep -qs "/dev/shm/$entry" /proc/[0-9]*/maps && continue
  leaked="$leaked $entry"
done
[ -z "$leaked" ] || fail "unmapped shared-memory entries remain:$leaked"
echo "$test_name: PASSED in ${exit_ms} ms"
