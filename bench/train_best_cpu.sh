#!/usr/bin/env bash
# `best` from scratch on a 2-core CPU: run 6 (fastnet 48-96-192-384 on labels alone, seed 0), run 21 (the same
# network with CutMix / mixup on half the batches, seed 1, 80 epochs) and run 43 (run 21's recipe, seed 2, 120 epochs),
# then `best` = their ensemble, calibrated on PublicTest and scored with each TTA (multiscale is its best). No member
# is distilled, so nothing else has to be trained first. About 8 hours in all (run 43 alone about 4); a step whose
# checkpoint already exists is not trained again (delete runs/NAME to redo it). The shipped `best` stores runs 21 and
# 43 in float16 (`ferkit export runs/wide48-mix/best --format safetensors --half`), which scores within a few faces.
# Run by hand (not a test):  bash bench/train_best_cpu.sh [DATA] [OUT]
# Results recorded in docs/experiments.md (runs 6, 21, 22, 43, 44) and README.md ("Shipped models").
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
out=${2:-runs/best}
here=$(dirname "$0")
step() {  # checkpoint script [script's OUT and extra args]: train unless the checkpoint is there
  if [ -f "$1/model.json" ]; then echo "have $1"; else bash "$here/$2" "$data" "${@:3}"; fi
}
step runs/wide48/best train_wide48_cpu.sh
step runs/wide48-mix/best train_wide48_mix_cpu.sh
step runs/wide48-mix-120/best train_wide48_mix_cpu.sh runs/wide48-mix-120 --epochs 120 -o train.seed=2 -o train.precision=bf16
ferkit ensemble runs/wide48-mix/best runs/wide48/best runs/wide48-mix-120/best --data "$data" --out "$out"
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out" --data "$data" --split PublicTest --tta "$tta"
done
