# shellcheck shell=bash
# Shared helpers of the experiment drivers (sourced, not run).
#   FLOWPIC              the tool (default: build/release/tools/flowpic of this checkout)
#   FLOWPIC_SHARED_DATA  the third-party data (default: ../shared/data beside the checkout)
#   THREADS              threads per training/eval (default 2)
set -euo pipefail

EXP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$EXP_DIR/../.." && pwd)
FLOWPIC=${FLOWPIC:-$ROOT/build/release/tools/flowpic}
export SHARED=${FLOWPIC_SHARED_DATA:-$ROOT/../shared/data}
THREADS=${THREADS:-2}
PY=${PYTHON:-/usr/bin/python3}

[[ -x $FLOWPIC ]] || { echo "no flowpic tool at $FLOWPIC (build it, or set FLOWPIC=...)" >&2; exit 1; }

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# make_dataset OUT.fpd ARGS...: flowpic dataset ... --out OUT.fpd, once (kept when present);
# the printed split table goes to OUT.txt.
make_dataset() {
    local out=$1; shift
    [[ -s $out ]] && return 0
    "$FLOWPIC" dataset "$@" --out "$out" > "${out%.fpd}.txt" 2>&1 || { cat "${out%.fpd}.txt" >&2; rm -f "$out"; return 1; }
}

# train_eval DATA.fpd MODEL.fpm JSON SEED [TRAIN ARGS...]: trains (unless MODEL exists), then
# writes the test split's `eval --json` to JSON. The training log goes to MODEL.log.
train_eval() {
    local data=$1 model=$2 json=$3 seed=$4; shift 4
    if [[ ! -s $model ]]; then
        log "train $(basename "$model")"
        "$FLOWPIC" train --data "$data" --out "$model" --seed "$seed" --threads "$THREADS" "$@" \
            > "${model%.fpm}.log" 2>&1 || { cat "${model%.fpm}.log" >&2; rm -f "$model"; return 1; }
    fi
    [[ -s $json ]] || "$FLOWPIC" eval --model "$model" --data "$data" --threads "$THREADS" --json > "$json"
}

# eval_json MODEL DATA JSON [EVAL ARGS...]: eval --json once.
eval_json() {
    local model=$1 data=$2 json=$3; shift 3
    [[ -s $json ]] || "$FLOWPIC" eval --model "$model" --data "$data" --threads "$THREADS" --json "$@" > "$json"
}

summarize() { "$PY" "$EXP_DIR/summarize.py" "$@"; }
