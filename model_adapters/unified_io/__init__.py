"""Unified-IO v1 (JAX/Flax-checkpoint compatible) for the GRIT harness.

Importing this package does not import jax: ``UnifiedIOConfig``/``VQGANConfig`` come from the
jax-free ``config`` module and ``load_model``/``UnifiedIOModel`` are resolved lazily.
"""
from __future__ import annotations

from typing import Any

from model_adapters.unified_io.config import UnifiedIOConfig, VQGANConfig

__all__ = ["UnifiedIOConfig", "VQGANConfig", "load_model", "UnifiedIOModel"]

_LAZY = {"load_model": "model_adapters.unified_io.model",
         "UnifiedIOModel": "model_adapters.unified_io.model"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
