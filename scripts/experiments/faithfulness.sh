#!/usr/bin/env bash
# Experiment 4 (docs/accuracy.md): flowpic vs PyTorch on the same pictures and split.
# The lab's five categories at 15 s (mini_flowpic 32x32, every 15 s window with at least 10 packets:
# --all-windows --min-packets 10, the dataset of data/models/default.fpm), split
# seed 1 (70/15/15 % of each class's lab captures). flowpic train and PyTorch
# (pytorch_faithfulness.py) each train seeds 1 2 3 with Adam lr 1e-3, batch 32, at most EPOCHS
# (200) epochs, early stopping on validation loss with PATIENCE (10), best weights kept. The
# pictures PyTorch trains on are those flowpic stored in the dataset file, written out by
# `flowpic eval --pictures/--labels` per split. The PyTorch models are also imported into
# flowpic (import-weights) and evaluated there, which checks inference on its own. PyTorch runs
# with TORCH_THREADS (1) threads: on the shared 2-core VM, 2 threads were 7x slower per epoch.
# Usage: scripts/experiments/faithfulness.sh [WORKDIR]   (default /tmp/flowpic-exp/faithfulness)
source "$(dirname "$0")/common.sh"
W=${1:-/tmp/flowpic-exp/faithfulness}
SEEDS=${SEEDS:-1 2 3}
EPOCHS=${EPOCHS:-200}
PATIENCE=${PATIENCE:-10}
mkdir -p "$W/flowpic" "$W/pictures" "$W/torch"
D=$W/lab15.fpd
make_dataset "$D" --data "$ROOT/data/lab/dataset" --preset mini_flowpic --all-windows --min-packets 10 --seed 1

for s in $SEEDS; do
    train_eval "$D" "$W/flowpic/seed$s.fpm" "$W/flowpic/seed$s.json" "$s" --epochs "$EPOCHS" --patience "$PATIENCE"
done

first=${SEEDS%% *}
P=$W/pictures
if [[ ! -s $P/test_y.npy ]]; then
    for split in train validation test; do
        "$FLOWPIC" eval --model "$W/flowpic/seed$first.fpm" --data "$D" --split "$split" --threads "$THREADS" \
            --pictures "$P/${split}_x.npy" --labels "$P/${split}_y.npy" > /dev/null
    done
    "$PY" -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["classes"]))' \
        "$W/flowpic/seed$first.json" > "$P/classes.txt"
fi

# shellcheck disable=SC2086
[[ -n $(ls "$W"/torch/torch-seed*.json 2>/dev/null) ]] ||
    "$PY" "$EXP_DIR/pytorch_faithfulness.py" --pictures "$P" --out "$W/torch" --seeds $SEEDS \
        --epochs "$EPOCHS" --patience "$PATIENCE" --threads "${TORCH_THREADS:-1}" --export-weights | tee "$W/torch/log.txt" >&2

names=$(paste -sd, "$P/classes.txt")
for s in $SEEDS; do
    m=$W/torch/imported-seed$s.fpm
    [[ -s $m ]] || "$FLOWPIC" import-weights --preset mini_flowpic --classes "$(wc -l < "$P/classes.txt")" \
        --class-names "$names" --from "$W/torch/torch-seed$s-weights" --out "$m" > /dev/null
    eval_json "$m" "$D" "$W/torch/imported-seed$s.json"
done

echo "## Experiment 4: flowpic vs PyTorch, lab 5 categories, 15 s, mini_flowpic 32x32, split seed 1 (test split)"
summarize rows "flowpic train (seeds $SEEDS)=$W/flowpic/seed*.json" \
    "PyTorch (seeds $SEEDS)=$W/torch/torch-seed*.json" \
    "PyTorch weights evaluated by flowpic=$W/torch/imported-seed*.json"
echo
echo "Samples: $(tail -1 "${D%.fpd}.txt")"
