#!/usr/bin/env bash
# Experiment 5's ablation (docs/accuracy.md): which of the lab's changes of issue 15 (WAN
# emulation, QUIC as Google sends it, many applications per class) moves a lab-only model's
# accuracy on real traffic. Every variant is the lab's plain captures (the real captures are not
# tunnelled), made with the same seed, sessions and lengths as the committed dataset's plain runs
# (scripts/lab/make_committed_data.sh: browsing, video and the other three categories as runs a,
# v and b), and measured by lab_transfer.sh (SEEDS: its training seeds, default "2 3 4 5"):
#   before    the committed dataset before issue 15 (git REV_BEFORE), plain captures
#   full      the new lab: WAN emulation, every application, QUIC as Google's (the committed runs)
#   no-quic   full without the sessions of QUIC applications (*-quic)
#   quic-go   full with the lab's QUIC as quic-go sends it (`--quic quic-go`: quic-go's packet
#             sizes and ACKs); runs a and v again, b has no QUIC and is full's
#   no-wan    every application, `--wan off` (veth + tbf at the category's speeds, no delay or loss)
#   old-apps  WAN emulation, only the applications of the lab before issue 15
# Usage (root, for the lab runs): scripts/experiments/lab_ablation.sh WORKDIR [FULL_RUNS_DIR]
#   FULL_RUNS_DIR: the runs of scripts/lab/make_committed_data.sh (its a, v and b are `full`).
source "$(dirname "$0")/common.sh"
W=${1:?usage: lab_ablation.sh WORKDIR [FULL_RUNS_DIR]}
FULL=${2:-$W/full-runs}
REV_BEFORE=${REV_BEFORE:-b5ffc02}
OLD_APPS=hls-https,chromium-https,irc-tls,opus-srtp,sftp,scp,https
mkdir -p "$W"
L=(nice -n 10 "$FLOWPIC" lab --max-rate "${MAX_RATE:-25}" --seed "${SEED:-2030}" --vpn no --check --quiet)
S=(--seconds "${SECONDS_PER_SESSION:-90}" --sessions "${SESSIONS:-8}")
V=(--seconds "${VIDEO_SECONDS:-240}" --sessions "${VIDEO_SESSIONS:-18}")
runs() {  # runs DIR RUNS ARGS...: the plain runs (a subset of "avb") of make_committed_data.sh, into DIR/{a,v,b}
    local d=$1 which=$2; shift 2
    [[ $which != *a* || -s $d/a/manifest.csv ]] || "${L[@]}" --out "$d/a" --categories browsing "${S[@]}" "$@"
    [[ $which != *v* || -s $d/v/manifest.csv ]] || "${L[@]}" --out "$d/v" --categories video "${V[@]}" "$@"
    [[ $which != *b* || -s $d/b/manifest.csv ]] || "${L[@]}" --out "$d/b" --categories chat,voip,file_transfer "${S[@]}" "$@"
}
tree() {  # tree OUT EXCLUDE_REGEX RUN_DIR...: one class-per-folder tree of the runs' captures
    local out=$1 exclude=$2; shift 2
    rm -rf "$out"
    for r in "$@"; do
        tail -n +2 "$r/manifest.csv" | while IFS=, read -r file category _ application _; do
            [[ $application =~ $exclude ]] && continue
            mkdir -p "$out/$category"
            ln -s "$r/$file" "$out/$category/$(basename "$r")-$(basename "$file")"
        done
    done
}

runs "$FULL" avb
runs "$W/quic-go-runs" av --quic quic-go
runs "$W/no-wan-runs" avb --wan off
runs "$W/old-apps-runs" avb --applications "$OLD_APPS"
tree "$W/full" '^$' "$FULL"/{a,v,b}
tree "$W/no-quic" '-quic$' "$FULL"/{a,v,b}
tree "$W/quic-go" '^$' "$W"/quic-go-runs/{a,v} "$FULL/b"
tree "$W/no-wan" '^$' "$W"/no-wan-runs/{a,v,b}
tree "$W/old-apps" '^$' "$W"/old-apps-runs/{a,v,b}
if [[ ! -d $W/before ]]; then
    mkdir -p "$W/before.tmp"
    git -C "$ROOT" archive "$REV_BEFORE" data/lab/dataset | tar -x -C "$W/before.tmp"
    for f in "$W"/before.tmp/data/lab/dataset/*/*-plain-*.fpr; do
        c=$(basename "$(dirname "$f")")
        mkdir -p "$W/before/$c" && mv "$f" "$W/before/$c/"
    done
    rm -rf "$W/before.tmp"
fi
SEEDS=${SEEDS:-2 3 4 5} "$EXP_DIR/lab_transfer.sh" "$W/transfer" before="$W/before" full="$W/full" \
    no-quic="$W/no-quic" quic-go="$W/quic-go" no-wan="$W/no-wan" old-apps="$W/old-apps"
