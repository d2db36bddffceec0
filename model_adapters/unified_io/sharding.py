"""Data parallelism over the local devices: a 1-D ``Mesh`` on a ``"batch"`` axis (issue 8).

Params are replicated (``P()``) and every batch-leading input is sharded on its first axis
(``P("batch")``); the jitted programs follow the input shardings, and the decode loop pins its
per-row state (KV cache, tokens, done flags) to the batch axis with ``constrain``.

Predictions do not depend on the device count: ``UnifiedIOModel.layout`` gives each device the
rows and shapes one device would get per call, and jax's (default) partitionable threefry draws
the same random bits for element (b, v) of a sampled ``[B, V]`` array however that array is
split, so sampled tokens match the 1-device stream for the same seed.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

AXIS = "batch"


class DataParallel:
    """A 1-D device mesh over the batch axis.

    Args:
        devices: the devices to split batches over; None = ``jax.local_devices()``.
    """

    def __init__(self, devices: Optional[Sequence[Any]] = None):
        devices = list(jax.local_devices() if devices is None else devices)
        if not devices:
            raise ValueError("DataParallel needs at least one device, got an empty list")
        self.mesh = Mesh(np.asarray(devices), (AXIS,))
        self.replicated = NamedSharding(self.mesh, P())
        self.batch = NamedSharding(self.mesh, P(AXIS))

    @property
    def size(self) -> int:
        """Number of devices on the batch axis."""
        return self.mesh.size

    def put_params(self, params: Any) -> Any:
        """Copies a (host or device) parameter tree to every device of the mesh."""
        return jax.device_put(params, self.replicated)

    def put_batch(self, tree: Any) -> Any:
        """Shards every array of ``tree`` on its leading axis, whose size must be a multiple
        of the device count."""
        for leaf in jax.tree.leaves(tree):
            if np.ndim(leaf) == 0 or np.shape(leaf)[0] % self.size:
                raise ValueError(f"a batch array of shape {np.shape(leaf)} cannot be split over "
                                 f"{self.size} devices: pad its leading axis to a multiple of "
                                 f"{self.size}")
        return jax.device_put(tree, self.batch)

    def constrain(self, tree: Any) -> Any:
        """Inside a jitted function: pins the leading (batch) axis of every array of ``tree``
        to the mesh. Only for per-row arrays: a PRNG key or step counter stays unconstrained."""
        return jax.tree.map(lambda x: jax.lax.with_sharding_constraint(x, self.batch), tree)

    # Programs are cached per DataParallel (functools.cache keys): equal meshes share them.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataParallel) and self.mesh == other.mesh

    def __hash__(self) -> int:
        return hash(self.mesh)

    def __repr__(self) -> str:
        return f"DataParallel({self.size} devices: {self.mesh.devices.tolist()})"
