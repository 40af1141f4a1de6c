#!/bin/bash
# Chooses the bundled model's preset and windows by validation on real traffic: 4 folds over the
# real capture files (by a hash of their names; never by window), each trained on the other three
# folds plus the lab and measured on its own fold. Prints, per candidate, the pooled confusion and
# per-class recall (scripts/models/real_test_report.py).
#
#   scripts/models/choose_recipe.sh [WORKDIR] [CANDIDATE...]
#
# A candidate is NAME=PRESET:FLAGS, e.g. "c10=mini_flowpic:--all-windows --min-packets 10". Needs
# the label files that build_default_model.sh writes in the same WORKDIR (it runs step 1 of it).
# LAB=DIR replaces the lab tree (e.g. a tree of its plain captures only); LAB=none trains on the
# real folds alone (what in-domain training reaches on these captures).
set -euo pipefail
cd "$(dirname "$0")/../.."
W=${1:-/tmp/flowpic-model}
shift || true
FLOWPIC=${FLOWPIC:-build/release/tools/flowpic}
SHARED=${SHARED:-../shared/data}
THREADS=${THREADS:-2}
PY=${PY:-/usr/bin/python3}
if [ $# -eq 0 ]; then
    set -- "complete10=mini_flowpic:--all-windows --min-packets 10" \
           "complete5=mini_flowpic:--all-windows --min-packets 5" \
           "first10=mini_flowpic:--min-packets 10" \
           "complete10x64=mini_flowpic64:--all-windows --min-packets 10"
fi
mkdir -p "$W/choose"
[ -s "$W/ndpi.labels.csv" ] || "$FLOWPIC" label --keep-going "$SHARED"/ndpi/pcap/* --out "$W/ndpi.labels.csv" \
    2> "$W/ndpi.labels.txt" || [ $? -eq 3 ]  # 3: a damaged capture, read up to the damage
[ -s "$W/requet.labels.csv" ] || "$PY" scripts/models/requet_labels.py "$SHARED/requet-youtube-b2" > "$W/requet.labels.csv"
LABELS=(--labels "$W/ndpi.labels.csv" --labels "$W/requet.labels.csv")
LABDATA=(--data "${LAB:-data/lab/dataset}")
[ "${LAB:-}" = none ] && LABDATA=()
fold_of() { local h; h=$(printf %s "$(basename "$1")" | md5sum | cut -c1-2); echo $((16#$h % 4)); }
for cand in "$@"; do
    name=${cand%%=*} rest=${cand#*=}
    preset=${rest%%:*} flags=${rest#*:}
    read -r -a FLAGS <<< "$flags"
    for k in 0 1 2 3; do
        D="$W/choose/$name/fold$k"
        mkdir -p "$D"
        [ -s "$D/eval.json" ] && continue
        train=() test=()
        for f in "$SHARED"/ndpi/pcap/* "$SHARED"/requet-youtube-b2/*.pcap; do
            grep -qF -e "skipped: $f:" -e "warning: $f: byte offset" "$W/ndpi.labels.txt" 2> /dev/null && continue
            if [ "$(fold_of "$f")" -eq $k ]; then test+=("$f"); else train+=("$f"); fi
        done
        "$FLOWPIC" dataset --preset "$preset" "${FLAGS[@]}" "${LABDATA[@]}" "${LABELS[@]}" --split 0.85,0.15,0 \
            --seed 1 --out "$D/train.fpd" "${train[@]}" 2> "$D/train.txt"
        "$FLOWPIC" dataset --preset "$preset" "${FLAGS[@]}" "${LABELS[@]}" --split 0,0,1 --seed 1 --out "$D/test.fpd" \
            "${test[@]}" 2> "$D/test.txt"
        "$FLOWPIC" train --data "$D/train.fpd" --out "$D/model.fpm" --seed 2 --augment change_rtt,time_shift \
            --epochs 100 --patience 10 --class-weights balanced --threads "$THREADS" --quiet > "$D/train.log"
        "$FLOWPIC" eval --model "$D/model.fpm" --data "$D/test.fpd" --split all --json > "$D/eval.json"
    done
    echo "## $name ($preset $flags), 4 folds pooled"
    "$PY" scripts/models/real_test_report.py --pool "$W/choose/$name"/fold*/eval.json
done
