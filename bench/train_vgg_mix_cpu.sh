#!/usr/bin/env bash
# The registered `vgg` (after Khaireddin & Chen 2021: 64-128-256-512, two conv3x3-BN-ReLU per stage, FC 1024-1024 with
# dropout 0.4; 40x40 crops from 48x48 as in their paper) on labels alone, with CutMix or mixup on half the batches as in
# run 21, 60 epochs in bf16 (run 24: the length that fits a 3-hour sitting at ~230 img/s) on a 2-core CPU. A network of
# another shape than `fastnet` (a wide fully connected head instead of global average pooling), meant as a member of
# `best` that disagrees with the fastnets, and as a teacher. Run 75 trained it for 200 epochs over three sittings:
#   bash bench/train_vgg_mix_cpu.sh ../shared/datasets/fer2013 runs/vgg-mix-200 --epochs 200 -o train.precision=bf16 \
#     -o train.seed=4        (then the same command plus --resume in each later sitting)
# lr 0.02 (not fastnet's 0.05): the fully connected layers have no batch norm.
# Run by hand (not a test):  bash bench/train_vgg_mix_cpu.sh [DATA] [OUT] [extra ferkit train args, e.g. --resume]
# Results recorded in docs/experiments.md.
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
out=${2:-runs/vgg-mix}
time ferkit train --model vgg --data "$data" --out "$out" --epochs 60 --batch-size 64 --lr 0.02 \
  -o model.crop=40 -o train.seed=3 \
  -o augment.cutmix=1.0 -o augment.mixup=0.2 -o augment.mix_prob=0.5 "${@:3}"
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out/best" --data "$data" --split PublicTest --tta "$tta"
done
