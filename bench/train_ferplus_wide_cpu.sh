#!/usr/bin/env bash
# The FER+ model, second recipe: `default`'s network (fastnet 48-96-192-384, 8 outputs) on FER+'s vote
# distributions (soft labels, 8 classes with contempt), 45 epochs in bf16 on a 2-core CPU (run F1 had 16 epochs of
# the narrow network). Checkpoint and temperature chosen on FER+ Valid, then scored on Valid's majority labels.
# Run by hand (not a test):  bash bench/train_ferplus_wide_cpu.sh [DATA] [OUT] [extra ferkit train args, e.g. --resume]
# Results recorded in docs/experiments.md and README.md ("Shipped models").
set -euo pipefail
data=${1:-../shared/datasets/ferplus}
out=${2:-runs/ferplus-wide}
time ferkit train --model fastnet --data "$data" --out "$out" --epochs 45 --batch-size 64 --lr 0.05 \
  -o model.crop=40 -o 'model.args={widths: [48, 96, 192, 384]}' "${@:3}"
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out/best" --data "$data" --split Valid --tta "$tta"
done
