"""Decode loop behaviour beyond the parity vectors: early stop, buckets, compile counts,
top-p filtering, option scoring, input errors (tiny config, random weights, CPU)."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from model_adapters.unified_io import decoding, load_model

EOS = 1


@pytest.fixture(scope="module")
def model():
    return load_model("random", "tiny", seed=5)


def _inputs(batch: int, length: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    text = rng.integers(3, 32000, size=(batch, length)).astype(np.int32)
    text[:, -2:] = 0
    text[:, -3] = EOS
    image = rng.normal(size=(batch, 384, 384, 3)).astype(np.float32)
    mask = (rng.random((batch, 576)) < 0.7).astype(np.int32)
    return text, image, mask


def _eos_at(steps, slots=8):
    """EOS logit bias [B, slots] that makes row b emit EOS at step steps[b]."""
    bias = np.zeros((len(steps), slots), np.float32)
    bias[np.arange(len(steps)), steps] = 1e4
    return bias


def test_early_stop_equals_full_length_decode(model):
    args = _inputs(3)
    bias = _eos_at([1, 3, 2])
    early = model.decode(*args, 8, 0, early_stop=True, eos_logit_bias=bias)
    full = model.decode(*args, 8, 0, early_stop=False, eos_logit_bias=bias)
    assert int(early["steps"]) == 4 and int(full["steps"]) == 8
    for b, k in enumerate([1, 3, 2]):
        assert early["tokens"][b, k] == EOS and EOS not in early["tokens"][b, :k]
        np.testing.assert_array_equal(early["tokens"][b, :k + 1], full["tokens"][b, :k + 1])
        np.testing.assert_array_equal(early["logprobs"][b, :k + 1], full["logprobs"][b, :k + 1])
    ids_e, lp_e = model.generate_text(*args, 8, eos_logit_bias=bias, return_logprobs=True)
    ids_f, lp_f = model.generate_text(*args, 8, eos_logit_bias=bias, return_logprobs=True,
                                      early_stop=False)
    np.testing.assert_array_equal(ids_e, ids_f)
    np.testing.assert_array_equal(lp_e, lp_f)
    assert ids_e[0, 2:].tolist() == [0] * 6 and lp_e[0, 2:].tolist() == [0.0] * 6


def test_batch_padding_and_bucket_reuse_compile_nothing_new(model):
    text, image, mask = _inputs(4, seed=1)
    four = model.generate_text(text, image, mask, 8)          # warm-up: batch bucket 4
    before = decoding.trace_count()
    three = model.generate_text(text[:3], image[:3], mask[:3], 8)  # padded to 4
    np.testing.assert_array_equal(three, four[:3])
    # Sampling too: with jax's default partitionable threefry a padded row does not change
    # the Gumbel noise of the real rows, so tokens match an unpadded (reference) batch.
    sampled4 = model.generate_text(text, image, mask, 8, greedy=False)
    sampled3 = model.generate_text(text[:3], image[:3], mask[:3], 8, greedy=False)
    np.testing.assert_array_equal(sampled3, sampled4[:3])
    short = model.generate_text(text[:, :9], image, mask, 5)  # text 9 -> bucket 32, 5 -> 8
    other = _inputs(4, length=30, seed=2)
    model.generate_text(*other, 7)
    assert short.shape == (4, 5)
    assert decoding.trace_count() == before, "a batch of an existing bucket recompiled"


def test_sampling_is_reproducible_by_seed(model):
    args = _inputs(2, seed=3)
    a = model.generate_text(*args, 8, greedy=False, seed=0)
    b = model.generate_text(*args, 8, greedy=False, seed=0)
    c = model.generate_text(*args, 8, greedy=False, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_top_p_filter_hand_computed():
    probs = np.array([[0.05, 0.5, 0.15, 0.3]], np.float32)
    out = np.asarray(decoding.top_p_filter(jnp.log(jnp.asarray(probs))))
    # sorted 0.5, 0.3, 0.15, 0.05 -> cumsum 0.5, 0.8, 0.95, 1: two below 0.9, so the
    # cutoff is the third-largest logit and only 0.05 is filtered.
    np.testing.assert_allclose(out[0, 1:], np.log(probs[0, 1:]), rtol=1e-6)
    assert out[0, 0] == np.float32(-1e7)


def test_score_options_matches_teacher_forcing(model):
    text, image, mask = _inputs(2, seed=4)
    rng = np.random.default_rng(0)
    k, length = 20, 4  # count bucket 32, 12 of it padding
    options = rng.integers(3, 33000, size=(2, k, length)).astype(np.int32)
    lengths = rng.integers(1, length, size=(2, k))
    for b in range(2):
        for j in range(k):
            options[b, j, lengths[b, j]] = EOS
            options[b, j, lengths[b, j] + 1:] = 0
    scores = model.score_options(text, image, mask, options)
    assert scores.shape == (2, k)
    for j in (0, 7, 19):
        o = options[:, j]
        inputs = np.concatenate([np.zeros((2, 1), np.int32), o], 1)
        targets = np.concatenate([o, np.zeros((2, 1), np.int32)], 1)
        n = (o > 0).sum(1)
        targets[np.arange(2), n] = EOS  # the extra EOS-after-EOS target
        logits = model.text_logits(text, image, mask, inputs, targets).astype(np.float64)
        lse = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1)) + logits.max(-1)
        nll = lse - np.take_along_axis(logits, targets[..., None], -1)[..., 0]
        want = (nll * (targets > 0)).sum(1)
        np.testing.assert_allclose(scores[:, j], want, rtol=1e-5)


def test_option_scoring_buckets_count_and_length_and_compiles_boundedly(model):
    text, image, mask = _inputs(1, seed=6)
    rng = np.random.default_rng(1)
    options = np.zeros((1, 70, 12), np.int32)  # 70 options: two calls (64 + 6 -> bucket 8)
    options[:, :, :2] = rng.integers(3, 33000, size=(1, 70, 2))
    options[:, :, 2] = EOS  # columns 3.. are padding: the length bucket is 8, not 16
    full = model.score_options(text, image, mask, options)
    before = decoding.trace_count()
    # Any subset scores the same as in the full call (options never see each other),
    # and counts within already-used buckets compile nothing new.
    for k in (5, 7, 8):
        np.testing.assert_allclose(model.score_options(text, image, mask, options[:, :k]),
                                   full[:, :k], rtol=1e-6)
    np.testing.assert_allclose(model.score_options(text, image, mask, options[:, 64:, :3]),
                               full[:, 64:], rtol=1e-6)
    assert decoding.trace_count() == before
    assert model.score_options(text, image, mask, options[:, :0]).shape == (1, 0)
    for k in (1, 2, 3, 16, 17, 33):  # new buckets 1, 2, 4, 16, 32: one program each
        model.score_options(text, image, mask, options[:, :k])
    assert decoding.trace_count() == before + 5


def test_bad_inputs_raise_clear_errors(model):
    text, image, mask = _inputs(2)
    with pytest.raises(ValueError, match=r"image must be \[B=2, 384, 384, 3\]"):
        model.generate_text(text, image[:, :100], mask, 8)
    with pytest.raises(ValueError, match=r"image_mask must be \[B=2, 576\]"):
        model.encode(text, image, mask[:, :10])
    with pytest.raises(ValueError, match="text_ids must be an int"):
        model.encode(text.astype(np.float32), image, mask)
    with pytest.raises(ValueError, match="decode length 300 exceeds"):
        model.generate_text(text, image, mask, 300)
    with pytest.raises(ValueError, match=r"codes must be \[B, 256\]"):
        model.decode_image_codes(np.zeros((1, 10), np.int32))
    with pytest.raises(ValueError, match="codes outside"):
        model.decode_image_codes(np.full((1, 256), 16384))


def test_num_parameters(model):
    assert model.num_parameters() == 4_433_955  # parity README: tiny tree


def test_bfloat16_weights_track_float32_reference(golden_dir):
    # bf16 weights (8-bit mantissa) with float32 accumulation: the parity set's encoder
    # states move by a few 1e-3 on values ~0.8, and the text argmax is unchanged.
    root = golden_dir / "unified_io" / "parity_public"
    inp, want = np.load(root / "parity_inputs.npz"), np.load(root / "parity_expected.npz")
    half = load_model(root / "tiny_checkpoint.bin", "tiny", dtype="bfloat16")
    assert half.params["token_embedder"]["embedding"].dtype == jnp.bfloat16
    args = (inp["text_encoder_inputs"], inp["image_encoder_inputs"], inp["image_input_masks"])
    valid = want["encoder_masks"] > 0
    diff = np.abs(half.encode(*args) - want["encoder_hidden"])[valid]
    assert diff.mean() < 0.01 and diff.max() < 0.1
    logits = half.text_logits(*args, inp["text_decoder_inputs"], inp["text_decoder_targets"])
    rows = inp["text_decoder_targets"] > 0
    np.testing.assert_array_equal(logits.argmax(-1)[rows], want["text_tf_argmax"][rows])
