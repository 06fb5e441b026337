#!/usr/bin/env bash
# Prism vs Ray vs MPI/UCX on this machine: runs Ray's microbenchmark workloads (in a local
# venv; Ray is never a Prism dependency), prism-bench (which measures the MPI baselines in
# the same run) and ucx_perftest, then prints one table and writes results.json,
# results.h5 and a PNG per family into the output directory. See benchmarks/README.md.
set -euo pipefail

usage() {
  cat <<EOF
usage: $0 [--quick] [--skip-ray] [--out DIR] [--ranks N] [--cpus N] [--bench PATH]
  --quick      tiny sizes everywhere (a smoke run, not a measurement)
  --skip-ray   no Ray run (the Ray column stays empty; Ray is not installed)
  --out DIR    where results go (default benchmarks/compare/out)
  --ranks N    prism-bench ranks (default 2)
  --cpus N     CPUs Ray may use, ray.init(num_cpus=N) (default: all, $(nproc))
  --bench PATH prism-bench binary (default build/bin, else build-lead/bin)
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "${here}/../.." && pwd)
quick=()
skip_ray=0
out="${here}/out"
ranks=2
cpus=$(nproc)
bench=""
while (($#)); do
  case "$1" in
    --quick) quick=(--quick) ;;
    --skip-ray) skip_ray=1 ;;
    --out) out=$2; shift ;;
    --ranks) ranks=$2; shift ;;
    --cpus) cpus=$2; shift ;;
    --bench) bench=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done

if [[ -z "${bench}" ]]; then
  for candidate in "${repo}/build/bin/prism-bench" "${repo}/build-lead/bin/prism-bench"; do
    if [[ -x "${candidate}" ]]; then bench=${candidate}; break; fi
  done
fi
if [[ ! -x "${bench}" ]]; then
  echo "no prism-bench binary: build it (ninja -C build prism-bench) or pass --bench" >&2
  exit 1
fi
# The steps below run from this directory: make the paths the user gave absolute.
bench=$(realpath "${bench}")
out=$(realpath -m "${out}")

# The venv holds only what the comparison needs; installing is skipped once it has it.
venv="${here}/.venv"
packages=(numpy h5py matplotlib)
((skip_ray)) || packages+=(ray)
[[ -x "${venv}/bin/python" ]] || python3 -m venv "${venv}"
modules=$(IFS=,; echo "${packages[*]}")
if ! "${venv}/bin/python" -c "import ${modules}" 2>/dev/null; then
  "${venv}/bin/pip" install --quiet "${packages[@]}"
fi

raw="${out}/raw"
rm -rf "${raw}"
mkdir -p "${raw}"
export PYTHONDONTWRITEBYTECODE=1
cd "${here}"

if ((!skip_ray)); then
  echo "== Ray $("${venv}/bin/python" -c 'import ray; print(ray.__version__)'), num_cpus=${cpus}"
  "${venv}/bin/python" ray_bench.py --out "${raw}/ray.json" --num-cpus "${cpus}" "${quick[@]}"
fi
echo "== prism-bench (${bench}), ${ranks} ranks"
python3 prism_run.py --bench "${bench}" --ranks "${ranks}" --out "${raw}/prism.json" \
  --init-out "${raw}/prism-init.json" "${quick[@]}"
echo "== ucx_perftest"
python3 ucx_run.py --out "${raw}/ucx.json" "${quick[@]}"

echo "== results"
python3 merge.py --ranks "${ranks}" --json "${out}/results.json" --markdown "${out}/table.md" \
  "${raw}/ray.json" "${raw}/prism.json" "${raw}/prism-init.json" "${raw}/ucx.json"
"${venv}/bin/python" artifacts.py "${out}/results.json" "${out}"
