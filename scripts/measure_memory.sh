#!/usr/bin/env bash
# Peak memory (max RSS, GNU time) of the tool on the hostile captures, for docs/benchmarks.md.
#
#   scripts/measure_memory.sh FLOWPIC DIR    DIR: made by scripts/make_hostile_captures.py
#
# Prints a Markdown table: command, peak RSS in MB, seconds, exit status.
set -uo pipefail
tool=$1
dir=$2
[[ -x /usr/bin/time ]] || { echo "measure_memory.sh: needs GNU time (apt-get install -y time)" >&2; exit 2; }
runs=(
    "flows many_flows.pcap"
    "flows many_flows.pcap --max-flows 1000"
    "flows many_flows.pcap --max-flows 1000 --order end"
    "classify many_flows.pcap"
    "classify many_flows.pcap --max-flows 1000"
    "flows one_flow.pcap"
    "blocks one_flow.pcap"
    "classify one_flow.pcap"
    "classify one_flow.pcap --max-packets 100000"
    "flows absurd_lengths.pcap"
    "classify zeros.bin"
)
echo "| command | peak RSS (MB) | seconds | exit |"
echo "|---|---|---|---|"
for r in "${runs[@]}"; do
    read -r cmd file rest <<<"$r"
    # shellcheck disable=SC2086
    /usr/bin/time -f "%M %e" -o /tmp/flowpic_mem.$$ "$tool" $cmd "$dir/$file" $rest >/dev/null 2>/tmp/flowpic_mem_err.$$
    rc=$?
    kb=$(tail -1 /tmp/flowpic_mem.$$ | awk '{print $1}')
    s=$(tail -1 /tmp/flowpic_mem.$$ | awk '{print $2}')
    printf '| `flowpic %s` | %d | %s | %s |\n' "$r" "$((kb / 1024))" "$s" "$rc"
done
rm -f /tmp/flowpic_mem.$$ /tmp/flowpic_mem_err.$$
