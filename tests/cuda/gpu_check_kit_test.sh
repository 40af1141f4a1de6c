#!/bin/sh
# gpu_check_kit_test.sh KIT BUILD RESULTS: runs the kit on a carried build and checks its report.
set -u
rm -rf "$3"
bash "$1" "$2" >"$3.log" 2>&1 || { cat "$3.log"; echo "gpu check kit: failed"; exit 1; }
for f in pictures_cuda.json network_cuda.json tables.md; do
  [ -s "$3/$f" ] || { cat "$3.log"; echo "gpu check kit: no $f"; exit 1; }
done
# a row per case in both tables: pictures (shapira2019 and mini_flowpic), network (both presets)
for pat in '^| .*shapira2019/.* | [0-9,]* | [0-9,]* |' '^| .*mini_flowpic32/' \
           '^| .*shapira2019/infer/batch:1/' '^| .*mini_flowpic/train/batch:1024/'; do
  grep -q "$pat" "$3/tables.md" || { cat "$3/tables.md"; echo "gpu check kit: no row like $pat"; exit 1; }
done
echo "gpu check kit: ok ($(grep -c '^| [a-z]' "$3/tables.md") rows)"
