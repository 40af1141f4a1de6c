#!/usr/bin/env bash
# Fuzzes every parser for a long time (hours), beyond CI's seconds per target.
#
#   scripts/fuzz_all.sh [SECONDS_PER_TARGET] [JOBS]     defaults: 3600, nproc
#
# Each target runs from its committed seeds (tests/fuzz/corpus/NAME) and from the corpus of its
# earlier runs (<build>/fuzz/runs/NAME/corpus, kept between runs, so hours add up). An input that
# fails is copied into tests/fuzz/corpus/NAME/regression-<sha1> (commit it with its fix: CI
# replays every seed) and the script exits 1. At the end a Markdown table gives, per target, the
# seconds run, the executions, the coverage (libFuzzer's cov: and ft:) and the corpus size, for
# docs/reliability.md. Environment as scripts/run_fuzzer.sh (FLOWPIC_FUZZ_BUILD_DIR, ...).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-3600}
jobs=${2:-$(nproc)}
build=${FLOWPIC_FUZZ_BUILD_DIR:-$root/build/fuzz}
export FLOWPIC_FUZZ_BUILD_DIR=$build
names=()  # the targets: tests/fuzz/fuzz_NAME.cpp
for f in "$root"/tests/fuzz/fuzz_*.cpp; do n=${f##*/fuzz_}; names+=("${n%.cpp}"); done

"$root/scripts/run_fuzzer.sh" build
logs=$(mktemp -d)
run_one() {
    local name=$1 dir=$build/runs/$1/artifacts f
    mkdir -p "$dir"
    ls "$dir" | sort >"$logs/$name.before"
    FLOWPIC_FUZZ_NO_BUILD=1 "$root/scripts/run_fuzzer.sh" "$name" "$secs" >"$logs/$name.log" 2>&1 || true
    ls "$dir" | sort | comm -13 "$logs/$name.before" - | while IFS= read -r f; do
        case $f in
        slow-unit-*) continue ;;  # a report, not a failure
        timeout-*)  # on a loaded machine a starved run times out: a finding only if it does again
            if "$build/fuzz_$name" -timeout=10 -rss_limit_mb=2048 "$dir/$f" >/dev/null 2>&1; then
                echo "$name: $f did not time out again (machine load), not a finding" >&2
                continue
            fi ;;
        esac
        cp "$dir/$f" "$root/tests/fuzz/corpus/$name/regression-$(sha1sum "$dir/$f" | cut -c1-12)"
        echo "$name: $dir/$f" >>"$logs/findings"
    done
}
export -f run_one
export root build secs logs
printf '%s\n' "${names[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'

echo "| target | seconds | executions | cov | ft | corpus files |"
echo "|---|---|---|---|---|---|"
for name in "${names[@]}"; do
    log=$logs/$name.log
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -1)
    cov=$(awk '{print $2}' <<<"$last")
    ft=$(awk '{print $4}' <<<"$last")
    files=$(ls "$build/runs/$name/corpus" 2>/dev/null | wc -l)
    echo "| fuzz_$name | $secs | ${execs:-?} | ${cov:-?} | ${ft:-?} | $files |"
done
if [[ -s $logs/findings ]]; then
    echo "fuzz_all.sh: findings, copied into tests/fuzz/corpus/*/regression-*:" >&2
    cat "$logs/findings" >&2
    exit 1
fi
