#!/usr/bin/env bash
# A throw-away Slurm cluster on this machine, for the slurm tests and for trying Prism under
# srun/sbatch: one slurmctld, NODES slurmd "fake nodes" (n1, n2, ...) that all run here, its own
# munged, and optional fake gres GPUs. Nothing outside DIR is read or changed: the cluster has
# its own munge key and socket, free TCP ports, and SLURM_CONF=DIR/slurm.conf points the Slurm
# commands at it. Daemons are stopped by the PIDs they wrote, never by name.
#
# usage:
#   scripts/slurm-cluster.sh check          exit 0 when the cluster can run here, 77 when not
#                                           (Slurm/munge not installed, or not root)
#   scripts/slurm-cluster.sh up DIR         start it (a cluster already running in DIR is
#                                           stopped first); prints "export SLURM_CONF=..."
#   scripts/slurm-cluster.sh down DIR [--purge]   cancel its jobs, stop its daemons [rm -rf DIR]
# env for `up`: NODES (2) CPUS per node (8) GPUS per node (0: no gres) MEM_MB per node (4000)
#
# Why each setting (../shared/ENV.md §7 has the measurements):
#   - CPUs may exceed the real cores (SlurmdParameters=config_overrides): on a 2-core machine a
#     4-rank step would otherwise stay pending for ever.
#   - TmpFS=DIR/tmp/%n: Slurm's PMIx plugin puts its per-step directory in TmpFS; fake nodes
#     sharing /tmp collide there ("Cannot create directory ... File exists").
#   - proctrack/linuxproc, task/none, no accounting: no cgroups are needed.
#   - MpiDefault=pmix: Debian's Open MPI can be launched by srun only through PMIx.
#   - Fake GPUs are character devices (major 195, as NVIDIA's) that nothing ever opens; gres
#     rejects regular files.
# Several MPI ranks on one fake node that share a host with ranks of another fake node make
# Open MPI's vader BTL crash; run such jobs with OMPI_MCA_btl=self,tcp.
set -euo pipefail

die() { echo "slurm-cluster: $*" >&2; exit 1; }

check() {
  local missing=()
  for cmd in slurmctld slurmd srun sbatch sinfo scancel munged munge mungekey python3; do
    command -v "$cmd" >/dev/null 2>&1 || [[ -x /usr/sbin/$cmd ]] || missing+=("$cmd")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "slurm-cluster: not available: ${missing[*]} (scripts/install-deps.sh --with-slurm)" >&2
    return 77
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "slurm-cluster: slurmd must run as root to start job steps; not root here" >&2
    return 77
  fi
  return 0
}

# Alive and not a zombie.
alive() { [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }

# Stops the daemon whose PID is in file $1 (TERM, then KILL after 5 s) and removes the file.
stop_pidfile() {
  local file=$1 pid
  [[ -f "$file" ]] || return 0
  pid=$(cat "$file" 2>/dev/null || true)
  if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$file"
}

# N free TCP ports on 127.0.0.1, one per line (held open together, so they are distinct).
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print("\n".join(str(s.getsockname()[1]) for s in socks))
EOF
}

down() {
  local dir=$1 purge=${2:-}
  [[ -d "$dir" ]] || return 0
  if [[ -f "$dir/slurm.conf" && -f "$dir/slurmctld.pid" ]]; then
    export SLURM_CONF=$dir/slurm.conf
    # End the jobs first, so that slurmd ends their steps before it stops.
    if timeout 10 scancel --quiet --full --user="$(id -un)" 2>/dev/null; then
      for _ in $(seq 1 50); do
        [[ -z "$(timeout 5 squeue -h -o %i 2>/dev/null)" ]] && break
        sleep 0.1
      done
    fi
  fi
  for f in "$dir"/slurmd.*.pid; do stop_pidfile "$f"; done
  stop_pidfile "$dir/slurmctld.pid"
  stop_pidfile "$dir/munge/munged.pid"
  if [[ "$purge" == --purge ]]; then rm -rf "$dir"; fi
  return 0
}

