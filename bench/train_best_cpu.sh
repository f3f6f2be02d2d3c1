#!/usr/bin/env bash
# `best` from scratch on a 2-core CPU: run 6 (fastnet 48-96-192-384 on labels alone, seed 0) and run 21 (the same
# network with CutMix / mixup on half the batches, seed 1), then `best` = their ensemble, calibrated on PublicTest and
# scored with each TTA (ten-crop is its best). Neither member is distilled, so nothing else has to be trained first.
# About 3.8 hours in all; a step whose checkpoint already exists is not trained again (delete runs/NAME to redo it).
# The shipped `best` stores run 21 in float16 (`ferkit export runs/wide48-mix/best --format safetensors --half`),
# which scores the same.
# Run by hand (not a test):  bash bench/train_best_cpu.sh [DATA] [OUT]
# Results recorded in docs/experiments.md (runs 6, 21, 22) and README.md ("Shipped models").
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
out=${2:-runs/best}
here=$(dirname "$0")
step() {  # checkpoint script: train unless the checkpoint is there
  if [ -f "$1/model.json" ]; then echo "have $1"; else bash "$here/$2" "$data"; fi
}
step runs/wide48/best train_wide48_cpu.sh
step runs/wide48-mix/best train_wide48_mix_cpu.sh
ferkit ensemble runs/wide48-mix/best runs/wide48/best --data "$data" --out "$out"
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out" --data "$data" --split PublicTest --tta "$tta"
done
