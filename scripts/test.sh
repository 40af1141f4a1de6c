#!/usr/bin/env bash
# Builds flowpic and runs every test (CTest). Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# every core for the build and for the builds that tests run (header checks, package consumers)
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
cmake --workflow --preset ci
