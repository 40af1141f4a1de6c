#!/usr/bin/env bash
# Experiment 5 (docs/accuracy.md): does what a model learns in the lab transfer to real traffic?
# Trains a lab-only model on each lab dataset given (the bundled model's recipe: mini_flowpic,
# every complete 15 s window with >= 10 packets, classes weighted `balanced`, seed 2) and measures
# it on every real labelled capture of ../shared/data, none of which it saw:
#   - real: nDPI's captures labelled by `flowpic label` (nDPI 4.2, default label map) plus the
#     Requet YouTube captures (video connections by the set's README rule): macro recall over the
#     five classes;
#   - youtube: the Requet captures alone: video recall on real YouTube connections.
# Usage: [SEEDS="2 3 4"] [LAB_WHERE=vpn=no] scripts/experiments/lab_transfer.sh WORKDIR NAME=LABDATA [NAME=LABDATA ...]
#   LABDATA: a lab output directory (`flowpic lab --out DIR`: captures by category) or the lab's
#   .fpr files by category (data/lab/dataset). LAB_WHERE: a `dataset --where` clause on the lab's
#   captures (e.g. vpn=no: its plain half only).
source "$(dirname "$0")/common.sh"
W=${1:?usage: lab_transfer.sh WORKDIR NAME=LABDATA...}
shift
RECIPE=(--preset mini_flowpic --all-windows --min-packets 10)
TRAIN=(--augment change_rtt,time_shift --epochs 100 --patience 10 --class-weights balanced --quiet)
mkdir -p "$W"

[[ -s $W/ndpi.labels.csv ]] || "$FLOWPIC" label --keep-going "$SHARED"/ndpi/pcap/* --out "$W/ndpi.labels.csv" \
    2> "$W/ndpi.labels.txt" || [ $? -eq 3 ]  # 3: a damaged capture, read up to the damage
[[ -s $W/requet.labels.csv ]] || "$PY" "$ROOT/scripts/models/requet_labels.py" "$SHARED/requet-youtube-b2" \
    > "$W/requet.labels.csv"
ndpi_caps=()
for f in "$SHARED"/ndpi/pcap/*; do
    grep -qF -e "skipped: $f:" -e "warning: $f: byte offset" "$W/ndpi.labels.txt" 2> /dev/null || ndpi_caps+=("$f")
done
LABELS=(--labels "$W/ndpi.labels.csv" --labels "$W/requet.labels.csv")
make_dataset "$W/real.fpd" "${RECIPE[@]}" "${LABELS[@]}" --split 0,0,1 --seed 1 \
    "${ndpi_caps[@]}" "$SHARED"/requet-youtube-b2/*.pcap
make_dataset "$W/youtube.fpd" "${RECIPE[@]}" --labels "$W/requet.labels.csv" --split 0,0,1 --seed 1 \
    "$SHARED"/requet-youtube-b2/*.pcap

recalls() {  # JSON... -> "MACRO | R1 | R2 | ..." over the classes present, in the model's class order,
             # each the mean over the files (one per training seed) and, with several, "(min-max)"
    "$PY" - "$@" << 'EOF'
import json, sys
rows = []
for path in sys.argv[1:]:
    cm = json.load(open(path))["confusion"]
    rec = [cm[i][i] / sum(cm[i]) if sum(cm[i]) else None for i in range(len(cm))]
    have = [r for r in rec if r is not None]
    rows.append([sum(have) / len(have)] + rec)
def cell(vals, bold=False):
    if vals[0] is None:
        return "-"
    m = sum(vals) / len(vals)
    text = ("**%.3f**" if bold else "%.3f") % m
    return text + (" (%.2f-%.2f)" % (min(vals), max(vals)) if len(vals) > 1 else "")
print(" | ".join(cell([r[k] for r in rows], k == 0) for k in range(len(rows[0]))))
EOF
}
video_recall() {  # JSON... -> the mean video recall (and its range over seeds)
    "$PY" - "$@" << 'EOF'
import json, sys
v = []
for path in sys.argv[1:]:
    j = json.load(open(path)); i = j["classes"].index("video"); r = j["confusion"][i]
    v.append(r[i] / sum(r))
print("**%.3f**" % (sum(v) / len(v)) + (" (%.2f-%.2f)" % (min(v), max(v)) if len(v) > 1 else ""))
EOF
}

# SEEDS: the training seeds, one model each (2 is the bundled model's); the table gives the mean
# over them and, with several, the range.
read -r -a seeds <<< "${SEEDS:-2}"
model_of() { [[ $2 == 2 ]] && echo "$W/$1.fpm" || echo "$W/$1.s$2.fpm"; }
echo "| lab data | lab samples (train/val) | real: macro recall | browsing | chat | file_transfer | video | voip | YouTube: video recall |"
echo "|---|---|---|---|---|---|---|---|---|"
for spec in "$@"; do
    name=${spec%%=*} data=${spec#*=}
    make_dataset "$W/$name.lab.fpd" "${RECIPE[@]}" --data "$data" ${LAB_WHERE:+--where "$LAB_WHERE"} \
        --split 0.85,0.15,0 --seed 1
    real=() youtube=()
    for seed in "${seeds[@]}"; do
        m=$(model_of "$name" "$seed")
        if [[ ! -s $m ]]; then
            log "train $name (seed $seed)"
            "$FLOWPIC" train --data "$W/$name.lab.fpd" --out "$m" --seed "$seed" --threads "$THREADS" "${TRAIN[@]}" \
                > "${m%.fpm}.train.txt" 2>&1 || { cat "${m%.fpm}.train.txt" >&2; exit 1; }
        fi
        for t in real youtube; do
            [[ -s ${m%.fpm}.$t.json ]] || "$FLOWPIC" eval --model "$m" --data "$W/$t.fpd" --split all \
                --threads "$THREADS" --json > "${m%.fpm}.$t.json"
        done
        real+=("${m%.fpm}.real.json") youtube+=("${m%.fpm}.youtube.json")
    done
    n=$(awk '$1 == "total" { print $6 "/" $7 }' "$W/$name.lab.txt")
    echo "| $name | ${n:-see $name.lab.txt} | $(recalls "${real[@]}") | $(video_recall "${youtube[@]}") |"
done
echo
for spec in "$@"; do
    name=${spec%%=*}
    m=$(model_of "$name" "${seeds[0]}")
    "$PY" "$ROOT/scripts/models/real_test_report.py" "${m%.fpm}.real.json"
done
