#!/usr/bin/env bash
# The main job: build the flowpic tool and list the flows and 15 s blocks of the bundled sample
# capture. Usage: scripts/main.sh [CAPTURE]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
capture=${1:-data/sample/sample.pcap}
cmake --preset release -DFLOWPIC_BUILD_TESTS=OFF -DFLOWPIC_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build --preset release --target flowpic_tool -j"$(nproc)" >/dev/null
echo "# flows of $capture"
build/release/examples/flowpic flows "$capture"
echo
echo "# 15 s blocks of $capture"
build/release/examples/flowpic blocks "$capture" --block 15 --min-packets 10
