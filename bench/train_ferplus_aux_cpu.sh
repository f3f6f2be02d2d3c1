#!/usr/bin/env bash
# FER+ votes as extra supervision for the 7-class FER2013 model: each training target is half FER2013's label,
# half the FER+ annotators' votes over the same 7 classes (data.ferplus_weight 0.5); the recipe of
# bench/train_fastnet_long_cpu.sh otherwise (45 epochs), in bf16. Compare with that run's PublicTest figures.
# Run by hand (not a test):  bash bench/train_ferplus_aux_cpu.sh [FER2013] [FERPLUS_CSV] [OUT]
# Results recorded in docs/experiments.md.
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
votes=${2:-../shared/datasets/ferplus/fer2013new.csv}
out=${3:-runs/ferplus-aux}
time ferkit train --model fastnet --data "$data" --out "$out" --epochs 45 --batch-size 64 --lr 0.05 \
  -o model.crop=40 -o train.label_smoothing=0.1 -o data.ferplus_votes="$votes" -o data.ferplus_weight=0.5
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out/best" --data "$data" --split PublicTest --tta "$tta"
done
