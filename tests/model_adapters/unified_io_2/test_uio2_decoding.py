"""Decoding properties the parity kit does not pin: seeded top-p sampling, early stop, and the
sum-vs-mean option score setting, the VQGAN attention's key-panel sum."""
from __future__ import annotations

import numpy as np
import pytest

from model_adapters.unified_io_2 import decoding as D
from model_adapters.unified_io_2 import vqgan as V
from model_adapters.unified_io_2.checkpoint import load_checkpoint
from model_adapters.unified_io_2.parity_cases import text_batch
from model_adapters.unified_io_2.runtime import UIO2Runtime


@pytest.fixture(scope="module")
def encoded(uio2_kit):
    rt = UIO2Runtime.from_checkpoint(load_checkpoint(uio2_kit / "model"))
    tokens = np.array([[33218, 320, 454, 265, 262, 1, 0, 0], [33218, 501, 975, 1, 0, 0, 0, 0]], np.int32)
    return rt, rt.encode(text_batch(tokens), None)


def test_top_p_sampling_is_seeded(encoded):
    rt, enc = encoded
    s = D.Sampling(top_p=0.9, temperature=0.9)
    a = rt.generate(*enc, "text", 12, sampling=s, seed=3)["tokens"]
    b = rt.generate(*enc, "text", 12, sampling=s, seed=3)["tokens"]
    c = rt.generate(*enc, "text", 12, sampling=s, seed=4)["tokens"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_tiny_top_p_is_greedy(encoded):
    rt, enc = encoded
    greedy = rt.generate(*enc, "text", 8)["tokens"]
    nucleus = rt.generate(*enc, "text", 8, sampling=D.Sampling(top_p=1e-6, temperature=1.0), seed=9)["tokens"]
    np.testing.assert_array_equal(greedy, nucleus)


def test_early_stop_when_every_row_ends(encoded):
    rt, enc = encoded
    # forcing EOS at step 0 through the keypoint schedule ends every row after one step
    out = rt.generate(*enc, "text", 40, D.Processors(keypoint_schedule=(1,)))
    assert int(out["steps"]) == 1
    assert (out["tokens"][:, 1] == 1).all() and (out["tokens"][:, 2:] == 0).all()


def test_sum_and_mean_option_scores(encoded):
    rt, enc = encoded
    one = tuple(x[:1] for x in enc)
    options = np.array([[262, 1, 1, 0], [501, 975, 1, 1]], np.int32)
    mean = rt.score(*one, options, average=True)
    total = rt.score(*one, options, average=False)
    np.testing.assert_allclose(total, mean * (options > 0).sum(1), rtol=1e-5)


@pytest.mark.parametrize("keys", [256, 300, 1024])
def test_vqgan_attention_sum_by_key_panels(keys):
    rng = np.random.default_rng(keys)
    att = rng.random((2, 5, keys)).astype(np.float32)
    v = (8 + rng.random((2, 3, keys))).astype(np.float32)
    want = np.einsum("bqk,bck->bcq", att.astype(np.float64), v.astype(np.float64))
    got = np.asarray(V.attend_values(att, v))
    assert got.shape == (2, 3, 5) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # a ragged last panel must still be counted: dropping it changes the sum
    if keys % V.KEY_PANEL:
        full = keys - keys % V.KEY_PANEL
        short = np.asarray(V.attend_values(att[..., :full], v[..., :full]))
        assert np.abs(short - want).max() > 1.0


def test_top_p_pick_is_the_same_with_the_key_sort(monkeypatch):
    """Top-p sorts by int32 keys (``unified_io.decoding.sort_ascending``): the same tokens as
    with ``jnp.sort``, ties, masked (-inf) columns and several rows included."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(2)
    scores = rng.normal(size=(6, 3000)).astype(np.float32) * 3
    scores[:, ::5] = -np.inf
    scores[1, :40] = 1.25
    keys = jax.random.split(jax.random.PRNGKey(0), 6)
    sampling = D.Sampling(top_p=0.8, temperature=0.7)
    fast = np.asarray(D._pick(jnp.asarray(scores), keys, 3, sampling))
    monkeypatch.setattr(D, "sort_ascending", lambda x: jnp.sort(x, axis=-1))
    plain = np.asarray(D._pick(jnp.asarray(scores), keys, 3, sampling))
    np.testing.assert_array_equal(fast, plain)
    assert len(set(fast.tolist())) > 1
