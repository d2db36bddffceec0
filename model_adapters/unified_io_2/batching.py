"""How the task recipes batch: row padding to power-of-two buckets and per-request sampling
seeds (so a request's sampled image does not depend on which batch it ran in)."""
from __future__ import annotations

import hashlib

OPTION_LENGTH_BUCKET = 8  # option token lengths are padded to a multiple of this


def padded_rows(*columns):
    """Lists of one length n, each padded to the next power of two by repeating its last item
    (None stays None): batch sizes then compile few programs, and padding rows are real inputs
    (no all-masked rows, no NaN), dropped from the outputs."""
    n = len(next(c for c in columns if c is not None))
    extra = (1 << (n - 1).bit_length()) - n
    out = tuple(None if c is None else list(c) + [c[-1]] * extra for c in columns)
    return out if len(out) > 1 else out[0]


def request_seed(run_seed: int, example_id: str, instance: int = 0) -> int:
    """The uint32 sampling seed of one generated image: from the run seed, the request's
    example id and the instance (box) number, never from a batch position."""
    digest = hashlib.sha256(f"{int(run_seed)}/{example_id}/{int(instance)}".encode()).digest()
    return int.from_bytes(digest[:4], "little")
