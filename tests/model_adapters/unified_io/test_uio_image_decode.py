"""The fast image decode loop against the reference's loop re-created step for step
(``reference_decode``): same PRNG key -> identical VQ codes and log-probs (tiny config,
random weights, CPU); and the attention layouts it uses against ``layers.attend``, bit for bit."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from model_adapters.unified_io import encoder, layers, load_model
from model_adapters.unified_io.reference_decode import reference_sample_program


@pytest.fixture(scope="module")
def model():
    return load_model("random", "tiny", seed=11)


def _inputs(batch: int, seed: int):
    rng = np.random.default_rng(seed)
    text = rng.integers(3, 32000, size=(batch, 32)).astype(np.int32)  # one text bucket: 32
    text[:, 9], text[:, 10:] = 1, 0
    image = rng.normal(size=(batch, 384, 384, 3)).astype(np.float32)
    mask = (rng.random((batch, 576)) < 0.8).astype(np.int32)
    return text, image, mask


def test_sampled_codes_equal_the_reference_loop(model):
    c = model.config
    args = _inputs(2, seed=3)
    hidden, mask, _ = jax.jit(lambda p, *a: encoder.encode(p, c, *a))(model.params, *args)
    reference = reference_sample_program(c, 1, c.decoder_max_image_length)
    seen = []
    for seed in (0, 7):  # rows of one batch draw different noise; keys differ per seed
        codes, logprobs = model.generate_image(*args, greedy=False, seed=seed,
                                               return_logprobs=True)
        ids, ref_logprobs = (np.asarray(a) for a in reference(model.params, hidden, mask,
                                                               jax.random.PRNGKey(seed)))
        assert codes.shape == (2, c.decoder_max_image_length)
        np.testing.assert_array_equal(codes, ids[:, 1:] - c.vocab_size)
        np.testing.assert_array_equal(logprobs, ref_logprobs[:, 1:])  # bit for bit
        assert len(np.unique(codes)) > 100  # really sampled, not a constant
        seen.append(codes)
    assert not np.array_equal(*seen) and not np.array_equal(*seen[0])


@pytest.mark.parametrize("b, q, h, d, k", [(1, 1, 6, 64, 608), (2, 1, 2, 16, 257),
                                           (3, 5, 4, 8, 33)])
def test_attention_layouts_give_the_same_bits(b, q, h, d, k):
    rng = np.random.default_rng(b * 100 + k)
    qs, ks, vs = (jnp.asarray(rng.normal(size=s).astype(np.float32))
                  for s in ((b, q, h, d), (b, k, h, d), (b, k, h, d)))
    bias = jnp.asarray(np.where(rng.random((b, h, q, k)) < 0.2, layers.MASK_VALUE, 0.0)
                       .astype(np.float32))
    want = jax.jit(layers.attend)(qs, ks, vs, bias)
    keys_last = [jnp.transpose(a, (0, 2, 3, 1)) for a in (ks, vs)]
    got = jax.jit(layers.attend_transposed)(qs, *keys_last, bias)
    rows = jax.jit(layers.attend_rows)(qs, *(a.reshape(b * h, d, k) for a in keys_last), bias)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(rows, want)
