#!/usr/bin/env bash
# Signals end a job gracefully (docs/placement.md). Two runs:
#   1. SIGTERM to the driver alone (a user's kill): the driver shuts the job down and exits with
#      143 (128 + 15); the other ranks leave in order (0) or, if the signal raced their
#      shutdown, with 143.
#   2. SIGUSR1 to every rank (Slurm's `--signal=USR1@<s>` warning, or scancel's SIGTERM): every
#      rank exits with 138 (128 + 10) or, for a scheduler rank the driver's shutdown reached
#      first, 0.
# Both: the job ends within 20 s of the signal, the logs say which signal came, every rank had
# spilled and no spill file remains, logs stay, and no process of the job is left.
# usage: signal_test.sh <mpiexec> <program> <ranks>
set -uo pipefail
test_name=signal_test
mpiexec=$1 program=$2 ranks=$3
source "$(dirname "$0")/recovery_job.sh"
export PRISM_OBJECT_STORE_MEMORY=$((4 << 20))

# run_case <signal name> <signal number> <all|driver>
run_case() {
  local name=$1 number=$2 whom=$3
  rm -rf "$work/exits" "$work/out"
  run_recovery_job "$mpiexec" "$ranks" "$program" > /dev/null &
  local job=$!
  local pid=""
  for _ in $(seq 1 600); do
    pid=$(sed -n 's/^ready pid \([0-9]*\)$/\1/p' "$work/out" 2>/dev/null)
    [ -n "$pid" ] && break
    sleep 0.1
  done
  [ -n "$pid" ] || { cat "$work/out"; fail "$name: the job never got ready"; }
  local start_ms
  start_ms=$(date +%s%3N)
  if [ "$whom" = all ]; then
    pkill "-$name" -f "^$program" || fail "$name: no process to signal"
  else
    kill "-$name" "$pid" || fail "$name: cannot signal the driver $pid"
  fi
  wait "$job"
  local took=$(($(date +%s%3N) - start_ms))
  cat "$work/out" | grep -v "PMIX ERROR"
  echo "$test_name: $name to $whom: the job ended ${took} ms after the signal"
  [ "$took" -le 20000 ] || fail "$name: the job took $took ms to end"
  grep -q "the signal never came" "$work/out" && fail "$name: the driver ran to its end"
  [ "$(exit_code_of 0)" = $((128 + number)) ] ||
    fail "$name: the driver exited with '$(exit_code_of 0)', expected $((128 + number))"
  for r in $(seq 1 $((ranks - 1))); do
    case "$(exit_code_of "$r")" in
      0 | $((128 + number))) ;;
      *) fail "$name: rank $r exited with '$(exit_code_of "$r")'" ;;
    esac
  done
  no_process_left "$program" || fail "$name: processes of the job are still running"
  local session
  session=$(sed -n 's/^session //p' "$work/out")
  grep -q "SIG$name received" "$session/logs/rank-0.log" || fail "$name: the driver's log does not name the signal"
  for r in $(seq 0 $((ranks - 1))); do
    [ -s "$session/logs/rank-$r.log" ] || fail "$name: the log of rank $r is missing"
    grep -q "Spilled" "$session/logs/rank-$r.log" || fail "$name: rank $r spilled nothing"
  done
  if [ -e "$session/spill" ]; then
    find "$session/spill" | head
    fail "$name: spill files remain in $session/spill"
  fi
}

run_case TERM 15 driver
run_case USR1 10 all
echo "$test_name: PASSED"
