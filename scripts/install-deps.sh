#!/usr/bin/env bash
# Installs the Debian 12 packages flowpic needs to build, test and run (as root; no-op when present).
set -euo pipefail
packages=(
  cmake g++ make pkg-config git
  libpcap-dev xtensor-dev xtl-dev libxsimd-dev libtbb-dev
  libopenmpi-dev openmpi-bin     # flowpic::mpi: distributed dataset/train/eval/classify; mpirun for its tests
  libndpi-dev libndpi-bin         # flowpic::ndpi and `flowpic label`; ndpiReader is its tests' oracle
  doctest-dev libbenchmark-dev libcli11-dev libpng-dev zlib1g-dev
  libzstd-dev                     # zstd-compressed captures (source/decompress.hpp)
  clang libclang-rt-14-dev        # libFuzzer targets
  iproute2 tcpdump                # live-capture tests in network namespaces
  pybind11-dev python3-dev python3-numpy  # the Python module (python/, docs/python.md)
  python3-distributed             # its Dask example's test (15 small packages without recommends)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "flowpic: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "flowpic: installed ${missing[*]}"
