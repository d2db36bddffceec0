"""The numeric environment a score depends on: numpy / scipy and the BLAS library and kernel.

The official normal metric's R-RANSAC result depends on the OpenBLAS kernel numpy runs (a
degenerate hypothesis' SVD differs between, e.g., the SkylakeX and the Haswell kernels), in
the official code and in ours alike. OpenBLAS picks the kernel from the CPU at load time
unless ``OPENBLAS_CORETYPE`` names one, so the kernel is recorded next to every score
(``<subset>_environment.json``, a run's ``manifest.json``); README "Reproducing a leaderboard
number bit for bit" says how to select the same kernel again.
"""
from __future__ import annotations

import os
import platform
from typing import Any

# What threadpoolctl reports per library that we keep (no file paths: they name the machine).
_BLAS_FIELDS = ("user_api", "internal_api", "prefix", "version", "architecture",
                "threading_layer", "num_threads")


def numeric_environment() -> dict[str, Any]:
    """numpy / scipy versions, CPU architecture, ``OPENBLAS_CORETYPE`` and the loaded BLAS
    libraries with their kernel (threadpoolctl's ``architecture``, e.g. ``SkylakeX``)."""
    import numpy as np
    import scipy
    import scipy.linalg  # noqa: F401  (loads scipy's own BLAS, if it ships one)
    from threadpoolctl import threadpool_info

    blas = [{k: info.get(k) for k in _BLAS_FIELDS} for info in threadpool_info()
            if info.get("user_api") == "blas"]
    return {
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "machine": platform.machine(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "blas": blas,
    }
