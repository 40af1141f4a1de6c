#!/usr/bin/env bash
# The tool under mpirun (1, 2 and 3 ranks) against one process: the same dataset bytes, the same
# model file (data-parallel training is exact, on dense mini-FlowPics and on sparse 1500x1500
# pictures), the same eval and classify output, and a rank killed mid-training that stops the
# job with a clear error, after which --resume ends with the uninterrupted run's model.
# Usage: mpi_checks.sh CHECK TOOL MPIEXEC SOURCE_DIR OUT_DIR
set -euo pipefail
check=$1 tool=$2 mpiexec=$3 src=$4 out=$5
mkdir -p "$out"
cd "$out"
# root in containers and CI; no shared-memory single-copy (CMA is refused in many containers)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
run() { local n=$1; shift; "$mpiexec" --oversubscribe -n "$n" "$tool" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
same() { cmp -s "$1" "$2" || fail "$1 and $2 differ"; echo "same: $1 $2"; }

lab=$src/data/lab/dataset
dataset() {  # the lab's 10 flow-record files, sharded over the ranks
    "$tool" dataset --data "$lab" --preset mini_flowpic --seed 1 --out ds-1p.fpd 2>/dev/null
    for n in 1 2 3; do
        run $n dataset --data "$lab" --preset mini_flowpic --seed 1 --out ds-$n.fpd 2>/dev/null
        same ds-1p.fpd ds-$n.fpd
    done
}
[ "$check" = dataset ] || [ -f ds-1p.fpd ] || dataset

case $check in
dataset) dataset ;;
train)
    "$tool" train --data ds-1p.fpd --out m-1p.fpm --epochs 2 --seed 1 --quiet --threads 2 >/dev/null
    for n in 2 3; do
        run $n train --data ds-1p.fpd --out m-$n.fpm --epochs 2 --seed 1 --quiet >/dev/null
        same m-1p.fpm m-$n.fpm
    done ;;
train_sparse)  # 1500x1500 pictures: one process trains on sparse batches, so must the ranks
    "$tool" dataset --data "$lab" --preset shapira2019 --seed 1 --out ds-s.fpd 2>/dev/null
    "$tool" train --data ds-s.fpd --out s-1p.fpm --epochs 2 --seed 1 --quiet --threads 2 >/dev/null
    for n in 2 3; do
        run $n train --data ds-s.fpd --out s-$n.fpm --epochs 2 --seed 1 --quiet >/dev/null
        same s-1p.fpm s-$n.fpm
    done ;;
resume)
    "$tool" train --data ds-1p.fpd --out r-1p.fpm --epochs 3 --seed 1 --quiet >/dev/null
    rm -f r.ckpt r-2.fpm
    set +e
    FLOWPIC_TEST_KILL=1:2 run 2 train --data ds-1p.fpd --out r-2.fpm --epochs 3 --seed 1 --quiet \
        --checkpoint r.ckpt >/dev/null 2>killed.err
    rc=$?
    set -e
    cat killed.err >&2
    [ $rc -ne 0 ] || fail "a killed rank did not fail the job"
    [ ! -f r-2.fpm ] || fail "a killed run wrote a model"
    grep -Eq "rank 1.*(signal 9|Killed)|exited on signal 9" killed.err || fail "no message naming the killed rank"
    [ -f r.ckpt ] || fail "no checkpoint"
    run 2 train --data ds-1p.fpd --out r-2.fpm --epochs 3 --seed 1 --checkpoint r.ckpt --resume >/dev/null 2>resume.err
    grep -q "resuming from r.ckpt after epoch 2" resume.err || { cat resume.err >&2; fail "did not resume after epoch 2"; }
    same r-1p.fpm r-2.fpm ;;
eval)
    model=$src/data/models/default.fpm
    "$tool" eval --model "$model" --data ds-1p.fpd --split all --json > e-1p.json
    "$tool" eval --model "$model" --data "$lab" --json > t-1p.json 2>/dev/null
    for n in 2 3; do
        run $n eval --model "$model" --data ds-1p.fpd --split all --json > e-$n.json
        same e-1p.json e-$n.json
        run $n eval --model "$model" --data "$lab" --json > t-$n.json 2>/dev/null
        same t-1p.json t-$n.json
    done ;;
classify)
    caps=("$src/data/sample/sample.pcap" "$src/data/lab/sample/lab-sample.pcap" "$lab"/browsing/*.fpr "$lab"/voip/*.fpr)
    "$tool" classify "${caps[@]}" > c-1p.csv
    [ "$(wc -l < c-1p.csv)" -gt 10 ] || fail "too few rows"
    for n in 2 3; do
        run $n classify "${caps[@]}" > c-$n.csv
        same c-1p.csv c-$n.csv
    done ;;
*) fail "unknown check $check" ;;
esac
echo "ok: $check"
