#!/usr/bin/env bash
# `default`'s network (fastnet 48-96-192-384) on labels alone, as run 6 but with another seed and with CutMix or mixup on
# half the batches (label smoothing off: the mixed targets are soft already), 80 epochs in bf16 on a 2-core CPU.
# Meant as a member of `best` that disagrees with the distilled ones: run 6 ends at 86% training accuracy (overfit).
# Run by hand (not a test):  bash bench/train_wide48_mix_cpu.sh [DATA] [OUT] [extra ferkit train args, e.g. --resume]
# Results recorded in docs/experiments.md.
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
out=${2:-runs/wide48-mix}
time ferkit train --model fastnet --data "$data" --out "$out" --epochs 80 --batch-size 64 --lr 0.05 \
  -o model.crop=40 -o 'model.args={widths: [48, 96, 192, 384]}' -o train.seed=1 \
  -o augment.cutmix=1.0 -o augment.mixup=0.2 -o augment.mix_prob=0.5 "${@:3}"
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out/best" --data "$data" --split PublicTest --tta "$tta"
done
