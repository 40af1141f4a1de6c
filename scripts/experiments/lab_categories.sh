#!/usr/bin/env bash
# Experiment 2 (docs/accuracy.md): the lab's five categories (data/lab/dataset), plain and VPN,
# laid out like the paper's tables (reference.md A.1, section 1.2).
#   15 s: mini_flowpic (32x32, both directions) on every complete 15 s window of each flow with
#         at least 10 packets (--all-windows --min-packets 10, as data/models/default.fpm),
#         LeNet-5, at most EPOCHS_15 (200) epochs, patience PATIENCE_15 (10)
#   60 s: shapira2019 (1500x1500, 60 s blocks, unidirectional), FlowPic network, at most
#         EPOCHS_60 (50) epochs, patience 5
# Splits by lab capture (70/15/15 % per class); seed s = split seed = training seed, s in SEEDS
# (at 60 s, to bound CPU time: multiclass SEEDS_60, default "1"; class-vs-all CVA_SEEDS_60,
# default none).
# Multiclass: train on plain / VPN / both, test on the test split of the same set and on all
# samples of the other variant (captures never seen in training). Class-vs-all: per category a
# two-class tree (the category vs "other", symlinks to the same files), trained on plain or VPN.
# Usage: scripts/experiments/lab_categories.sh [WORKDIR]   (default /tmp/flowpic-exp/lab)
# Env: RESOLUTIONS ("15 60"), SEEDS ("1 2 3"), SEEDS_60, CVA_SEEDS_60, EPOCHS_15, PATIENCE_15, EPOCHS_60,
# plus common.sh's.
source "$(dirname "$0")/common.sh"
W=${1:-/tmp/flowpic-exp/lab}
LAB=$ROOT/data/lab/dataset
RESOLUTIONS=${RESOLUTIONS:-15 60}
SEEDS=${SEEDS:-1 2 3}
EPOCHS_60=${EPOCHS_60:-50}
EPOCHS_15=${EPOCHS_15:-200}
PATIENCE_15=${PATIENCE_15:-10}
SEEDS_60=${SEEDS_60:-1}
CVA_SEEDS_60=${CVA_SEEDS_60:-}
CATS="browsing chat file_transfer video voip"
mkdir -p "$W/data" "$W/runs" "$W/trees"

