#!/usr/bin/env bash
# `fast` distilled: fastnet (1.2 M parameters) taught by the average of a wider model and the 45-epoch fastnet
# (kd_weight 0.7, temperature 3) on the very batches it trains on, 45 epochs in bf16 on a 2-core CPU.
# Needs its two teachers first (shipped as `default` and, until this run replaced it, `fast`):
#   bash bench/train_wide48_cpu.sh; bash bench/train_fastnet_long_cpu.sh
# Run by hand (not a test):  bash bench/train_kd_fast_cpu.sh [DATA] [OUT] [TEACHERS] [extra ferkit train args, e.g. --resume]
# Results recorded in docs/experiments.md.
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
out=${2:-runs/kd-fast}
teachers=${3:-runs/wide48/best,runs/fastnet-long/best}
time ferkit train --model fastnet --data "$data" --out "$out" --epochs 45 --batch-size 64 --lr 0.05 \
  -o model.crop=40 -o train.label_smoothing=0.1 --teacher "$teachers" \
  -o train.kd_weight=0.7 -o train.kd_temperature=3 "${@:4}"
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out/best" --data "$data" --split PublicTest --tta "$tta"
done
