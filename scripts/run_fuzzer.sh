#!/usr/bin/env bash
# Runs one of flowpic's libFuzzer targets (tests/fuzz) for a while, from its seed corpus.
#
#   scripts/run_fuzzer.sh NAME [SECONDS]    NAME: pcap, pcapng, authors_csv, network_stats_csv, packet_csv,
#                                           dataset_file, model_file, npy, label_file, flow_records
#   scripts/run_fuzzer.sh build             only (re)build the targets
#
# SECONDS defaults to $FLOWPIC_FUZZ_SECONDS, else 10. Exit status 0 when the run found nothing;
# otherwise the input that failed is kept under $BUILD/runs/NAME/artifacts/ and printed.
# Environment: FLOWPIC_FUZZ_BUILD_DIR (default build/fuzz), FLOWPIC_FUZZ_CXX (default clang++),
# FLOWPIC_SHARED_DATA (default ../shared/data: the capture fixtures seed the pcap and pcapng targets),
# FLOWPIC_FUZZ_NO_BUILD=1 to skip the build step.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${FLOWPIC_FUZZ_BUILD_DIR:-$root/build/fuzz}
shared=${FLOWPIC_SHARED_DATA:-$root/../shared/data}
# the targets are tests/fuzz/fuzz_NAME.cpp
names=()
for f in "$root"/tests/fuzz/fuzz_*.cpp; do n=${f##*/fuzz_}; names+=("${n%.cpp}"); done

usage() { sed -n '2,13p' "$0" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
name=$1
secs=${2:-${FLOWPIC_FUZZ_SECONDS:-10}}
[[ $secs =~ ^[0-9]+$ ]] || { echo "run_fuzzer.sh: SECONDS must be a whole number, not '$secs'" >&2; exit 2; }

build_targets() {
    if [[ -f $build/CMakeCache.txt ]]; then  # the compiler is fixed at the first configure
        cmake -S "$root/tests/fuzz" -B "$build" >/dev/null
    else
        cmake -S "$root/tests/fuzz" -B "$build" -DCMAKE_CXX_COMPILER="${FLOWPIC_FUZZ_CXX:-clang++}" >/dev/null
    fi
    nice cmake --build "$build" -j2 "$@"
}

if [[ $name == build ]]; then
    build_targets
    exit 0
fi
known=0
for n in "${names[@]}"; do [[ $n == "$name" ]] && known=1; done
[[ $known == 1 ]] || { echo "run_fuzzer.sh: unknown target '$name' (known: ${names[*]})" >&2; exit 2; }

[[ -n ${FLOWPIC_FUZZ_NO_BUILD:-} ]] || build_targets --target "fuzz_$name"

work=$build/runs/$name
mkdir -p "$work/corpus" "$work/artifacts"
seeds=("$root/tests/fuzz/corpus/$name")
max_len=16384
if [[ $name == pcap || $name == pcapng ]]; then
    max_len=65536
    patterns=(-name '*.pcap' -o -name '*.pcapng')
    [[ $name == pcapng ]] && patterns=(-name '*.pcapng')
    if [[ -d $shared/fixtures ]]; then  # the small capture fixtures, flattened to unique names
        mkdir -p "$work/seeds"
        while IFS= read -r -d '' f; do
            rel=${f#"$shared/fixtures/"}
            cp -f "$f" "$work/seeds/${rel//\//_}"
        done < <(find "$shared/fixtures" -type f \( "${patterns[@]}" \) -size -65k -print0)
        seeds+=("$work/seeds")
    fi
fi
args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len"
      -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 -artifact_prefix="$work/artifacts/")
[[ -f $root/tests/fuzz/dict/$name.dict ]] && args+=(-dict="$root/tests/fuzz/dict/$name.dict")

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
before=$(ls "$work/artifacts" | wc -l)
status=0
nice -n 5 "$build/fuzz_$name" "${args[@]}" "$work/corpus" "${seeds[@]}" || status=$?
after=$(ls "$work/artifacts" | wc -l)
if [[ $status -ne 0 || $after -gt $before ]]; then
    echo "run_fuzzer.sh: fuzz_$name FAILED (status $status). Inputs kept in $work/artifacts:" >&2
    ls -t "$work/artifacts" | head -5 | sed "s|^|  $work/artifacts/|" >&2
    echo "Reproduce with: $build/fuzz_$name <input>" >&2
    exit 1
fi
echo "run_fuzzer.sh: fuzz_$name ran ${secs}s without a finding"
