#!/usr/bin/env bash
# The FER+ model on a 2-core CPU: fastnet on FER+'s vote distributions (soft labels, 8 classes with contempt),
# checkpoint and temperature chosen on FER+ Valid, then scored on Valid's majority labels.
# Run by hand (not a test):  bash bench/train_ferplus_cpu.sh [DATA] [OUT]
# Results recorded in docs/experiments.md and README.md ("Shipped models").
set -euo pipefail
data=${1:-../shared/datasets/ferplus}
out=${2:-runs/ferplus-cpu}
time ferkit train --model fastnet --data "$data" --out "$out" --epochs 16 --batch-size 64 --lr 0.05 \
  -o model.crop=40 --time-limit 40
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out/best" --data "$data" --split Valid --tta "$tta"
done
ferkit evaluate --model "$out/best" --data "$data" --split Valid --tta tencrop --out "$out/card" > /dev/null
