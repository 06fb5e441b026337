#!/usr/bin/env bash
# The driver is SIGKILLed mid-run under `mpirun --enable-recovery`. Checks: every scheduler rank
# exits by itself with code 1 within 30 s, and no process of the job remains.
# usage: driver_failure_test.sh <mpiexec> <program> <ranks>
set -uo pipefail
mpiexec=$1 program=$2 ranks=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/rank.sh" <<'INNER'
#!/bin/sh
"$@"
echo $? > "$EXITS/$OMPI_COMM_WORLD_RANK"
INNER
chmod +x "$work/rank.sh"
mkdir -p "$work/exits"
start=$(date +%s)
EXITS="$work/exits" timeout 60 "$mpiexec" --enable-recovery --oversubscribe --bind-to none -x EXITS \
  -n "$ranks" "$work/rank.sh" "$program" > "$work/out" 2>&1
elapsed=$(( $(date +%s) - start ))
cat "$work/out"
fail() { echo "driver_failure_test: FAILED: $*"; exit 1; }
grep -q "driver dies now" "$work/out" || fail "the driver did not reach the point of failure"
[ "$(cat "$work/exits/0" 2>/dev/null)" = 137 ] || fail "the driver did not die of SIGKILL"
for r in $(seq 1 $((ranks - 1))); do
  code=$(cat "$work/exits/$r" 2>/dev/null || echo missing)
  [ "$code" = 1 ] || fail "rank $r exited with '$code', expected 1 (its driver died)"
done
[ "$elapsed" -le 30 ] || fail "the job took $elapsed s to end"
for _ in $(seq 1 50); do
  pgrep -f "^$program" > /dev/null || break
  sleep 0.1
done
pgrep -af "^$program" && fail "processes of the job are still running"
echo "driver_failure_test: PASSED in ${elapsed} s"
