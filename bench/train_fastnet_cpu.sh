#!/usr/bin/env bash
# The CPU recipe: train the small model on FER2013 on a 2-core machine within 30 minutes, then score it.
# Run by hand (not a test):  bash bench/train_fastnet_cpu.sh [DATA] [OUT]
# Results recorded in docs/training.md ("Measured").
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
out=${2:-runs/fastnet-cpu}
time ferkit train --model fastnet --data "$data" --out "$out" --epochs 17 --batch-size 64 --lr 0.05 \
  -o model.crop=40 -o train.label_smoothing=0.1 --time-limit 29.5
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out/best" --data "$data" --split PublicTest --tta "$tta"
done
ferkit evaluate --model "$out/best" --data "$data" --split PublicTest --tta tencrop --out "$out/card" > /dev/null
