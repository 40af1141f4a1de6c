#!/usr/bin/env bash
# Experiment 1 (docs/accuracy.md): YouTube vs Bilibili vs Twitch on ../shared/data/video-3platform,
# the first 15 s of each session, split by file (70/15/15 % of each class's files).
#   mini_flowpic (32x32), mini_flowpic64 (64x64): LeNet-5, at most 50 epochs, patience 5
#   mini_flowpic1500 (1500x1500, the same 15 s pictures): the shapira2019 network (tcbench's
#     choice for 1500), at most EPOCHS_1500 (8) epochs, patience 5, to bound CPU time
# Arm "train seeds": split seed 1 fixed, training seeds 1 2 3, augmentations AUGS (none /
# change_rtt / time_shift; AUGS_1500: none / change_rtt). Arm "split seeds": split seeds 1 2 3, training seed 1,
# no augmentation (for mini_flowpic1500 only with SPLIT_ARM_1500=1).
# Usage: scripts/experiments/video_platforms.sh [WORKDIR]   (default /tmp/flowpic-exp/video)
# Env: PRESETS, AUGS, AUGS_1500, SEEDS, EPOCHS_1500, plus common.sh's FLOWPIC, FLOWPIC_SHARED_DATA, THREADS.
source "$(dirname "$0")/common.sh"
W=${1:-/tmp/flowpic-exp/video}
DATA=$SHARED/video-3platform
PRESETS=${PRESETS:-mini_flowpic mini_flowpic64 mini_flowpic1500}
AUGS=${AUGS:-none change_rtt time_shift}
AUGS_1500=${AUGS_1500:-none change_rtt}
SPLIT_ARM_1500=${SPLIT_ARM_1500:-0}
SEEDS=${SEEDS:-1 2 3}
EPOCHS_1500=${EPOCHS_1500:-8}
mkdir -p "$W/data" "$W/runs"

for p in $PRESETS; do
    extra=(); augs=$AUGS; splits=$SEEDS
    [[ $p == mini_flowpic1500 ]] && { extra=(--epochs "$EPOCHS_1500"); augs=$AUGS_1500; }
    [[ $p == mini_flowpic1500 && $SPLIT_ARM_1500 != 1 ]] && splits=${SEEDS%% *}
    mkdir -p "$W/runs/$p"
    for s in $splits; do
        make_dataset "$W/data/$p-split$s.fpd" --data "$DATA" --preset "$p" --seed "$s"
    done
    first=${SEEDS%% *}
    # arm 1: fixed split, training seeds
    for a in $augs; do
        aug=(); [[ $a != none ]] && aug=(--augment "$a")
        for t in $SEEDS; do
            r=$W/runs/$p/split$first-$a-seed$t
            train_eval "$W/data/$p-split$first.fpd" "$r.fpm" "$r.json" "$t" "${aug[@]}" "${extra[@]}"
        done
    done
    # arm 2: split seeds, training seed = first
    for s in $splits; do
        r=$W/runs/$p/split$s-none-seed$first
        train_eval "$W/data/$p-split$s.fpd" "$r.fpm" "$r.json" "$first" "${extra[@]}"
    done
done

echo "## Experiment 1: video platforms (test split; mean ± std over runs)"
for p in $PRESETS; do
    augs=$AUGS; [[ $p == mini_flowpic1500 ]] && augs=$AUGS_1500
    first=${SEEDS%% *}
    specs=()
    for a in $augs; do specs+=("$p, split $first, train seeds, $a=$W/runs/$p/split$first-$a-seed*.json"); done
    [[ $p == mini_flowpic1500 && $SPLIT_ARM_1500 != 1 ]] ||
        specs+=("$p, split seeds, train seed $first, none=$W/runs/$p/split*-none-seed$first.json")
    echo; summarize rows "${specs[@]}"
done
echo
echo "Samples (train/val/test) per split seed:"
for f in "$W"/data/*.txt; do echo "$(basename "${f%.txt}"): $(tail -1 "$f")"; done
