#!/usr/bin/env bash
# Installs every Debian package that Prism's build, tests, examples and benchmarks need.
# Idempotent: when everything is present it only runs dpkg-query and exits (well under a second).
# usage: scripts/install-deps.sh [--with-slurm]   (Slurm + munge are needed only by the slurm tests)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libopenmpi-dev openmpi-bin libucx-dev ucx-utils
  libhwloc-dev hwloc libhwloc-plugins
  libboost-program-options-dev libhdf5-dev libspdlog-dev libfmt-dev libmsgpack-cxx-dev
  libgtest-dev libgmock-dev libbenchmark-dev iproute2
  clang-format python3
  python3-numpy python3-h5py python3-matplotlib  # benchmark results: HDF5 and PNG plots
)
if [[ "${1:-}" == "--with-slurm" ]]; then
  packages+=(slurm-wlm munge)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# --no-install-recommends keeps the install small; libhwloc-plugins is named above because
# without it hwloc has no PCI discovery (no GPU/NIC locality).
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
