#!/usr/bin/env bash
# `best` and everything under it, from scratch on a 2-core CPU, in order: run 6 (the 48-wide network), run 3
# (fastnet, 45 epochs), run 8 (fastnet distilled from 6 + 3), run 12 (the 48-wide network distilled from 6 + 8),
# run 19 (the 56-wide network distilled from 12 + 6, shipped in float16 inside `best`), then `best` = the ensemble of
# runs 19 and 6, calibrated on PublicTest and scored with each TTA (flip is its best).
# About 8.5 hours in all; a step whose checkpoint already exists is not trained again (delete runs/NAME to redo it).
# Run by hand (not a test):  bash bench/train_best_cpu.sh [DATA] [OUT]
# Results recorded in docs/experiments.md (runs 3, 6, 8, 12, 19, 20) and README.md ("Shipped models").
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
out=${2:-runs/best}
here=$(dirname "$0")
step() {  # checkpoint script: train unless the checkpoint is there
  if [ -f "$1/model.json" ]; then echo "have $1"; else bash "$here/$2" "$data"; fi
}
step runs/wide48/best train_wide48_cpu.sh
step runs/fastnet-long/best train_fastnet_long_cpu.sh
step runs/kd-fast/best train_kd_fast_cpu.sh
step runs/kd-wide/best train_kd_wide_cpu.sh
step runs/kd-wide56/best train_kd_wide56_cpu.sh
ferkit ensemble runs/kd-wide56/best runs/wide48/best --data "$data" --out "$out"
for tta in none flip tencrop; do
  ferkit evaluate --model "$out" --data "$data" --split PublicTest --tta "$tta"
done
