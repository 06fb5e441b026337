"""Writes results.h5 and one PNG per benchmark family from merge.py's results.json.

The only part of the comparison that needs third-party modules (h5py, matplotlib, numpy,
from the comparison's venv), kept apart so the table itself needs none.

results.h5 holds a group per benchmark with a dataset per side ("ray", "prism",
"baseline"): the raw samples where the source kept them (Ray, ucx_perftest), else the
summary [median, p10, p90] (prism-bench writes only that). The root's attributes say
where and with what it was measured.

usage: artifacts.py RESULTS.json OUT_DIR
"""

import json
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402 (must follow the backend choice)
import numpy as np  # noqa: E402

from catalog import FAMILIES, SIZES, TASKBENCH_POINT  # noqa: E402
from merge import fmt  # noqa: E402
from units import is_time  # noqa: E402

SIDES = [
    ("ray", "Ray", "tab:blue"),
    ("prism", "Prism", "tab:orange"),
    ("baseline", "MPI/UCX", "tab:gray"),
]


def _summary(record):
    return [record["value"], record.get("p10", np.nan), record.get("p90", np.nan)]


def write_hdf5(results, path):
    """One group per benchmark, one dataset per side; the run's description as attributes."""
    with h5py.File(path, "w", libver="latest") as h5:  # compact groups: a smaller file
        run = results["run"]
        for key in ("hostname", "cpu_model", "cores", "git_commit", "ranks", "date"):
            h5.attrs[key] = run[key]
        h5.attrs["versions"] = json.dumps(run["versions"])
        h5.attrs["commands"] = json.dumps(run["commands"])
        for row in results["rows"]:
            group = h5.create_group(row["name"])
            group.attrs["family"] = row["family"]
            group.attrs["unit"] = row["unit"]
            for side, _, _ in SIDES:
                record = row[side]
                if record is None:
                    continue
                samples = record.get("samples")
                data = np.asarray(samples if samples else _summary(record), dtype=np.float64)
                # gzip only pays on long series: each compressed dataset costs a chunk index
                compression = "gzip" if data.size > 1000 else None
                dataset = group.create_dataset(side, data=data, compression=compression)
                dataset.attrs["kind"] = "samples" if samples else "median,p10,p90"
                dataset.attrs["unit"] = record["unit"]
                for key in ("name", "note"):
                    if record.get(key):
                        dataset.attrs[key] = record[key]


def _side_value(row, side):
    """The figure a side has in the row's unit (Ray's is converted by merge.py)."""
    if side == "ray":
        return row["ray_value"]
    return row[side]["value"] if row[side] else None


def plot_bars(rows, title, path):
    """Small multiples: one panel per benchmark, a bar per side, in the row's unit."""
    columns = min(4, len(rows))
    lines = (len(rows) + columns - 1) // columns
    figure, axes = plt.subplots(lines, columns, figsize=(3.2 * columns, 2.8 * lines), squeeze=False)
    for axis, row in zip(axes.flat, rows):
        present = [(label, _side_value(row, side), color) for side, label, color in SIDES]
        present = [(label, value, color) for label, value, color in present if value]
        axis.bar([p[0] for p in present], [p[1] for p in present], color=[p[2] for p in present])
        axis.set_yscale("log")
        values = [p[1] for p in present]
        axis.set_ylim(min(values) / 4, max(values) * 4)  # log bars need a common floor
        lower = " (lower is better)" if is_time(row["unit"]) else ""
        axis.set_title(row["name"], fontsize=8)
        axis.set_ylabel(row["unit"] + lower, fontsize=7)
        axis.tick_params(labelsize=7)
        for index, (_, value, _) in enumerate(present):
            axis.annotate(fmt(value), (index, value), ha="center", va="bottom", fontsize=7)
    for axis in list(axes.flat)[len(rows) :]:
        axis.set_visible(False)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def plot_transfer(rows, title, path):
    """Bandwidth against object size for Prism, Ray, MPI and UCX (shm and tcp)."""
    by_name = {row["name"]: row for row in rows}
    mib = [int(size.removesuffix("MiB")) for size in SIZES]
    series = {
        "Prism (pull to driver)": ("transfer_bandwidth_{}", "prism"),
        "Ray (ray.get, zero-copy)": ("transfer_bandwidth_{}", "ray"),
        "MPI ping-pong": ("transfer_bandwidth_{}", "baseline"),
        "ucx_perftest tag_bw, shm": ("ucx_tag_bw_{}_sm", "baseline"),
        "ucx_perftest tag_bw, tcp": ("ucx_tag_bw_{}_tcp", "baseline"),
    }
    figure, axis = plt.subplots(figsize=(6.4, 4.2))
    for label, (pattern, side) in series.items():
        points = []
        for size, x in zip(SIZES, mib):
            row = by_name.get(pattern.format(size))
            value = row and _side_value(row, side)
            if value:
                points.append((x, value))
        if points:
            axis.plot(*zip(*points), marker="o", label=label)
    axis.set_xscale("log", base=2)
    axis.set_xticks(mib, [str(x) for x in mib])
    axis.set_yscale("log")
    axis.set_xlabel("object / message size (MiB)")
    axis.set_ylabel("GB/s")
    axis.set_title(title)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def plot_taskbench(rows, title, path):
    """Efficiency against task grain per Task Bench pattern, METG(50 %) marked on each curve."""
    curves = {}
    for row in rows:
        match = TASKBENCH_POINT.match(row["name"])
        if match and row["prism"]:
            point = (float(match["grain_us"]), row["prism"]["value"])
            curves.setdefault(match["pattern"], []).append(point)
    if not curves:
        plot_bars(rows, title, path)
        return
    by_name = {row["name"]: row for row in rows}
    figure, axis = plt.subplots(figsize=(6.4, 4.2))
    for pattern, points in sorted(curves.items()):
        (line,) = axis.plot(*zip(*sorted(points)), marker="o", label=f"Prism, {pattern}")
        metg = by_name.get(f"metg_{pattern}_us")
        if metg and metg["prism"]:
            value = metg["prism"]["value"]
            axis.axvline(value, color=line.get_color(), linestyle="--", linewidth=1)
            axis.annotate(f"METG {fmt(value)} µs", (value, 52), color=line.get_color(), fontsize=8)
    axis.axhline(50, color="gray", linewidth=0.8)
    axis.set_xscale("log")
    axis.set_xlabel("task grain (µs of compute per task)")
    axis.set_ylabel("efficiency (% of the task CPUs' peak)")
    axis.set_ylim(0, 105)
    axis.set_title(title)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


PLOTS = {"transfer": plot_transfer, "taskbench": plot_taskbench}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    results_path, out_dir = sys.argv[1:]
    with open(results_path) as f:
        results = json.load(f)
    write_hdf5(results, os.path.join(out_dir, "results.h5"))
    run = results["run"]
    for family in FAMILIES:
        rows = [row for row in results["rows"] if row["family"] == family]
        if not rows:
            continue
        title = f"{family}: {run['hostname']}, {run['cores']} cores, {run['ranks']} ranks"
        path = os.path.join(out_dir, family + ".png")
        PLOTS.get(family, plot_bars)(rows, title, path)
        print("wrote " + path)


if __name__ == "__main__":
    main()
