#!/usr/bin/env bash
# The shipped `fast` model: the CPU recipe of bench/train_fastnet_cpu.sh trained for 45 epochs instead of 17
# (about 70 minutes on a 2-core machine), then scored on PublicTest with each test-time augmentation.
# Run by hand (not a test):  bash bench/train_fastnet_long_cpu.sh [DATA] [OUT]
# Results recorded in docs/experiments.md and README.md ("Shipped models").
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
out=${2:-runs/fastnet-long}
time ferkit train --model fastnet --data "$data" --out "$out" --epochs 45 --batch-size 64 --lr 0.05 \
  -o model.crop=40 -o train.label_smoothing=0.1
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out/best" --data "$data" --split PublicTest --tta "$tta"
done
ferkit evaluate --model "$out/best" --data "$data" --split PublicTest --tta tencrop --out "$out/card" > /dev/null
