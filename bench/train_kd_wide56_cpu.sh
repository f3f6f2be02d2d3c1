#!/usr/bin/env bash
# Run 19, a member of `best` until run 22: `fastnet` at widths 56-112-224-448 (about 3.6 M parameters) distilled from run 12
# (`default`) and run 6 on the very batches it trains on, 60 epochs in bf16 on a 2-core CPU. It was meant as `default`,
# but with ONNX Runtime it takes 3.3-3.6x `fast`'s time per face, over `default`'s 3x budget (bench/bench_budget.py).
# Needs its teachers first: run 12 (bash bench/train_kd_wide_cpu.sh, which needs its own) and run 6 (bash bench/train_wide48_cpu.sh).
# Run by hand (not a test):  bash bench/train_kd_wide56_cpu.sh [DATA] [OUT] [TEACHERS] [extra ferkit train args]
# Results recorded in docs/experiments.md.
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
out=${2:-runs/kd-wide56}
teachers=${3:-runs/kd-wide/best,runs/wide48/best}
time ferkit train --model fastnet --data "$data" --out "$out" --epochs 60 --batch-size 64 --lr 0.05 \
  -o model.crop=40 -o train.label_smoothing=0.1 -o 'model.args={widths: [56, 112, 224, 448]}' \
  --teacher "$teachers" -o train.kd_weight=0.7 -o train.kd_temperature=3 "${@:4}"
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out/best" --data "$data" --split PublicTest --tta "$tta"
done
