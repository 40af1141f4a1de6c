#!/usr/bin/env bash
# Experiment 3 (docs/accuracy.md): the lab-trained default model (data/models/default.fpm, or
# MODEL=...) on the long flows of ../shared/data/ndpi, labelled by nDPI's per-flow category
# (ndpi_tree.py: Web -> browsing, Chat -> chat, VoIP -> voip, Video/Streaming/Media -> video,
# Download -> file_transfer; nDPI duration >= 15 s). The tree is made into pictures with the
# model's preset: the first window of each flow, and (--all-windows) every complete window, both
# with at least MIN_PACKETS (10) packets, as the default model's training set.
# Usage: scripts/experiments/ndpi_transfer.sh [WORKDIR]   (default /tmp/flowpic-exp/ndpi)
source "$(dirname "$0")/common.sh"
W=${1:-/tmp/flowpic-exp/ndpi}
MODEL=${MODEL:-$ROOT/data/models/default.fpm}
[[ -s $MODEL ]] || { echo "no model $MODEL" >&2; exit 1; }
MIN_PACKETS=${MIN_PACKETS:-10}
mkdir -p "$W"
[[ -d $W/tree ]] || "$PY" "$EXP_DIR/ndpi_tree.py" --ndpi "$SHARED/ndpi" --out "$W/tree" 2> "$W/tree.log" | tee "$W/tree.txt"
mp=(--min-packets "$MIN_PACKETS")
eval_json "$MODEL" "$W/tree" "$W/first-window.json" "${mp[@]}"
eval_json "$MODEL" "$W/tree" "$W/all-windows.json" --all-windows "${mp[@]}"
"$FLOWPIC" eval --model "$MODEL" --data "$W/tree" --threads "$THREADS" "${mp[@]}" --png "$W/first-window.png" > "$W/first-window.txt"
"$FLOWPIC" eval --model "$MODEL" --data "$W/tree" --threads "$THREADS" --all-windows "${mp[@]}" > "$W/all-windows.txt"
echo "## Experiment 3: $(basename "$MODEL") on nDPI's long flows (all samples)"
summarize rows "first window of each flow=$W/first-window.json" "every complete window (--all-windows)=$W/all-windows.json"
echo
cat "$W/first-window.txt"; echo; cat "$W/all-windows.txt"
