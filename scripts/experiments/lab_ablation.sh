#!/usr/bin/env bash
# Experiment 5's ablation (docs/accuracy.md): which of the lab's changes of issue 15 (WAN
# emulation, QUIC, many applications per class) moves a lab-only model's accuracy on real traffic.
# Every variant is the lab's plain captures (the real captures are not tunnelled), made with the
# same seed, sessions and length as the committed dataset's plain runs, and measured by
# lab_transfer.sh:
#   before    the committed dataset before issue 15 (git REV_BEFORE), plain captures
#   full      the new lab: WAN emulation, every application (QUIC among them)
#   no-quic   full without the sessions of QUIC applications (*-quic)
#   no-wan    every application, `--wan off` (veth + tbf at the category's speeds, no delay or loss)
#   old-apps  WAN emulation, only the applications of the lab before issue 15
# Usage (root, for the lab runs): scripts/experiments/lab_ablation.sh WORKDIR [FULL_RUNS_DIR]
#   FULL_RUNS_DIR: the runs of scripts/lab/make_committed_data.sh (its a and b are `full`).
source "$(dirname "$0")/common.sh"
W=${1:?usage: lab_ablation.sh WORKDIR [FULL_RUNS_DIR]}
FULL=${2:-$W/full-runs}
REV_BEFORE=${REV_BEFORE:-b5ffc02}
OLD_APPS=hls-https,chromium-https,irc-tls,opus-srtp,sftp,scp,https
mkdir -p "$W"
L=(nice -n 10 "$FLOWPIC" lab --seconds "${SECONDS_PER_SESSION:-90}" --max-rate "${MAX_RATE:-25}"
   --sessions "${SESSIONS:-8}" --seed "${SEED:-2030}" --vpn no --check --quiet)
runs() {  # runs DIR ARGS...: the two plain runs of make_committed_data.sh, into DIR/a and DIR/b
    local d=$1; shift
    [[ -s $d/a/manifest.csv ]] || "${L[@]}" --out "$d/a" --categories browsing,video "$@"
    [[ -s $d/b/manifest.csv ]] || "${L[@]}" --out "$d/b" --categories chat,voip,file_transfer "$@"
}
tree() {  # tree OUT RUNS_DIR [EXCLUDE_REGEX]: one class-per-folder tree of the runs' captures
    local out=$1 runs=$2 exclude=${3:-^$}
    rm -rf "$out"
    for r in a b; do
        tail -n +2 "$runs/$r/manifest.csv" | while IFS=, read -r file category _ application _; do
            [[ $application =~ $exclude ]] && continue
            mkdir -p "$out/$category"
            ln -s "$runs/$r/$file" "$out/$category/$r-$(basename "$file")"
        done
    done
}

runs "$FULL"
runs "$W/no-wan-runs" --wan off
runs "$W/old-apps-runs" --applications "$OLD_APPS"
tree "$W/full" "$FULL"
tree "$W/no-quic" "$FULL" '-quic$'
tree "$W/no-wan" "$W/no-wan-runs"
tree "$W/old-apps" "$W/old-apps-runs"
if [[ ! -d $W/before ]]; then
    mkdir -p "$W/before.tmp"
    git -C "$ROOT" archive "$REV_BEFORE" data/lab/dataset | tar -x -C "$W/before.tmp"
    for f in "$W"/before.tmp/data/lab/dataset/*/*-plain-*.fpr; do
        c=$(basename "$(dirname "$f")")
        mkdir -p "$W/before/$c" && mv "$f" "$W/before/$c/"
    done
    rm -rf "$W/before.tmp"
fi
"$EXP_DIR/lab_transfer.sh" "$W/transfer" before="$W/before" full="$W/full" no-quic="$W/no-quic" \
    no-wan="$W/no-wan" old-apps="$W/old-apps"
