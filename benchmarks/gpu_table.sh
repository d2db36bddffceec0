#!/usr/bin/env bash
# The whole accelerator table of issue 15 in one run (H100/H200): for every size and dtype,
# benchmarks/gpu_decode.sh (text decode at batches 1/8/32, 10-option scoring, one sampled
# image, peak device memory, decode step vs the weight-bandwidth floor) and
# benchmarks/gpu_grit_throughput.sh (per GRIT task through the adapter, batch 32).
# Installs the project first. Output goes to stdout and $LOG (default /tmp/gpu_table.log).
#   bash benchmarks/gpu_table.sh
#   SIZES=tiny DTYPES=float32 BATCHES=1,2 GRIT_BATCH=2 PER_TASK=4 bash benchmarks/gpu_table.sh   # CPU smoke
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="${SIZES:-small base large xl}"
DTYPES="${DTYPES:-bfloat16 float32}"
BATCHES="${BATCHES:-1,8,32}"
GRIT_BATCH="${GRIT_BATCH:-32}"
PER_TASK="${PER_TASK:-64}"
python3 -m pip install -q . >/dev/null
{
  for size in $SIZES; do
    for dtype in $DTYPES; do
      echo "=== $size $dtype ==="
      bash benchmarks/gpu_decode.sh --size "$size" --dtype "$dtype" --batches "$BATCHES"
      SIZE="$size" DTYPE="$dtype" BATCH="$GRIT_BATCH" PER_TASK="$PER_TASK" \
        bash benchmarks/gpu_grit_throughput.sh
    done
  done
} 2>&1 | tee "${LOG:-/tmp/gpu_table.log}"
