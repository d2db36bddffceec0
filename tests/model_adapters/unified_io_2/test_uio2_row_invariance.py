"""The row-invariant arithmetic behind batch-size-exact Unified-IO 2 outputs (``layers``):
exp_of_nonpositive is as accurate as float32 exp, and a row's softmax / norm is the same bits
whether it is computed alone or among other rows."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from model_adapters.unified_io_2.layers import exp_of_nonpositive, log_softmax, row_sum, softmax, uio_norm


def test_exp_of_nonpositive_matches_exp_to_float32_rounding():
    x = np.concatenate([np.linspace(-87.0, 0.0, 200_001, dtype=np.float32), np.float32([0.0, -1e-8, -86.99])])
    got = np.asarray(jax.jit(exp_of_nonpositive)(x), np.float64)
    want = np.exp(x.astype(np.float64))
    assert np.max(np.abs(got - want) / want) < 2.5e-7
    assert got[-3] == 1.0
    assert np.all(np.asarray(exp_of_nonpositive(np.float32([-87.5, -200.0, -np.inf]))) == 0.0)


def test_row_sum_is_a_pairwise_sum_over_the_last_axis():
    x = np.random.default_rng(0).normal(size=(3, 7)).astype(np.float32)
    got = np.asarray(row_sum(jnp.asarray(x)))
    assert got.shape == (3, 1)
    np.testing.assert_allclose(got[:, 0], x.sum(-1), rtol=1e-6)
    assert row_sum(jnp.ones((2, 1)))[0, 0] == 1.0


def test_a_row_gives_the_same_bits_alone_and_among_other_rows():
    rng = np.random.default_rng(1)
    for shape in [(33,), (640,), (2, 1, 1024), (16,)]:
        x = (rng.normal(size=(8,) + shape) * 4).astype(np.float32)
        for fn in (softmax, log_softmax, lambda v: uio_norm(v, jnp.ones(v.shape[-1]))):
            f = jax.jit(fn)
            alone = np.asarray(f(x[:1]))[0]
            for rows in (2, 3, 4, 8):
                assert np.array_equal(np.asarray(f(x[:rows]))[0], alone), (shape, rows)
