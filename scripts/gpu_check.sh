#!/usr/bin/env bash
# The GPU check kit: every GPU test, then the CUDA picture and network benchmarks in bounded time,
# their figures printed as rows of docs/benchmarks.md's GPU tables.
#
# Usage: scripts/gpu_check.sh [BUILD_DIR]          (default build/cuda)
#   RESULTS=DIR   where the logs and JSON go (default $OUT if set, else BUILD_DIR/gpu_check)
#   MIN_TIME=S    Google Benchmark's --benchmark_min_time per case (default 0.3)
#   REPS=N        repetitions per case, medians reported (default 3)
#   GPU_CHECK_CTEST=0  skips the ctest step (the kit's own CTest smoke test runs inside CTest)
#
# It builds the `cuda` preset's GPU targets only when BUILD_DIR lacks them. On a GPU machine whose
# time is counted, build on a CPU machine instead and carry the build along:
#   cmake --preset cuda && cmake --build build/cuda -j2 --target \
#     flowpic_cuda_tests flowpic_bench_pictures_cuda flowpic_bench_network_cuda flowpic_tool
#   then run `scripts/gpu_check.sh build/cuda` on the GPU machine with build/cuda carried.
# Budget on a 16-core machine with one GPU: about 1 min of tests, 3-4 min of benchmarks; a cold
# build of those four targets adds about 3 min at -j16.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/cuda}
results=${RESULTS:-${OUT:-$build/gpu_check}}
min_time=${MIN_TIME:-0.3}
reps=${REPS:-3}
mkdir -p "$results"
jobs=$(nproc)

say() { printf '== %s\n' "$*"; }

say "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader \
  2>&1 | tee "$results/gpu.txt" || true
nproc | sed 's/^/cpu cores: /'

targets=(flowpic_cuda_tests flowpic_bench_pictures_cuda flowpic_bench_network_cuda flowpic_tool)
need_build=0
for t in tests/cuda/flowpic_cuda_tests benchmarks/flowpic_bench_pictures_cuda \
         benchmarks/flowpic_bench_network_cuda tools/flowpic; do
  [ -x "$build/$t" ] || need_build=1
done
if [ "$need_build" = 1 ]; then
  say "building ${targets[*]} in $build (-j$jobs)"
  start=$(date +%s)
  if [ "$build" = build/cuda ]; then
    cmake --preset cuda >"$results/configure.log"
  else
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DFLOWPIC_ENABLE_CUDA=ON \
      -DCMAKE_CUDA_ARCHITECTURES="80;90" -DFLOWPIC_BUILD_BENCHMARKS=ON >"$results/configure.log"
  fi
  cmake --build "$build" -j"$jobs" --target "${targets[@]}" >"$results/build.log" 2>&1 ||
    { tail -n 40 "$results/build.log"; exit 1; }
  echo "build: $(( $(date +%s) - start )) s"
fi

status=0
if [ "${GPU_CHECK_CTEST:-1}" != 0 ]; then
  say "GPU tests (ctest -L 'gpu|cuda')"
  ctest --test-dir "$build" -L 'gpu|cuda' --output-on-failure --timeout 300 2>&1 |
    tee "$results/ctest_gpu.log" || status=1
  if grep -q 'Not Run\|\*\*\*Skipped' "$results/ctest_gpu.log"; then
    echo "note: some GPU tests were skipped (no usable device?)"
  fi
fi

bench() {  # name, binary, extra args...
  local name=$1 bin=$2; shift 2
  say "benchmark $name"
  timeout 300 "$bin" --benchmark_min_time="$min_time" --benchmark_repetitions="$reps" \
    --benchmark_report_aggregates_only=true --benchmark_format=console \
    --benchmark_out="$results/$name.json" --benchmark_out_format=json "$@" \
    2>&1 | tee "$results/$name.txt" || status=1
}
bench pictures_cuda "$build/benchmarks/flowpic_bench_pictures_cuda"
bench network_cuda "$build/benchmarks/flowpic_bench_network_cuda"

say "rows for docs/benchmarks.md (medians of $reps repetitions)"
if command -v python3 >/dev/null; then
  python3 - "$results" <<'PY' | tee "$results/tables.md"
import json, pathlib, sys
d = pathlib.Path(sys.argv[1])
def medians(name):
    p = d / f"{name}.json"
    if not p.exists():
        return {}
    rows = {}
    for b in json.loads(p.read_text()).get("benchmarks", []):
        if b.get("aggregate_name") == "median" or b.get("run_type") == "iteration":
            rows[b["run_name"]] = b   # the median where repetitions made one
    return rows
def rate(b, *keys):
    for k in keys:
        if k in b:
            return b[k]
    return None
print("### pictures (flowpic_bench_pictures_cuda)")
print("| case | blocks/s | packets/s | ms/iteration |")
print("|---|---|---|---|")
for n, b in medians("pictures_cuda").items():
    bl, pk = rate(b, "blocks_per_s"), rate(b, "packets_per_s")
    f = lambda v: f"{v:,.0f}" if v is not None else ""
    print(f"| {n} | {f(bl)} | {f(pk)} | {b['real_time']:.3f} |")
print()
print("### network (flowpic_bench_network_cuda)")
print("| case | images/s | fwd GFLOP/s |")
print("|---|---|---|")
for n, b in medians("network_cuda").items():
    ips, gf = rate(b, "images_per_second", "items_per_second"), rate(b, "fwd_gflops")
    print(f"| {n} | {ips:,.1f} | {gf:,.1f} |" if gf is not None else f"| {n} | {ips:,.1f} | |")
PY
else
  echo "(python3 missing: the JSON files in $results hold the figures)"
fi
say "done: results in $results"
exit "$status"
