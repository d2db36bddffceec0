"""The decode loop's top-p sort: int32 keys and segment-only sorting give ``jnp.sort``'s bits
(special values included; +-0 and subnormals, which XLA on CPU compares as equal, as 0),
and the segment shortcut falls back to the full sort whenever its premise (everything
outside the segment is exactly -1e10) does not hold."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from model_adapters.unified_io import decoding, layers

SPECIALS = np.array([np.inf, -np.inf, 0.0, -0.0, 0.0, 1e-45, -1e-45, np.finfo(np.float32).max,
                     -np.finfo(np.float32).max, -1e10, 1.0, 1.0], np.float32)


def _bits(x) -> np.ndarray:
    return np.asarray(x).view(np.int32)


def _flushed_bits(x) -> np.ndarray:
    """Bits with subnormals and -0.0 as +0.0: XLA on CPU flushes denormals, so ``jnp.sort``
    compares +-0 and subnormals as equal and leaves their order unspecified (unstable sort);
    the arithmetic after the sort sees them all as 0."""
    x = np.asarray(x)
    return np.where(np.abs(x) < np.finfo(np.float32).tiny, np.float32(0), x).view(np.int32)


@pytest.mark.parametrize("nan", [False, True])
def test_int32_key_sort_equals_jnp_sort_bit_for_bit(nan):
    """Signed zeros, infinities, subnormals and ties by keys; a NaN (either sign) sends the
    array to ``jnp.sort``, which puts NaNs last."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 1000)).astype(np.float32) * 10
    x[0, :len(SPECIALS)] = SPECIALS
    x[1, ::7] = 2.5
    x[2] = -x[2]
    if nan:
        x[1, :2] = [np.nan, -np.nan]
    x = rng.permuted(x, axis=1)
    got = jax.jit(decoding.sort_ascending)(jnp.asarray(x))
    want = jnp.sort(jnp.asarray(x), axis=-1)
    np.testing.assert_array_equal(_flushed_bits(got), _flushed_bits(want))
    normal = np.abs(np.asarray(want)) >= np.finfo(np.float32).tiny
    np.testing.assert_array_equal(_bits(got)[normal], _bits(want)[normal])


def _masked_rows(rng, batch, width, segment):
    x = np.full((batch, width), layers.MASK_VALUE, np.float32)
    x[:, segment[0]:segment[1]] = rng.normal(size=(batch, segment[1] - segment[0])) * 3
    return x


@pytest.mark.parametrize("segment", [(0, 40), (40, 64), (10, 30)])
@pytest.mark.parametrize("breaks", [None, "below", "nan", "outside"])
def test_segment_sort_equals_the_full_sort(segment, breaks):
    rng = np.random.default_rng(segment[0] * 7 + segment[1])
    x = _masked_rows(rng, 2, 64, segment)
    if breaks == "below":  # a logit under the fill sorts before it: the shortcut is wrong
        x[1, segment[0]] = -3e10
    elif breaks == "nan":
        x[0, segment[1] - 1] = np.nan
    elif breaks == "outside":  # something other than the fill outside the segment
        x[1, (segment[1] % 64)] = 0.5
    got = jax.jit(decoding.sort_segment_ascending, static_argnums=1)(jnp.asarray(x), segment)
    np.testing.assert_array_equal(_bits(got), _bits(jnp.sort(jnp.asarray(x), axis=-1)))


def test_top_p_with_a_segment_equals_the_full_width_filter():
    rng = np.random.default_rng(5)
    x = jnp.asarray(_masked_rows(rng, 3, 96, (32, 96)))
    full = jax.jit(decoding.top_p_filter)(x)
    segmented = jax.jit(lambda a: decoding.top_p_filter(a, segment=(32, 96)))(x)
    np.testing.assert_array_equal(_bits(segmented), _bits(full))
    kept = np.asarray(full)[:, 32:] > decoding.TOPP_FILTER_VALUE
    assert kept.any(axis=1).all() and not kept.all()  # the filter really cut something
