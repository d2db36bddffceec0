"""Unified-IO 2 (Lu et al., CVPR 2024) in JAX, checkpoint-compatible with the released weights.

Facts come from the official PyTorch port (allenai/unified-io-2.pytorch, commit 6e487be) as
written down in docs/UNIFIED_IO_2.md; every line here is our own. Nothing in this package imports
jax at import time except the modules that compute (``model``, ``vqgan``, ``decoding``), which the
adapter and the parity command import lazily.
"""
