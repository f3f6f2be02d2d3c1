#!/usr/bin/env bash
# Run 12, `default` until run 19: fastnet 48-96-192-384 distilled from run 6 (that network) and the distilled run 8:
# a "born-again" student taught by the average of two teachers on the very batches it trains on, 60 epochs in bf16
# on a 2-core CPU. Needs both teachers first:  bash bench/train_wide48_cpu.sh; bash bench/train_kd_fast_cpu.sh
# Run by hand (not a test):  bash bench/train_kd_wide_cpu.sh [DATA] [OUT] [TEACHERS]
# Results recorded in docs/experiments.md.
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
out=${2:-runs/kd-wide}
teachers=${3:-runs/wide48/best,runs/kd-fast/best}
time ferkit train --model fastnet --data "$data" --out "$out" --epochs 60 --batch-size 64 --lr 0.05 \
  -o model.crop=40 -o train.label_smoothing=0.1 -o 'model.args={widths: [48, 96, 192, 384]}' \
  --teacher "$teachers" -o train.kd_weight=0.7 -o train.kd_temperature=3 "${@:4}"
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out/best" --data "$data" --split PublicTest --tta "$tta"
done
