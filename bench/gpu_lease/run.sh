#!/bin/bash
# Device side of one GPU lease: unpack FER2013, train members then students (bench/train_gpu_lease.py), pack back.
# The working tree travels without src/ferkit/weights (moved aside for the call: 64 MiB in all); the ignored folder
# .gpu holds the packed faces (codec.py pack) and the older teachers, .gpu/old/NAME (float16 copies of best's members).
# Run there as:  TOTAL=565 bash bench/gpu_lease/run.sh [train_gpu_lease.py options]   (results in $OUT)
set -u
T0=$(date +%s); TOTAL=${TOTAL:-570}; DATA=${DATA:-/tmp/fer2013}; LEASE=${LEASE:-/tmp/lease}; OUTDIR=${OUT:-/tmp/out}
export PYTHONPATH=$PWD/src FERKIT_CACHE_DIR=/tmp/fkcache OMP_NUM_THREADS=2 PYTHONUNBUFFERED=1 MPLBACKEND=Agg
nvidia-smi -L 2>&1 | head -2
python3 -c "import torch, sys; print(sys.version.split()[0], torch.__version__, torch.cuda.is_available())"
mkdir -p "$DATA" "$OUTDIR"
[ -f "$DATA/fer2013.csv" ] || python3 bench/gpu_lease/codec.py unpack .gpu "$DATA/fer2013.csv"
python3 -m ferkit data info "$DATA" | tail -4
echo "setup took $(( $(date +%s) - T0 )) s"
python3 bench/train_gpu_lease.py --data "$DATA" --out "$LEASE" --budget $(( TOTAL - 30 - ($(date +%s) - T0) )) \
  --old-teachers .gpu/old/wide48-mix-120,.gpu/old/wide48-mix "$@"
for best in "$LEASE"/member-s*/best; do  # members travel back in float16 (ferkit export --half), students in float32
  [ -d "$best" ] && python3 -m ferkit export "$best" --format safetensors --half --out "$best.f16" && rm -r "$best" && mv "$best.f16" "$best"
done
(cd "$LEASE" && tar cf /tmp/lease.tar --exclude='*/last' --exclude='probe-*' --exclude='*teacher_targets*' .)
ls -la /tmp/lease.tar; split -b 15m /tmp/lease.tar "$OUTDIR/lease.tar.part-"
cp "$LEASE/lease.json" "$OUTDIR/" 2>/dev/null
echo "all took $(( $(date +%s) - T0 )) s"
