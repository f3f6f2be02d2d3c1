#!/usr/bin/env bash
# `best` from scratch on a 2-core CPU: run 21 (fastnet 48-96-192-384 on labels alone, CutMix / mixup on half the
# batches, seed 1, 80 epochs), run 43 (run 21's recipe, seed 2, 120 epochs) and run 82 (run 21's recipe on 64-pixel
# faces cropped to 54, seed 3, 80 epochs), then `best` = their ensemble (run 85), calibrated on PublicTest and scored
# with each TTA (multiscale is its best). No member is distilled, so nothing else has to be trained first. About
# 8 hours in all (run 43 alone about 4); a step whose checkpoint already exists is not trained again (delete runs/NAME
# to redo it). The shipped `best` stores its members in float16 (`ferkit export runs/wide48-mix/best --format
# safetensors --half --out DIR`), which scores within a few faces.
# Run 6 (bash bench/train_wide48_cpu.sh), a member until run 85, is no member any more but stays one of the three
# teachers of `default` and `fast`; it ships as src/ferkit/weights/teachers/wide48.
# Run by hand (not a test):  bash bench/train_best_cpu.sh [DATA] [OUT]
# Results recorded in docs/experiments.md (runs 21, 43, 82, 83, 85) and README.md ("Shipped models").
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
out=${2:-runs/best}
here=$(dirname "$0")
step() {  # checkpoint script [script's OUT and extra args]: train unless the checkpoint is there
  if [ -f "$1/model.json" ]; then echo "have $1"; else bash "$here/$2" "$data" "${@:3}"; fi
}
step runs/wide48-mix/best train_wide48_mix_cpu.sh
step runs/wide48-mix-120/best train_wide48_mix_cpu.sh runs/wide48-mix-120 --epochs 120 -o train.seed=2 -o train.precision=bf16
step runs/wide48-mix-64/best train_wide48_mix_cpu.sh runs/wide48-mix-64 -o model.size=64 -o model.crop=54 \
  -o train.precision=bf16 -o train.seed=3
ferkit ensemble runs/wide48-mix-64/best runs/wide48-mix-120/best runs/wide48-mix/best --data "$data" --out "$out"
for tta in none flip tencrop multiscale; do
  ferkit evaluate --model "$out" --data "$data" --split PublicTest --tta "$tta"
done
