"""Merges the Ray, prism-bench and ucx_perftest records into one table and results.json.

One row per benchmark: Ray's figure converted to the unit prism-bench uses for it, Prism's
figure, the MPI or UCX baseline (prism-bench's own baseline for that measure, or a
baseline measure on its own row), and how many times better Prism is than each (> 1:
Prism is faster, whichever way the unit goes). A benchmark a source did not run shows
"—". Plain python3, so the table can be made and tested without the comparison's venv.

usage: merge.py --ranks N --json OUT.json [--markdown OUT.md] SOURCE.json...
"""

import argparse
import datetime
import json
import os
import platform
import socket
import subprocess
import sys

from catalog import PRISM_ALIASES, TASKBENCH_POINT, family_of, ordered
from records import read_source
from units import advantage, convert

DASH = "—"
_BASELINE_PREFIXES = ("mpi_", "memcpy", "ucx_")


def load_sources(paths):
    """{source: {"version", "commands", "records"}}; files that do not exist are skipped."""
    sources = {}
    for path in paths:
        if not os.path.exists(path):
            print(f"merge: no {path}, its columns stay empty", file=sys.stderr)
            continue
        data = read_source(path)
        merged = sources.setdefault(
            data["source"], {"version": data["version"], "commands": [], "records": []}
        )
        merged["commands"].append(data["command"])
        merged["records"].extend(data["records"])
    return sources


def _by_name(records):
    return {r["name"]: r for r in records}


def prism_records(records):
    """prism-bench's records by Ray's names.

    A record under an old name stands in for a missing new one; when both exist (the sync
    round trip comes as µs with its MPI baseline and as Ray's tasks/s), the new one gets
    the old one's baseline, converted to its unit, so the row keeps its MPI figure.
    """
    by_name = _by_name(records)
    for new, old in PRISM_ALIASES.items():
        legacy = by_name.pop(old, None)
        if legacy is None:
            continue
        current = by_name.setdefault(new, legacy)
        if "baseline_value" not in current and "baseline_value" in legacy:
            value = convert(legacy["baseline_value"], legacy["unit"], current["unit"])
            if value is not None:
                by_name[new] = dict(
                    current, baseline_name=legacy["baseline_name"], baseline_value=value
                )
    return by_name


def build_rows(sources):
    """The table's rows, in catalog order; see the module docstring."""
    ray = _by_name(sources.get("ray", {}).get("records", []))
    prism = prism_records(sources.get("prism", {}).get("records", []))
    prism.update(_by_name(sources.get("ucx_perftest", {}).get("records", [])))
    folded = {r["baseline_name"] for r in prism.values() if "baseline_name" in r}

    rows = []
    for name in ordered(list(ray) + list(prism)):
        if name in folded:
            continue  # shown in the MPI/UCX column of the measure it is the baseline of
        measured, ray_record, baseline = prism.get(name), ray.get(name), None
        if name.startswith(_BASELINE_PREFIXES):
            baseline, measured = measured, None
        elif measured is not None and "baseline_value" in measured:
            baseline = {
                "name": measured["baseline_name"],
                "value": measured["baseline_value"],
                "unit": measured["unit"],
            }
        unit = next(r["unit"] for r in (measured, ray_record, baseline) if r)
        ray_value = ray_record and convert(ray_record["value"], ray_record["unit"], unit)
        prism_value = measured and measured["value"]
        baseline_value = baseline and baseline["value"]
        rows.append(
            {
                "name": name,
                "family": family_of(name),
                "unit": unit,
                "ray": ray_record,
                "ray_value": ray_value,
                "prism": measured,
                "baseline": baseline,
                "prism_vs_ray": advantage(prism_value, ray_value, unit),
                "prism_vs_baseline": advantage(prism_value, baseline_value, unit),
            }
        )
    return rows


def fmt(value, suffix=""):
    """Three significant figures, k and M for large figures, as benchmarks/README.md writes."""
    if value is None:
        return DASH
    if value >= 1e6:
        return f"{value / 1e6:.3g} M{suffix}"
    if value >= 1e4:
        return f"{value / 1e3:.3g} k{suffix}"
    if value >= 1e3:
        return f"{float(f'{value:.3g}'):,.0f}".replace(",", " ") + suffix
    return f"{value:.3g}" + suffix


def format_table(rows):
    """The rows as a Markdown table, with the notes that qualify some figures below it."""
    lines = [
        "| benchmark | unit | Ray | Prism | MPI/UCX | Prism/Ray | Prism/MPI |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    notes = []
    points = {row["name"] for row in rows if TASKBENCH_POINT.match(row["name"])}
    for row in rows:
        if row["name"] in points:
            continue
        baseline = row["baseline"]
        lines.append(
            f"| `{row['name']}` | {row['unit']} | {fmt(row['ray_value'])} "
            f"| {fmt(row['prism'] and row['prism']['value'])} "
            f"| {fmt(baseline and baseline['value'])} "
            f"| {fmt(row['prism_vs_ray'], ' ×')} | {fmt(row['prism_vs_baseline'], ' ×')} |"
        )
        if baseline and row["prism"]:
            notes.append(f"`{row['name']}`: MPI/UCX is `{baseline['name']}`")
        for side in ("ray", "prism"):
            if row[side] and row[side].get("note"):
                notes.append(f"`{row['name']}` ({side}): {row[side]['note']}")
        if row["ray"] and row["ray_value"] is None:
            notes.append(
                f"`{row['name']}` (ray): {fmt(row['ray']['value'])} {row['ray']['unit']}, "
                f"not comparable with {row['unit']}"
            )
    if points:
        notes.append(
            f"`taskbench_<pattern>_eff_<grain>us`: {len(points)} efficiency points (%) of the "
            "Task Bench sweeps, in results.json/results.h5 and taskbench.png"
        )
    if notes:
        lines.append("")
        lines.extend("- " + note for note in notes)
    return "\n".join(lines) + "\n"


def _first_line(argv, default="unknown"):
    """The first line `argv` prints, or `default` when it prints nothing or cannot run."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    except OSError:
        return default
    return out.splitlines()[0].strip() if out.strip() else default


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe_run(ranks, sources):
    """Where and with what the figures were measured (results.json/h5 attributes)."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    commit = _first_line(["git", "-C", repo, "rev-parse", "HEAD"])
    changed = _first_line(["git", "-C", repo, "status", "--porcelain", "-uno"], default="")
    versions = {name: source["version"] for name, source in sources.items()}
    versions["mpirun"] = _first_line(["mpirun", "--version"])
    versions["python"] = platform.python_version()
    return {
        "hostname": socket.gethostname(),
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "git_commit": commit + ("-dirty" if changed else ""),
        "ranks": ranks,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": versions,
        "commands": {name: source["commands"] for name, source in sources.items()},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--markdown")
    parser.add_argument("sources", nargs="+")
    args = parser.parse_args()

    sources = load_sources(args.sources)
    rows = build_rows(sources)
    table = format_table(rows)
    print(table, end="")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    with open(args.json, "w") as f:
        json.dump({"run": describe_run(args.ranks, sources), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
