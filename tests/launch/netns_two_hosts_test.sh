#!/usr/bin/env bash
# Two simulated hosts: network namespaces joined by a veth pair, each with its own host name
# (a UTS namespace). `prism launch --hosts` runs mpirun in the first one; mpirun reaches the
# second through an rsh agent that enters it. The 2-rank job must report two host names and two
# node ids. UCX_TLS=tcp: otherwise UCX would use shared memory across the namespaces (ENV.md §10).
# The namespaces, the veth pair and every process in them are removed on any exit.
# usage: netns_two_hosts_test.sh PRISM NODE_IDENTITY WORK_DIR    (exit 77: skipped)
set -euo pipefail
prism=$1
program=$2
work=$3

if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null || ! command -v unshare >/dev/null; then
  echo "SKIP: needs root, ip (iproute2) and unshare" >&2
  exit 77
fi
ns_a=prism-host-a-$$
ns_b=prism-host-b-$$
veth_a=pv$$a
veth_b=pv$$b
addr_a=10.200.0.1
addr_b=10.200.0.2

# Removes a namespace this test made; whatever still runs in it is the test's own.
remove_ns() {
  for pid in $(ip netns pids "$1" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  ip netns del "$1" 2>/dev/null || true  # removes the veth end inside it, and so the pair
}
cleanup() {
  for ns in "$ns_a" "$ns_b"; do
    if ip netns list | grep -qw "$ns"; then remove_ns "$ns"; fi
  done
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
# Namespaces left by an earlier run of this test that was killed outright (SIGKILL skips traps).
for ns in $(ip netns list | grep -o '^prism-host-[ab]-[0-9]*' || true); do
  [[ -d /proc/${ns##*-} ]] || remove_ns "$ns"
done

rm -rf "$work"
mkdir -p "$work"
start=$SECONDS
ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add "$veth_a" type veth peer name "$veth_b"
ip link set "$veth_a" netns "$ns_a"
ip link set "$veth_b" netns "$ns_b"
ip -n "$ns_a" addr add "$addr_a/24" dev "$veth_a"
ip -n "$ns_b" addr add "$addr_b/24" dev "$veth_b"
for ns in "$ns_a" "$ns_b"; do ip -n "$ns" link set lo up; done
ip -n "$ns_a" link set "$veth_a" up
ip -n "$ns_b" link set "$veth_b" up

# The "ssh" of Open MPI's rsh launcher: runs the command in the namespace of the address.
cat >"$work/nsexec.sh" <<SH
#!/bin/sh
host=\$1
shift
case "\$host" in
  $addr_a) ns=$ns_a; name=host-a ;;
  $addr_b) ns=$ns_b; name=host-b ;;
  *) echo "nsexec: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" unshare --uts /bin/sh -c "hostname \$name && \$*"
SH
chmod +x "$work/nsexec.sh"

export UCX_TLS=tcp PRISM_SESSION_ROOT=$work/sessions PRISM_LOG_CONSOLE_LEVEL=warn
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rc=0
timeout 120 ip netns exec "$ns_a" unshare --uts /bin/sh -c "hostname host-a && exec \"\$0\" \"\$@\"" \
  "$prism" launch -n 2 --hosts "$addr_a,$addr_b" --head-cpus 0 \
  --launcher-arg=--mca --launcher-arg=plm_rsh_agent --launcher-arg="$work/nsexec.sh" \
  --launcher-arg=--mca --launcher-arg=oob_tcp_if_include --launcher-arg="$veth_a,$veth_b" \
  --launcher-arg=--mca --launcher-arg=btl --launcher-arg=self,tcp \
  --launcher-arg=--mca --launcher-arg=btl_tcp_if_include --launcher-arg=10.200.0.0/24 \
  -- "$program" >"$work/out.txt" 2>"$work/err.txt" || rc=$?
echo "2-rank job over two namespaces: $((SECONDS - start)) s (rc $rc)"
cat "$work/out.txt"
if [[ $rc -ne 0 ]]; then
  tail -n 30 "$work/err.txt" >&2
  echo "FAIL: the job exited with $rc" >&2
  exit 1
fi
python3 - "$work/out.txt" <<'PY'
import sys
ranks = {}
for line in open(sys.argv[1]):
    if line.startswith("rank="):
        f = dict(kv.split("=", 1) for kv in line.split())
        ranks[int(f["rank"])] = f
assert sorted(ranks) == [0, 1], f"ranks {sorted(ranks)}"
assert ranks[0]["host"] == "host-a" and ranks[1]["host"] == "host-b", ranks
assert ranks[0]["node"] != ranks[1]["node"], "one node id for both ranks"
print("PASS: ranks 0 and 1 on", ranks[0]["host"], "and", ranks[1]["host"], "with node ids",
      ranks[0]["node"], ranks[1]["node"])
PY
