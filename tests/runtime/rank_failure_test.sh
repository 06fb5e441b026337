#!/usr/bin/env bash
# A scheduler rank is SIGKILLed mid-run under `mpirun --enable-recovery` (the survivors keep
# running; ../shared/ENV.md §4). Checks: the driver's pending Gets raise in time (the program
# says RANK-FAILURE-TEST-PASSED); the job ends failed (session status file, survivors' exit
# codes are non-zero, since mpirun itself exits 0 under --enable-recovery); no process of the
# job is left.
# usage: rank_failure_test.sh <mpiexec> <program> <ranks>
set -uo pipefail
mpiexec=$1 program=$2 ranks=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Each rank's exit code goes to a file, since mpirun --enable-recovery reports none of them.
cat > "$work/rank.sh" <<'INNER'
#!/bin/sh
"$@"
echo $? > "$EXITS/$OMPI_COMM_WORLD_RANK"
INNER
chmod +x "$work/rank.sh"
mkdir -p "$work/exits"

EXITS="$work/exits" timeout 120 "$mpiexec" --enable-recovery --oversubscribe --bind-to none -x EXITS \
  -n "$ranks" "$work/rank.sh" "$program" > "$work/out" 2>&1
cat "$work/out"
fail() { echo "rank_failure_test: FAILED: $*"; exit 1; }

grep -q "RANK-FAILURE-TEST-PASSED" "$work/out" || fail "the driver's checks failed"
victim=$((ranks - 1))
[ "$(cat "$work/exits/$victim" 2>/dev/null)" = 137 ] || fail "the victim rank $victim did not die of SIGKILL"
[ "$(cat "$work/exits/0")" = 0 ] || fail "the driver exited with $(cat "$work/exits/0")"
for r in $(seq 1 $((ranks - 2))); do
  code=$(cat "$work/exits/$r" 2>/dev/null || echo missing)
  [ "$code" = 1 ] || fail "survivor rank $r exited with '$code', expected 1 (the job lost a rank)"
done
session=$(sed -n 's/^session //p' "$work/out")
status=$(cat "$session/status" 2>/dev/null)
case "$status" in
  failed:*"$victim"*) echo "job status: $status" ;;
  *) fail "session status is '$status', expected failed naming rank $victim" ;;
esac
# No process of the job survives it.
for _ in $(seq 1 50); do
  pgrep -f "^$program" > /dev/null || break
  sleep 0.1
done
pgrep -af "^$program" && fail "processes of the job are still running"
echo "rank_failure_test: PASSED"
