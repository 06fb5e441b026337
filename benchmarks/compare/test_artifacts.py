#!/usr/bin/env python3
"""Smoke test of results.h5 and the PNGs: canned records through merge.py and artifacts.py.

h5py and matplotlib come from Debian (python3-h5py, python3-matplotlib: scripts/install-deps.sh
installs them for /usr/bin/python3) or from the comparison's venv (benchmarks/compare/.venv, made
by compare.sh); the test exits 77 (ctest's "skipped") only when no python3 here has them.
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
VENV_PYTHON = os.path.join(HERE, ".venv", "bin", "python")
SKIPPED = 77
SOURCES = [os.path.join(HERE, "testdata", name) for name in ("ray.json", "prism.json", "ucx.json")]


def python_with_modules():
    """A python that has h5py and matplotlib: the venv's, this one or Debian's, else None."""
    for python in (VENV_PYTHON, sys.executable, "/usr/bin/python3"):
        check = [python, "-c", "import h5py, matplotlib, numpy"]
        if os.path.exists(python) and subprocess.run(check, capture_output=True).returncode == 0:
            return python
    return None


def main():
    python = python_with_modules()
    if python is None:
        print(
            "skipped: no h5py/matplotlib (scripts/install-deps.sh installs python3-h5py and "
            "python3-matplotlib; compare.sh makes a venv with them)"
        )
        return SKIPPED
    with tempfile.TemporaryDirectory() as out:
        results = os.path.join(out, "results.json")
        subprocess.run(
            [
                sys.executable,
                "-B",
                os.path.join(HERE, "merge.py"),
                "--ranks",
                "2",
                "--json",
                results,
            ]
            + SOURCES,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run([python, "-B", os.path.join(HERE, "artifacts.py"), results, out], check=True)
        for family in ("tasks", "actors", "objects", "transfer", "taskbench", "scale"):
            with open(os.path.join(out, family + ".png"), "rb") as f:
                assert f.read(8) == b"\x89PNG\r\n\x1a\n", family
        check_h5 = """
import h5py, sys
with h5py.File(sys.argv[1]) as h5:
    assert h5.attrs["ranks"] == 2 and h5.attrs["cores"] > 0, dict(h5.attrs)
    assert list(h5["single_client_tasks_sync/ray"][:]) == [900, 950, 1000, 1200, 1500]
    assert h5["single_client_tasks_sync/prism"].attrs["kind"] == "median,p10,p90"
    assert "prism" not in h5["single_client_get_object_containing_10k_refs"]
"""
        subprocess.run([python, "-c", check_h5, os.path.join(out, "results.h5")], check=True)
        with open(results) as f:
            assert len(json.load(f)["rows"]) > 0
    print("results.h5 and 6 PNGs written and checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
