"""Relative-position buckets (1-D T5 text buckets, 2-D image buckets) and their bias.

Buckets depend only on static shapes, so they are numpy constants computed once
(``functools.cache``) at trace time, like the reference which also builds them in numpy.
"""
from __future__ import annotations

import functools

import numpy as np

TEXT_BUCKETS = 32
TEXT_MAX_DISTANCE = 128
IMAGE_AXIS_BUCKETS = 8
IMAGE_MAX_DISTANCE = 20
_EPS = np.finfo(np.float32).eps


def _log_bucket(n: np.ndarray, max_exact: int, num_buckets: int, max_distance: int) -> np.ndarray:
    # float32 log as in the reference, divided by a float64 numpy scalar (numpy 2 promotes
    # to float64 there), truncated to int32.
    large = max_exact + (
        np.log(n.astype(np.float32) / max_exact + _EPS)
        / np.log(max_distance / max_exact)
        * (num_buckets - max_exact)
    ).astype(np.int32)
    large = np.minimum(large, num_buckets - 1)
    return np.where(n < max_exact, n, large)


def text_bucket(relative_position: np.ndarray, bidirectional: bool) -> np.ndarray:
    """T5 bucket of ``key_pos - query_pos`` (32 buckets, max distance 128).

    Bidirectional (encoder): 16 buckets per sign, +16 when the key is after the query.
    Causal (decoder): 32 buckets over ``max(query - key, 0)``.
    """
    n = -np.asarray(relative_position, dtype=np.int64)
    num_buckets = TEXT_BUCKETS
    ret = np.zeros_like(n)
    if bidirectional:
        num_buckets //= 2
        ret = ret + (n < 0).astype(np.int64) * num_buckets
        n = np.abs(n)
    else:
        n = np.maximum(n, 0)
    return (ret + _log_bucket(n, num_buckets // 2, num_buckets, TEXT_MAX_DISTANCE)).astype(np.int32)


def image_bucket(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """2-D bucket of ``(x_key - x_query, y_key - y_query)``: quadrant*64 + bx + 8*by (0..255)."""
    nx, ny = -np.asarray(dx, dtype=np.int64), -np.asarray(dy, dtype=np.int64)
    quadrant = np.where(
        (nx <= 0) & (ny < 0), 3, np.where((nx < 0) & (ny >= 0), 2, np.where((nx > 0) & (ny <= 0), 1, 0))
    )
    per_axis = IMAGE_AXIS_BUCKETS

    def axis(n: np.ndarray) -> np.ndarray:
        return _log_bucket(np.abs(n), per_axis // 2, per_axis, IMAGE_MAX_DISTANCE)

    return (quadrant * per_axis * per_axis + axis(nx) + per_axis * axis(ny)).astype(np.int32)


@functools.cache
def text_buckets(length: int, bidirectional: bool) -> np.ndarray:
    """[length, length] (query, key) text buckets for positions 0..length-1."""
    pos = np.arange(length)
    return text_bucket(pos[None, :] - pos[:, None], bidirectional)


@functools.cache
def image_buckets(length: int, width: int) -> np.ndarray:
    """[length, length] (query, key) 2-D buckets of patch ids 0..length-1 on a grid of ``width``."""
    ids = np.arange(length)
    x, y = ids % width, ids // width
    return image_bucket(x[None, :] - x[:, None], y[None, :] - y[:, None])


def relative_bias(rel_table, image_table, text_length: int, image_length: int,
                  image_width: int, bidirectional: bool):
    """Block-diagonal relative bias [H, Lt+Li, Lt+Li]; text<->image entries are 0.

    Args:
        rel_table: [H, 32] jax array (``rel_embedding``).
        image_table: [H, 256] jax array (``image_rel_embedding``).
    """
    import jax.numpy as jnp  # lazy: this module's bucket functions are numpy-only

    heads = rel_table.shape[0]
    text = jnp.take(rel_table.astype(jnp.float32), text_buckets(text_length, bidirectional), axis=1)
    image = jnp.take(image_table.astype(jnp.float32), image_buckets(image_length, image_width), axis=1)
    top = jnp.concatenate([text, jnp.zeros((heads, text_length, image_length), jnp.float32)], 2)
    bottom = jnp.concatenate([jnp.zeros((heads, image_length, text_length), jnp.float32), image], 2)
    return jnp.concatenate([top, bottom], axis=1)
