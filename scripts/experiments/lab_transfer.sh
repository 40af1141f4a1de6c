#!/usr/bin/env bash
# Experiment 5 (docs/accuracy.md): does what a model learns in the lab transfer to real traffic?
# Trains a lab-only model on each lab dataset given (the bundled model's recipe: mini_flowpic,
# every complete 15 s window with >= 10 packets, classes weighted `balanced`, seed 2) and measures
# it on every real labelled capture of ../shared/data, none of which it saw:
#   - real: nDPI's captures labelled by `flowpic label` (nDPI 4.2, default label map) plus the
#     Requet YouTube captures (video connections by the set's README rule): macro recall over the
#     five classes;
#   - youtube: the Requet captures alone: video recall on real YouTube connections.
# Usage: scripts/experiments/lab_transfer.sh WORKDIR NAME=LABDATA [NAME=LABDATA ...]
#   LABDATA: a lab output directory (`flowpic lab --out DIR`: captures by category) or the lab's
#   .fpr files by category (data/lab/dataset).
source "$(dirname "$0")/common.sh"
W=${1:?usage: lab_transfer.sh WORKDIR NAME=LABDATA...}
shift
RECIPE=(--preset mini_flowpic --all-windows --min-packets 10)
TRAIN=(--augment change_rtt,time_shift --epochs 100 --patience 10 --class-weights balanced --quiet)
mkdir -p "$W"

[[ -s $W/ndpi.labels.csv ]] || "$FLOWPIC" label --keep-going "$SHARED"/ndpi/pcap/* --out "$W/ndpi.labels.csv" \
    2> "$W/ndpi.labels.txt"
[[ -s $W/requet.labels.csv ]] || "$PY" "$ROOT/scripts/models/requet_labels.py" "$SHARED/requet-youtube-b2" \
    > "$W/requet.labels.csv"
ndpi_caps=()
for f in "$SHARED"/ndpi/pcap/*; do
    grep -qF "skipped: $f:" "$W/ndpi.labels.txt" 2> /dev/null || ndpi_caps+=("$f")
done
LABELS=(--labels "$W/ndpi.labels.csv" --labels "$W/requet.labels.csv")
make_dataset "$W/real.fpd" "${RECIPE[@]}" "${LABELS[@]}" --split 0,0,1 --seed 1 \
    "${ndpi_caps[@]}" "$SHARED"/requet-youtube-b2/*.pcap
make_dataset "$W/youtube.fpd" "${RECIPE[@]}" --labels "$W/requet.labels.csv" --split 0,0,1 --seed 1 \
    "$SHARED"/requet-youtube-b2/*.pcap

recalls() {  # JSON -> "MACRO | R1 | R2 | ..." over the classes present, in the model's class order
    "$PY" - "$1" << 'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
cm = j["confusion"]
rec = [cm[i][i] / sum(cm[i]) if sum(cm[i]) else None for i in range(len(cm))]
have = [r for r in rec if r is not None]
print(" | ".join(["**%.3f**" % (sum(have) / len(have))] + ["-" if r is None else "%.3f" % r for r in rec]))
EOF
}

echo "| lab data | lab samples (train/val) | real: macro recall | browsing | chat | file_transfer | video | voip | YouTube: video recall |"
echo "|---|---|---|---|---|---|---|---|---|"
for spec in "$@"; do
    name=${spec%%=*} data=${spec#*=}
    make_dataset "$W/$name.lab.fpd" "${RECIPE[@]}" --data "$data" --split 0.85,0.15,0 --seed 1
    if [[ ! -s $W/$name.fpm ]]; then
        log "train $name"
        "$FLOWPIC" train --data "$W/$name.lab.fpd" --out "$W/$name.fpm" --seed 2 --threads "$THREADS" "${TRAIN[@]}" \
            > "$W/$name.train.txt" 2>&1 || { cat "$W/$name.train.txt" >&2; exit 1; }
    fi
    for t in real youtube; do
        [[ -s $W/$name.$t.json ]] || "$FLOWPIC" eval --model "$W/$name.fpm" --data "$W/$t.fpd" --split all \
            --threads "$THREADS" --json > "$W/$name.$t.json"
    done
    yt=$("$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); i=j["classes"].index("video"); r=j["confusion"][i]; print("%.3f" % (r[i]/sum(r)))' "$W/$name.youtube.json")
    n=$(awk '$1 == "total" { print $6 "/" $7 }' "$W/$name.lab.txt")
    echo "| $name | ${n:-see $name.lab.txt} | $(recalls "$W/$name.real.json") | **$yt** |"
done
echo
for spec in "$@"; do
    name=${spec%%=*}
    "$PY" "$ROOT/scripts/models/real_test_report.py" "$W/$name.real.json"
done
