#!/usr/bin/env bash
# The three teachers of the shipped `default` and `fast` from scratch on a 2-core CPU: run 6 (fastnet 48-96-192-384 on
# labels alone, seed 0), run 21 (the same network with CutMix / mixup on half the batches, seed 1, 80 epochs) and
# run 43 (run 21's recipe, seed 2, 120 epochs); none is distilled. About 7.5 hours; a step whose checkpoint already
# exists is not trained again (bench/train_best_cpu.sh shares runs 21 and 43). Their shipped copies are
# src/ferkit/weights/teachers/wide48 (run 6) and src/ferkit/weights/best/members/wide48-mix{,-120} (runs 21, 43, in
# float16), so the students' recipes also run on those without this script.
# Run by hand (not a test):  bash bench/train_teachers_cpu.sh [DATA]
# Results recorded in docs/experiments.md (runs 6, 21, 43) and README.md ("Shipped models").
set -euo pipefail
data=${1:-../shared/datasets/fer2013}
here=$(dirname "$0")
step() {  # checkpoint script [script's OUT and extra args]: train unless the checkpoint is there
  if [ -f "$1/model.json" ]; then echo "have $1"; else bash "$here/$2" "$data" "${@:3}"; fi
}
step runs/wide48/best train_wide48_cpu.sh
step runs/wide48-mix/best train_wide48_mix_cpu.sh
step runs/wide48-mix-120/best train_wide48_mix_cpu.sh runs/wide48-mix-120 --epochs 120 -o train.seed=2 -o train.precision=bf16
