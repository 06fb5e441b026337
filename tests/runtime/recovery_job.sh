# Sourced by the failure tests. run_recovery_job <mpiexec> <ranks> <program> [args]: runs the program
# under `mpirun --enable-recovery` (survivors keep running when a rank dies; ENV.md §4), with
# output in $work/out and each rank's exit code in $work/exits/<rank> (mpirun itself exits 0
# under --enable-recovery, whatever happened). Also: fail <why>, no_process_left <program>.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_recovery_job() {
  local mpiexec=$1 ranks=$2 program=$3
  shift 3
  cat > "$work/rank.sh" <<'INNER'
#!/bin/sh
"$@"
echo $? > "$EXITS/$OMPI_COMM_WORLD_RANK"
INNER
  chmod +x "$work/rank.sh"
  mkdir -p "$work/exits"
  EXITS="$work/exits" timeout 120 "$mpiexec" --enable-recovery --oversubscribe --bind-to none -x EXITS \
    -n "$ranks" "$work/rank.sh" "$program" "$@" > "$work/out" 2>&1
  cat "$work/out"
}

exit_code_of() { cat "$work/exits/$1" 2>/dev/null || echo missing; }

fail() {
  echo "$test_name: FAILED: $*"
  exit 1
}

# Waits up to 5 s for every process of `program` to be gone.
no_process_left() {
  local program=$1
  for _ in $(seq 1 50); do
    pgrep -f "^$program" > /dev/null || return 0
    sleep 0.1
  done
  pgrep -af "^$program"
  return 1
}
