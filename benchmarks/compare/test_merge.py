#!/usr/bin/env python3
"""Smoke test of the comparison's table: canned records in testdata/ through merge.py.

Plain python3 (no venv, no Ray): it checks the unit conversions, the folding of
baselines and of prism-bench's older names, "—" for what a source did not run, and that
merge.py writes results.json and the Markdown table.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from merge import DASH, build_rows, format_table, load_sources  # noqa: E402
from units import advantage, convert  # noqa: E402

SOURCES = [os.path.join(HERE, "testdata", name) for name in ("ray.json", "prism.json", "ucx.json")]


class UnitsTest(unittest.TestCase):
    def test_converts_within_a_kind(self):
        self.assertAlmostEqual(convert(2.0, "ms", "us"), 2000.0)
        self.assertAlmostEqual(convert(1000.0, "MB/s", "GB/s"), 1.0)
        self.assertEqual(convert(5.0, "calls/s", "ops/s"), 5.0)

    def test_latency_and_rate_are_reciprocal(self):
        self.assertAlmostEqual(convert(4.0, "us", "tasks/s"), 250000.0)
        self.assertAlmostEqual(convert(250000.0, "tasks/s", "us"), 4.0)

    def test_refuses_what_does_not_compare(self):
        self.assertIsNone(convert(3.0, "s", "tasks/s"))  # a whole run, count unknown
        self.assertIsNone(convert(3.0, "GB/s", "ops/s"))

    def test_advantage_is_above_one_when_prism_is_faster(self):
        self.assertAlmostEqual(advantage(4.0, 1000.0, "us"), 250.0)
        self.assertAlmostEqual(advantage(10.0, 20.0, "GB/s"), 0.5)
        self.assertIsNone(advantage(None, 20.0, "GB/s"))


class MergeTest(unittest.TestCase):
    def setUp(self):
        self.rows = {row["name"]: row for row in build_rows(load_sources(SOURCES))}

    def test_new_name_keeps_the_old_records_baseline(self):
        row = self.rows["single_client_tasks_sync"]
        self.assertEqual(row["unit"], "tasks/s")
        self.assertAlmostEqual(row["ray_value"], 1000.0)
        self.assertAlmostEqual(row["baseline"]["value"], 1e6 / 0.666)
        self.assertAlmostEqual(row["prism_vs_ray"], 250.0)
        self.assertNotIn("task_sync_roundtrip", self.rows)

    def test_old_name_stands_in_for_a_missing_new_one(self):
        row = self.rows["single_client_tasks_async"]
        self.assertEqual(row["prism"]["value"], 400000.0)
        self.assertAlmostEqual(row["prism_vs_ray"], 200.0)

    def test_baselines_fold_into_their_measure(self):
        row = self.rows["transfer_bandwidth_1MiB"]
        self.assertEqual(row["baseline"]["name"], "mpi_bandwidth_1MiB")
        self.assertAlmostEqual(row["prism_vs_baseline"], 10.0 / 14.0)
        self.assertNotIn("mpi_bandwidth_1MiB", self.rows)
        for name in ("mpi_pingpong_latency_8B", "ucx_tag_bw_1MiB_sm"):
            self.assertIsNone(self.rows[name]["prism"])
            self.assertIsNotNone(self.rows[name]["baseline"])

    def test_one_sided_rows_show_a_dash(self):
        table = format_table(build_rows(load_sources(SOURCES)))
        ray_only = next(l for l in table.splitlines() if "get_object_containing_10k_refs`" in l)
        prism_only = next(l for l in table.splitlines() if "`metg_stencil_us`" in l)
        self.assertEqual(ray_only.split("|")[4].strip(), DASH)
        self.assertEqual(prism_only.split("|")[3].strip(), DASH)
        self.assertIn("| `single_client_tasks_sync` | tasks/s | 1 000 | 250 k | 1.5 M |", table)

    def test_taskbench_points_are_rows_but_not_table_lines(self):
        self.assertEqual(self.rows["taskbench_stencil_eff_10us"]["prism"]["value"], 35.0)
        table = format_table(build_rows(load_sources(SOURCES)))
        self.assertNotIn("taskbench_stencil_eff_10us", table)
        self.assertIn("4 efficiency points", table)

    def test_families_come_from_the_catalog_or_the_prefix(self):
        self.assertEqual(self.rows["metg_stencil_us"]["family"], "taskbench")
        self.assertEqual(self.rows["ucx_tag_bw_1MiB_sm"]["family"], "transfer")
        self.assertEqual(self.rows["many_actors_10k"]["family"], "scale")
        self.assertEqual(self.rows["init_seconds"]["family"], "scale")


class MergeCommandTest(unittest.TestCase):
    def test_writes_results_json_and_table(self):
        with tempfile.TemporaryDirectory() as out:
            results, table = os.path.join(out, "results.json"), os.path.join(out, "table.md")
            missing = os.path.join(out, "absent.json")
            command = [sys.executable, "-B", os.path.join(HERE, "merge.py"), "--ranks", "2"]
            command += ["--json", results, "--markdown", table, missing] + SOURCES
            printed = subprocess.run(command, capture_output=True, text=True, check=True)
            with open(table) as f:
                self.assertEqual(printed.stdout, f.read())
            with open(results) as f:
                data = json.load(f)
            self.assertEqual(data["run"]["ranks"], 2)
            self.assertEqual(data["run"]["versions"]["ray"], "2.60.0")
            self.assertIn("single_client_tasks_sync", [row["name"] for row in data["rows"]])


if __name__ == "__main__":
    unittest.main()
