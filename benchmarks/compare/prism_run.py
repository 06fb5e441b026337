"""Prism's side of the comparison: runs prism-bench (and prism-init-bench) under mpirun.

prism-bench measures the MPI baselines itself (ping-pong and bandwidth, taken in the
same run before prism::Init), so one run gives both the Prism and the MPI column.
prism-init-bench, when it was built next to prism-bench, times prism::Init and
prism::Shutdown on many oversubscribed ranks against MPI_Init/MPI_Finalize; it gives one
sample per run, so it runs a few times and its records are merged here. Plain python3.

usage: prism_run.py --bench BIN --ranks N --out FILE [--init-out FILE] [--quick]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from records import make_record, write_source

INIT_BENCH = "prism-init-bench"
# (ranks, runs) of prism-init-bench: 64 ranks as the issue asks; --quick only checks it runs.
INIT_RUNS = {False: (64, 3), True: (4, 1)}


def mpirun(ranks, argv):
    """The mpirun command line for `ranks` ranks (oversubscribed: this is a small machine)."""
    return ["mpirun", "-n", str(ranks), "--oversubscribe", "--bind-to", "none"] + argv


def run_bench(command):
    """Runs one prism-bench command and returns its JSON records."""
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("PRISM_SESSION_ROOT", os.path.join(tempfile.gettempdir(), "prism-sessions"))
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        argv = command + ["--json", out.name]
        print("+ " + " ".join(argv), flush=True)
        subprocess.run(argv, env=env, check=True, stdout=sys.stderr)
        with open(out.name) as f:
            return json.load(f)


def run_init_bench(init_bench, ranks, runs):
    """prism-init-bench's records over `runs` runs: the median, spread and samples of each."""
    by_name = {}
    for _ in range(runs):
        for record in run_bench(mpirun(ranks, [init_bench])):
            by_name.setdefault(record["name"], []).append(record)
    merged = []
    for name, records in by_name.items():
        note = f"{ranks} ranks, {runs} run" + ("s" if runs > 1 else "")
        record = make_record(name, [r["value"] for r in records], records[0]["unit"], note)
        record["ranks"] = ranks
        if "baseline_name" in records[0]:
            record["baseline_name"] = records[0]["baseline_name"]
            record["baseline_value"] = statistics.median(r["baseline_value"] for r in records)
        merged.append(record)
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", required=True)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--out", required=True)
    parser.add_argument("--init-out")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    command = mpirun(args.ranks, [args.bench] + (["--quick"] if args.quick else []))
    write_source(args.out, "prism", args.bench, " ".join(command), run_bench(command))

    if args.init_out:
        init_bench = os.path.join(os.path.dirname(args.bench), INIT_BENCH)
        if not os.access(init_bench, os.X_OK):
            print(f"no {init_bench}: no Init/Shutdown measure", file=sys.stderr)
            return
        ranks, runs = INIT_RUNS[args.quick]
        command = " ".join(mpirun(ranks, [init_bench])) + f"  ({runs} runs)"
        write_source(
            args.init_out, "prism", init_bench, command, run_init_bench(init_bench, ranks, runs)
        )


if __name__ == "__main__":
    main()