up() {
  local dir=$1
  local nodes=${NODES:-2} cpus=${CPUS:-8} gpus=${GPUS:-0} mem_mb=${MEM_MB:-4000}
  [[ "$nodes" =~ ^[1-9][0-9]*$ ]] || die "NODES=$nodes: not a positive integer"
  [[ "$cpus" =~ ^[1-9][0-9]*$ ]] || die "CPUS=$cpus: not a positive integer"
  [[ "$gpus" =~ ^[0-9]+$ ]] || die "GPUS=$gpus: not a non-negative integer"
  [[ "$mem_mb" =~ ^[1-9][0-9]*$ ]] || die "MEM_MB=$mem_mb: not a positive integer"
  check || exit $?
  down "$dir"
  rm -rf "$dir/state" "$dir/spool" "$dir/tmp" "$dir/fakedev" "$dir"/*.log
  # munged wants its socket's directory and every parent searchable by everyone.
  mkdir -p "$dir/munge" "$dir/state" "$dir/fakedev"
  chmod 0755 "$dir" "$dir/munge"
  for i in $(seq 1 "$nodes"); do mkdir -p "$dir/spool/n$i" "$dir/tmp/n$i"; done

  # A private munged: its own key and socket, so the host's munge (if any) is left alone.
  local munge_dir=$dir/munge
  if [[ ! -s "$munge_dir/munge.key" ]]; then
    mungekey --create --keyfile="$munge_dir/munge.key" >/dev/null
    chmod 0400 "$munge_dir/munge.key"
  fi
  /usr/sbin/munged --socket="$munge_dir/munge.socket" --key-file="$munge_dir/munge.key" \
    --log-file="$munge_dir/munged.log" --pid-file="$munge_dir/munged.pid" \
    --seed-file="$munge_dir/munged.seed" --num-threads=2 ||
    die "munged did not start: $(tail -n 3 "$munge_dir/munged.log" 2>/dev/null)"
  for _ in $(seq 1 50); do munge -n -S "$munge_dir/munge.socket" >/dev/null 2>&1 && break; sleep 0.1; done

  local gres_types="" gres=""
  if [[ "$gpus" -gt 0 ]]; then
    for g in $(seq 0 $((gpus - 1))); do
      [[ -c "$dir/fakedev/nvidia$g" ]] || mknod "$dir/fakedev/nvidia$g" c 195 "$g"
    done
    gres_types="GresTypes=gpu"
    gres="Gres=gpu:$gpus"
    echo "NodeName=n[1-$nodes] Name=gpu File=$dir/fakedev/nvidia[0-$((gpus - 1))]" >"$dir/gres.conf"
  fi

  local ports
  mapfile -t ports < <(free_ports $((nodes + 1)))
  {
    cat <<EOF
# Generated by scripts/slurm-cluster.sh: a local test cluster of $nodes fake nodes.
ClusterName=prismtest
SlurmctldHost=localhost
SlurmctldPort=${ports[0]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$munge_dir/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
TmpFS=$dir/tmp/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.%n.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=pmix
ReturnToService=2
SlurmdParameters=config_overrides
InactiveLimit=0
KillWait=5
MinJobAge=60
$gres_types
EOF
    for i in $(seq 1 "$nodes"); do
      echo "NodeName=n$i NodeHostname=localhost NodeAddr=127.0.0.1 Port=${ports[$i]} CPUs=$cpus RealMemory=$mem_mb $gres State=UNKNOWN"
    done
    echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES"
  } >"$dir/slurm.conf"

  export SLURM_CONF=$dir/slurm.conf
  # The daemons fork into the background by themselves and write their PID files.
  if ! slurmctld -f "$SLURM_CONF"; then
    tail -n 20 "$dir/slurmctld.log" >&2 || true
    down "$dir"
    die "slurmctld did not start"
  fi
  for i in $(seq 1 "$nodes"); do
    if ! slurmd -f "$SLURM_CONF" -N "n$i"; then
      tail -n 20 "$dir/slurmd.n$i.log" >&2 || true
      down "$dir"
      die "slurmd n$i did not start"
    fi
  done
  local state=""
  for _ in $(seq 1 150); do
    state=$(sinfo -h -o '%t' 2>/dev/null | sort -u | tr '\n' ' ')
    [[ "$state" == "idle " ]] && break
    sleep 0.2
  done
  if [[ "$state" != "idle " ]]; then
    echo "slurm-cluster: nodes not idle after 30 s (states: $state)" >&2
    tail -n 20 "$dir/slurmctld.log" >&2 || true
    down "$dir"
    exit 1
  fi
  echo "export SLURM_CONF=$SLURM_CONF"
}

cmd=${1:-}
case "$cmd" in
  check) check ;;
  up)
    [[ $# -ge 2 ]] || die "usage: $0 up DIR"
    up "$(realpath -m "$2")"
    ;;
  down)
    [[ $# -ge 2 ]] || die "usage: $0 down DIR [--purge]"
    down "$(realpath -m "$2")" "${3:-}"
    ;;
  *)
    echo "usage: $0 check | up DIR | down DIR [--purge]" >&2
    exit 2
    ;;
esac