# class-vs-all trees: trees/cva-<cat>/{<cat>,other}/ -> the lab's files
for c in $CATS; do
    t=$W/trees/cva-$c
    [[ -d $t ]] && continue
    mkdir -p "$t/$c" "$t/other"
    for d in $CATS; do
        for f in "$LAB/$d"/*.fpr; do
            if [[ $d == "$c" ]]; then ln -s "$f" "$t/$c/"; else ln -s "$f" "$t/other/"; fi
        done
    done
done

preset_args() {  # resolution -> dataset args
    case $1 in
        15) echo "--preset mini_flowpic --all-windows --min-packets 10" ;;
        60) echo "--preset shapira2019" ;;
    esac
}

for r in $RESOLUTIONS; do
    read -r -a pa <<< "$(preset_args "$r")"
    extra=(--epochs "$EPOCHS_15" --patience "$PATIENCE_15"); [[ $r == 60 ]] && extra=(--epochs "$EPOCHS_60")
    R=$W/runs/$r; D=$W/data/$r; mkdir -p "$R" "$D"
    seeds=$SEEDS; [[ $r == 60 ]] && seeds=$SEEDS_60
    for s in $seeds; do
        # multiclass
        make_dataset "$D/multi-plain-s$s.fpd" --data "$LAB" "${pa[@]}" --seed "$s" --where vpn=no
        make_dataset "$D/multi-vpn-s$s.fpd" --data "$LAB" "${pa[@]}" --seed "$s" --where vpn=yes
        make_dataset "$D/multi-both-s$s.fpd" --data "$LAB" "${pa[@]}" --seed "$s"
        for v in plain vpn both; do
            train_eval "$D/multi-$v-s$s.fpd" "$R/multi-$v-s$s.fpm" "$R/multi-$v-on-$v-s$s.json" "$s" "${extra[@]}"
        done
        eval_json "$R/multi-plain-s$s.fpm" "$D/multi-vpn-s$s.fpd" "$R/multi-plain-on-vpn-s$s.json" --split all
        eval_json "$R/multi-vpn-s$s.fpm" "$D/multi-plain-s$s.fpd" "$R/multi-vpn-on-plain-s$s.json" --split all
        # class vs all
        [[ $r == 60 && " $CVA_SEEDS_60 " != *" $s "* ]] && continue
        for c in $CATS; do
            make_dataset "$D/cva-$c-plain-s$s.fpd" --data "$W/trees/cva-$c" "${pa[@]}" --seed "$s" --where vpn=no
            make_dataset "$D/cva-$c-vpn-s$s.fpd" --data "$W/trees/cva-$c" "${pa[@]}" --seed "$s" --where vpn=yes
            for v in plain vpn; do
                train_eval "$D/cva-$c-$v-s$s.fpd" "$R/cva-$c-$v-s$s.fpm" "$R/cva-$c-$v-on-$v-s$s.json" "$s" "${extra[@]}"
            done
            eval_json "$R/cva-$c-plain-s$s.fpm" "$D/cva-$c-vpn-s$s.fpd" "$R/cva-$c-plain-on-vpn-s$s.json" --split all
            eval_json "$R/cva-$c-vpn-s$s.fpm" "$D/cva-$c-plain-s$s.fpd" "$R/cva-$c-vpn-on-plain-s$s.json" --split all
        done
    done
done

# tables: "ours mean ± std (paper)"; test = test split of the training set's own variant, or all
# samples of the other variant
declare -A P_MULTI=([plain,plain]="85.0" [vpn,vpn]="98.4 (4 classes)")
declare -A P_CVA=([voip,plain,plain]=99.6 [voip,plain,vpn]=99.4 [voip,vpn,plain]=95.8 [voip,vpn,vpn]=99.9
    [video,plain,plain]=99.9 [video,plain,vpn]=98.8 [video,vpn,plain]=54.0 [video,vpn,vpn]=99.9
    [file_transfer,plain,plain]=98.8 [file_transfer,plain,vpn]=79.9 [file_transfer,vpn,plain]=65.1 [file_transfer,vpn,vpn]=99.9
    [chat,plain,plain]=96.2 [chat,plain,vpn]=78.9 [chat,vpn,plain]=71.7 [chat,vpn,vpn]=99.2
    [browsing,plain,plain]=90.6)
paper() { [[ -n ${1:-} ]] && echo " ($1)" || echo " (-)"; }
for r in $RESOLUTIONS; do
    R=$W/runs/$r; D=$W/data/$r
    seeds=$SEEDS; [[ $r == 60 ]] && seeds=$SEEDS_60
    echo
    echo "## Experiment 2, $r s: multiclass accuracy % (5 classes; ours mean ± std over seeds $seeds (paper))"
    echo "| train \\ test | plain | VPN | plain + VPN |"
    echo "|---|---|---|---|"
    for v in plain vpn both; do
        row="| $v |"
        for t in plain vpn both; do
            if [[ -n $(ls "$R"/multi-$v-on-$t-s*.json 2>/dev/null) ]]; then
                row+=" $(summarize cell "$R/multi-$v-on-$t-s*.json")$(paper "${P_MULTI[$v,$t]:-}") |"
            else row+=" |"; fi
        done
        echo "$row"
    done
    echo
    echo "Per-class F1 % of the multiclass models on their own test split:"
    summarize rows "plain=$R/multi-plain-on-plain-s*.json" "vpn=$R/multi-vpn-on-vpn-s*.json" "both=$R/multi-both-on-both-s*.json"
    echo
    cs=$SEEDS; [[ $r == 60 ]] && cs=$CVA_SEEDS_60
    if [[ -n $cs ]]; then
        echo "## Experiment 2, $r s: class-vs-all accuracy % (ours: mean ± std over seeds $cs (paper)); balanced accuracy % in brackets"
        echo "| class | train \\ test | plain | VPN |"
        echo "|---|---|---|---|"
        for c in $CATS; do
            for v in plain vpn; do
                row="| $c | $v |"
                for t in plain vpn; do
                    g="$R/cva-$c-$v-on-$t-s*.json"
                    row+=" $(summarize cell "$g") [$(summarize cell "$g" --metric balanced)]$(paper "${P_CVA[$c,$v,$t]:-}") |"
                done
                echo "$row"
            done
        done
    fi
    echo
    echo "Samples (train/val/test, split seed ${seeds%% *}):"
    for f in "$D"/*-s"${seeds%% *}".txt; do echo "$(basename "${f%.txt}"): $(tail -1 "$f")"; done
done
