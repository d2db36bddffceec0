#!/usr/bin/env bash
# GRIT throughput of Unified-IO XL (random weights, bf16) on one H100/H200, per task.
# Prepared for a lent GPU machine; run it from the repository root:
#   bash benchmarks/gpu_grit_throughput.sh            # xl, bfloat16, batch 32
#   SIZE=tiny DTYPE=float32 BATCH=4 PER_TASK=8 bash benchmarks/gpu_grit_throughput.sh   # CPU smoke test
set -euo pipefail
SIZE=${SIZE:-xl}
DTYPE=${DTYPE:-bfloat16}
BATCH=${BATCH:-32}
PER_TASK=${PER_TASK:-64}
export PYTHONUNBUFFERED=1
# One process owns the GPU: let XLA take what it needs up front.
export XLA_PYTHON_CLIENT_PREALLOCATE=${XLA_PYTHON_CLIENT_PREALLOCATE:-true}
python3 -c "import jax; print('devices:', jax.devices())"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
python3 benchmarks/grit_throughput.py --size "$SIZE" --dtype "$DTYPE" --batch "$BATCH" --per-task "$PER_TASK"
