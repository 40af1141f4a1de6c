#!/usr/bin/env bash
# Capture ingestion side by side, in one run: the bare libpcap read loop (no decoding), flowpic
# (read + decode + unidirectional flow table, Google Benchmark median of 5), and dpkt.
# Usage: benchmarks/peers/compare_ingest.sh [BUILD_DIR]   (run from the repository root)
set -euo pipefail
build=${1:-build/release}
shared=${FLOWPIC_SHARED_DATA:-../shared/data}
peers=${FLOWPIC_PEERS:-../shared/peers}
files=("$shared"/requet-youtube-b2/*.pcap)
[ -e "${files[0]}" ] || { echo "no captures under $shared/requet-youtube-b2" >&2; exit 1; }
bench="$build/benchmarks/flowpic_bench_ingest"
[ -x "$bench" ] || { echo "build $bench first (cmake --build $build --target flowpic_bench_ingest)" >&2; exit 1; }

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc -O2 "$peers/machine/pcap_read_loop.c" -o "$tmp/pcap_read_loop" -lpcap
cat "${files[@]}" > /dev/null                      # page cache

loop=$(for i in 1 2 3 4 5; do "$tmp/pcap_read_loop" "${files[@]}"; done | sed -n 's/.*pkts_per_s=\([0-9]*\).*/\1/p' | sort -n | sed -n 3p)
fp=$(FLOWPIC_SHARED_DATA="$shared" "$bench" --benchmark_filter='^flows_unidirectional/' --benchmark_repetitions=5 \
      --benchmark_report_aggregates_only=true 2>/dev/null | awk '/_median/ { for (i = 1; i <= NF; i++) if ($i ~ /^packets_per_s=/) print $i }' \
      | sed 's/packets_per_s=//')
to_num() { awk -v v="$1" 'BEGIN { m = 1; if (v ~ /M\/s$/) m = 1e6; else if (v ~ /k\/s$/) m = 1e3; sub(/[kM]?\/s$/, "", v); printf "%.0f", v * m }'; }
fp=$(to_num "$fp")
dpkt=$(/usr/bin/python3 "$peers/ingest_peer.py" "${files[@]}" | sed -n 's/.*pkts_per_s=\([0-9]*\).*/\1/p')

echo "files=${#files[@]}"
echo "peer=libpcap_read_loop pkts_per_s=$loop (median of 5, no decoding)"
echo "flowpic decode+flows pkts_per_s=$fp (median of 5)"
echo "peer=dpkt_flows pkts_per_s=$dpkt"
awk -v f="$fp" -v l="$loop" -v d="$dpkt" 'BEGIN { printf "ratio flowpic/read_loop=%.2f flowpic/dpkt=%.0f\n", f / l, f / d }'
