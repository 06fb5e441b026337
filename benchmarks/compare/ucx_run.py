"""The UCX transfer baseline: ucx_perftest tag_bw between two processes on loopback.

Prism moves objects over UCX, so UCX's own tool says what the transport gives on this
machine: once with shared memory (UCX_TLS=sm: posix/sysv/cma, what Prism uses on one
host) and once over TCP (what it uses between hosts without RDMA). One server and one
client process per run; the client's "Final:" line gives the bandwidth. Plain python3.

usage: ucx_run.py --out FILE [--quick]
"""

import argparse
import os
import subprocess
import time

from catalog import SIZES
from records import make_record, write_source

PERFTEST = "/usr/bin/ucx_perftest"
PORT = 13377
MIB = 1 << 20
# ucx_perftest prints MB/s as 2^20 bytes per second; records use 1e9 bytes per second.
UCX_MB = float(MIB)
TRANSPORTS = {"sm": "sm,self", "tcp": "tcp,self"}
# Iterations per run, by size: each run lasts well under a second on shared memory.
ITERATIONS = {"1MiB": 200, "16MiB": 40, "64MiB": 12, "256MiB": 6}


def _client(env, common):
    """Runs the client until the server listens; its output."""
    for _ in range(50):
        client = subprocess.run(
            [PERFTEST, "127.0.0.1"] + common,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if client.returncode == 0:
            return client.stdout
        time.sleep(0.1)  # the server needs a moment to listen
    raise RuntimeError(f"ucx_perftest failed: {client.stderr.strip()}")


def run_pair(tls, num_bytes, iterations):
    """One server+client tag_bw run; the client's overall bandwidth in GB/s."""
    env = dict(os.environ, UCX_TLS=tls)
    common = ["-t", "tag_bw", "-s", str(num_bytes), "-n", str(iterations), "-w", "2"]
    common += ["-p", str(PORT)]
    server = subprocess.Popen(
        [PERFTEST] + common, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        output = _client(env, common)
    except BaseException:
        server.kill()
        raise
    finally:
        server.wait(timeout=30)
    for line in output.splitlines():
        if line.startswith("Final:"):
            return float(line.split()[6]) * UCX_MB / 1e9
    raise RuntimeError("no Final: line in ucx_perftest output:\n" + output)


def version():
    """ucx_perftest's UCX version, as ucx_info reports it."""
    out = subprocess.run(["ucx_info", "-v"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0].lstrip("# ").strip() if out.stdout else "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = ["1MiB"] if args.quick else SIZES
    reps = 1 if args.quick else 3

    records = []
    for name, tls in TRANSPORTS.items():
        for size in sizes:
            num_bytes = int(size.removesuffix("MiB")) * MIB
            iterations = 10 if args.quick else ITERATIONS[size]
            samples = [run_pair(tls, num_bytes, iterations) for _ in range(reps)]
            record = make_record(
                f"ucx_tag_bw_{size}_{name}", samples, "GB/s", note="UCX_TLS=" + tls
            )
            print(f"ucx  {record['name']:<46} {record['value']:12.4g} GB/s", flush=True)
            records.append(record)
    command = f"{PERFTEST} -t tag_bw -s SIZE -n N -w 2 (server, and client on 127.0.0.1)"
    write_source(args.out, "ucx_perftest", version(), command, records)


if __name__ == "__main__":
    main()
