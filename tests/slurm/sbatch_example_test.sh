#!/usr/bin/env bash
# Submits examples/slurm/<name>.sbatch with `sbatch --wait` and checks what the job printed.
# usage: sbatch_example_test.sh cpu_job | multi_node_job | gpu_job
# shellcheck source=tests/slurm/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
name=$1
script=$SOURCE_DIR/examples/slurm/$name.sbatch
[[ -f "$script" ]] || fail "no example $script"

# The example as it is, with its default program (monte_carlo_pi).
start=$SECONDS
sbatch_wait 100 "$TEST_WORK_DIR/$name.out" "$script" || fail "$name exited with $?"
echo "$name: $((SECONDS - start)) s"
out=$TEST_WORK_DIR/$name.out
grep -q 'π ≈' "$out" || fail "$name printed no estimate of pi"
case "$name" in
  cpu_job) grep -q ' on 4 ranks' "$out" || fail "cpu_job did not run 4 ranks" ;;
  multi_node_job)
    grep -q ' on 6 ranks' "$out" || fail "multi_node_job did not run 6 ranks"
    grep -q '6 ranks on 3 nodes' "$out" || fail "multi_node_job did not get 3 nodes"
    ;;
  gpu_job) grep -q ' on 4 ranks' "$out" || fail "gpu_job did not run 4 ranks" ;;
esac

# The GPU example once more with a program that prints what each rank was given: every rank
# has one GPU of its node's step, and the two ranks of a node have different ones.
if [[ "$name" == gpu_job ]]; then
  report=$TEST_WORK_DIR/gpu_report.out
  sbatch_wait 100 "$report" "$script" "$BUILD_BIN_DIR/rank_env_report" || fail "gpu_job report: $?"
  python3 - "$report" <<'PY' || fail "GPU assignment does not match gres"
import collections, re, sys
ranks = {}
for line in open(sys.argv[1]):
    if line.startswith("task="):
        f = dict(kv.split("=", 1) for kv in line.split())
        ranks[int(f["task"])] = f
assert sorted(ranks) == [0, 1, 2, 3], f"tasks {sorted(ranks)}"
per_node = collections.defaultdict(list)
for f in ranks.values():
    per_node[f["node"]].append(f)
assert len(per_node) == 2, f"nodes {sorted(per_node)}"
for node, tasks in per_node.items():
    job = set(tasks[0]["job_gpus"].split(","))
    seen = []
    for t in tasks:
        # With --gpus-per-task Slurm gives each task its own SLURM_STEP_GPUS.
        assert re.fullmatch(r"\d+", t["cuda_visible_devices"]), f"{node}: {t}"
        assert t["cuda_visible_devices"] == t["step_gpus"], f"{node}: not what gres gave: {t}"
        seen.append(t["cuda_visible_devices"])
    assert len(set(seen)) == len(seen), f"{node}: two ranks share a GPU: {seen}"
    assert set(seen) <= job, f"{node}: CUDA_VISIBLE_DEVICES {seen} not in the job's {job}"
    print(f"{node}: job GPUs {sorted(job)}, ranks got {seen}")
PY
fi
echo "PASS $name"
