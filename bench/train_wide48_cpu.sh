#!/usr/bin/env bash
# `fastnet` at 1.5x width (48-96-192-384 channels, 2.6 M parameters) for 80 epochs on a 2-core CPU in bf16
# (train.precision auto), the recipe of bench/train_fastnet_long_cpu.sh otherwise; about 75 minutes here.
# Resumable: run it again with --resume appended to the train command after a stop.
# Run by hand (not a test):  bash bench/train_wide48_cpu.sh [DATA] [OUT]
# Results recorded in docs/experiments.md.
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
out=${2:-runs/wide48}
time ferkit train --model fastnet --data "$data" --out "$out" --epochs 80 --batch-size 64 --lr 0.05 \
  -o model.crop=40 -o train.label_smoothing=0.1 -o 'model.args={widths: [48, 96, 192, 384]}'
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out/best" --data "$data" --split PublicTest --tta "$tta"
done
