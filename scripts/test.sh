#!/usr/bin/env bash
# Builds flowpic and runs every test (CTest). Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --workflow --preset ci
