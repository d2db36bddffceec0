#!/usr/bin/env bash
# Unified-IO decode throughput on one GPU (H100/H200): XL-size random weights in bf16,
# batches 32 and 128; prints samples/s and the memory-bandwidth floor per decode step.
#
#   bash benchmarks/gpu_decode.sh                 # xl, bf16, batches 32,128
#   bash benchmarks/gpu_decode.sh --size tiny --batches 2   # CPU smoke test
#   SIZE=small BATCHES=8 DTYPE=float32 bash benchmarks/gpu_decode.sh
#
# Full-precision float32 matmuls are requested in the code (Precision.HIGHEST, no TF32);
# bf16 weights use bf16 matmuls with float32 accumulation.
set -euo pipefail
SIZE="${SIZE:-xl}"
BATCHES="${BATCHES:-32,128}"
DTYPE="${DTYPE:-bfloat16}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size) SIZE="$2"; shift 2 ;;
    --batches) BATCHES="$2"; shift 2 ;;
    --dtype) DTYPE="$2"; shift 2 ;;
    *) echo "unknown argument: $1 (expected --size, --batches, --dtype)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
# Let XLA take most of the GPU memory up front: XL batch 128 holds ~16 GB of cross-attention
# keys/values plus the encoder's [B, heads, 640, 640] attention logits.
export XLA_PYTHON_CLIENT_MEM_FRACTION="${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.92}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
python3 -c "import jax; print('jax', jax.__version__, jax.devices())"
exec python3 benchmarks/gpu_decode.py --size "$SIZE" --batches "$BATCHES" --dtype "$DTYPE"
