#!/usr/bin/env bash
# Ingest on more threads (issue 16): `flowpic flows` and `flowpic classify` (the bundled mini_flowpic
# model) on 1 and 2 threads (THREADS="1 2 4 ..."), interleaved, RUNS rounds; medians and the ratio of
# each count's median to one thread's. The captures: the Requet pcaps merged (mergecap, else
# merge_pcaps.py), COPIES times back to back a day apart (default 1).
# Usage: benchmarks/peers/compare_threads.sh [BUILD_DIR]   RUNS=7 THREADS="1 2" COPIES=4 PRIO="chrt -f 10"
# On a machine busy with other work, PRIO="chrt -f 10" (root) runs the tool ahead of it.
set -euo pipefail
build=${1:-build/release}
shared=${FLOWPIC_SHARED_DATA:-../shared/data}
runs=${RUNS:-7}
threads=${THREADS:-1 2}
copies=${COPIES:-1}
prio=${PRIO:-}
tool="$build/tools/flowpic"
[ -x "$tool" ] || { echo "build $tool first" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
files=("$shared"/requet-youtube-b2/*.pcap)
if [ "$copies" = 1 ] && command -v mergecap > /dev/null; then
  mergecap -F pcap -w "$tmp/all.pcap" "${files[@]}"
else
  python3 "$(dirname "$0")/merge_pcaps.py" "$tmp/all.pcap" "${files[@]}" --copies "$copies"
fi
for r in $(seq "$runs"); do
  for cmd in flows classify; do
    for t in $threads; do
      s=$( { $prio /usr/bin/time -f "wall=%e" "$tool" $cmd "$tmp/all.pcap" --threads "$t" > /dev/null; } 2>&1 | sed -n 's/^wall=//p')
      echo "$cmd $t $s" >> "$tmp/times"
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$tmp/times" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
for cmd in ("flows", "classify"):
    med = {t: st.median(float(r[2]) for r in rows if r[0] == cmd and r[1] == t) for t in dict.fromkeys(r[1] for r in rows)}
    one = med.get("1")
    print(cmd + ": " + ", ".join(f"{t} threads {m:.3f} s" + (f" ({one / m:.2f}x)" if one else "") for t, m in med.items()))
PY
