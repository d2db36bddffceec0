"""Parity with the released Unified-IO code on the public tiny-model vectors.

Provenance: ``shared/golden/unified_io/parity_public`` (README.md there): a tiny random model
in the released checkpoint format, inputs, and 74 outputs of ``allenai/unified-io-inference``
(commit ee0bd9d) on CPU float32, with per-array tolerances in ``cases.json``. Every array of
``parity_expected.npz`` is compared (the test is parametrised over the file's keys).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from model_adapters.unified_io import load_model, teacher_forcing

MASK = np.float32(-1e10)


@pytest.fixture(scope="module")
def parity(golden_dir):
    root = golden_dir / "unified_io" / "parity_public"
    cases = json.loads((root / "cases.json").read_text())
    inputs = dict(np.load(root / "parity_inputs.npz"))
    expected = dict(np.load(root / "parity_expected.npz"))
    model = load_model(root / "tiny_checkpoint.bin", "tiny")
    return cases, inputs, expected, model


def _summaries(prefix: str, logits: np.ndarray, columns, tokens=None, targets=None) -> dict:
    top2 = -np.sort(-logits, axis=-1)[..., :2]
    out = {
        f"{prefix}_argmax": logits.argmax(-1),
        f"{prefix}_max": logits.max(-1),
        f"{prefix}_logsumexp": np.log(np.exp(logits - top2[..., :1]).sum(-1)) + top2[..., 0],
        f"{prefix}_cols": logits[..., columns],
    }
    if targets is not None:
        out[f"{prefix}_target_logit"] = np.take_along_axis(logits, targets[..., None], -1)[..., 0]
    return out


def _step_arrays(prefix: str, out: dict, steps: int) -> dict:
    st = {k: np.asarray(v)[:, :steps] for k, v in out["stats"].items()}
    res = {f"{prefix}_step_{k}": st[k] for k in ("max", "logsumexp", "margin", "token_logit", "cols")}
    res[f"{prefix}_step_argmax"] = st["argmax"]
    return res


@pytest.fixture(scope="module")
def computed(parity):
    """Every expected array, computed by our implementation."""
    _, inp, _, model = parity
    cfg = model.config
    args = (inp["text_encoder_inputs"], inp["image_encoder_inputs"], inp["image_input_masks"])
    cols = inp["summary_columns"]
    model.record_columns = tuple(cols)
    got: dict = {}

    hidden, enc_mask = teacher_forcing.encode_program(cfg)(model.params, *args)
    got["encoder_hidden"], got["encoder_masks"] = np.asarray(hidden), np.asarray(enc_mask)
    np.testing.assert_array_equal(model.encode(*args), got["encoder_hidden"])

    t_in, t_tgt = inp["text_decoder_inputs"], inp["text_decoder_targets"]
    text, inter = model.text_logits(*args, t_in, t_tgt, return_intermediates=True)
    got["encoder_position_embedding_rows0_43"] = inter["encoder/position_embedding"][:44]
    got["debug_case0_enc_txt_emb_pre_ln"] = inter["encoder/txt_emb_pre_ln"][0]
    got["debug_case0_enc_img_emb_pre_ln_rows0_95"] = inter["encoder/img_emb_pre_ln"][0, :96]
    got["debug_case0_enc_layers_0_rows0_43"] = inter["encoder/layers_0"][0, :44]
    for name in ("pre_ln", "layers_0", "decoder_norm"):
        got[f"debug_case0_dec_{name}"] = inter[f"decoder/{name}"][0]
    got["debug_case0_dec_relpos_bias"] = inter["decoder/relpos_bias"]  # [H, Q, K], no batch
    sel = inp["text_tf_selected_positions"]
    got["text_tf_logits_selected"] = np.stack([text[b, sel[b]] for b in range(2)])
    got.update(_summaries("text_tf", text, cols, targets=t_tgt))

    img, img_text = model.image_logits(*args, inp["image_decoder_inputs"], inp["image_codes"],
                                       return_text_position=True)
    sel = inp["image_tf_selected_positions"]
    got["image_tf_logits_selected"] = np.stack([img[b, sel[b]] for b in range(2)])
    got.update(_summaries("image_tf", img, cols, targets=inp["image_codes"] + cfg.vocab_size))
    got.update(_summaries("image_tf_text", img_text, cols, targets=np.ones((2, 1), int)))

    raw = model.decode_image_codes(inp["vq_codes"])
    got["vq_decoded_raw_rows0_15"] = raw[:, :16]
    got["vq_decoded_raw_stride8"] = raw[:, 3::8, 3::8]
    got["vq_decoded_raw_channel_mean"] = raw.astype(np.float64).mean((1, 2))
    got["vq_decoded_uint8"] = (np.clip((raw + 1) / 2, 0, 1) * 255).astype(np.uint8)
    got["vq_encode_codes"], got["vq_encode_prequant_z"] = model.encode_image(
        inp["vq_enc_inputs"], return_prequant=True)

    for mode, greedy in (("greedy", True), ("sampled", False)):
        out = model.decode(*args, 6, 1, greedy=greedy)
        got[f"{mode}_text_tokens"] = out["tokens"]
        got[f"{mode}_text_scores"] = out["logprobs"].sum(1)
        got.update(_step_arrays(f"{mode}_text", out, 7))

        out = model.decode(*args, 1, 256, greedy=greedy)
        got[f"{mode}_image_codes"] = out["tokens"][:, 1:] - cfg.vocab_size
        got[f"{mode}_image_text_tokens"] = out["tokens"][:, :1]
        got[f"{mode}_image_scores"] = out["logprobs"].sum(1)
        got.update(_step_arrays(f"{mode}_image", out, 257))
        np.testing.assert_array_equal(model.generate_image(*args, greedy=greedy),
                                      got[f"{mode}_image_codes"])
    image = np.clip((model.decode_image_codes(got["greedy_image_codes"]) + 1) / 2, 0, 1)
    got["greedy_image_stride8"] = image[:, 3::8, 3::8]
    got["greedy_image_channel_mean"] = image.astype(np.float64).mean((1, 2))

    scores = model.score_options(*args, inp["answer_options"])
    best = scores.argmin(1)
    got["answer_options_all_scores"] = scores
    got["answer_options_scores"] = scores.min(1)
    got["answer_options_selected"] = inp["answer_options"][np.arange(2), best]

    from model_adapters.unified_io.relpos import image_buckets, text_buckets

    got["relpos_text_buckets_bidirectional_150"] = text_buckets(150, True)
    got["relpos_text_buckets_causal_150"] = text_buckets(150, False)
    got["relpos_image_buckets_encoder_24x24"] = image_buckets(576, 24)
    got["relpos_image_buckets_decoder_16x16"] = image_buckets(256, 16)
    return got


def _keys() -> list[str]:
    root = Path(os.environ.get("GRIT_EVAL_SHARED", Path(__file__).resolve().parents[4] / "shared"))
    path = root / "golden" / "unified_io" / "parity_public" / "parity_expected.npz"
    return sorted(np.load(path).files) if path.is_file() else ["<golden missing>"]


def assert_matches(name: str, got: np.ndarray, want: np.ndarray, tolerance: str) -> None:
    """Applies a cases.json tolerance string to one array."""
    got = np.asarray(got)
    assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
    if tolerance.startswith("exact"):
        np.testing.assert_array_equal(got.astype(want.dtype), want, err_msg=name)
    elif tolerance.startswith("|diff| <= 1"):
        diff = np.abs(got.astype(int) - want.astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() < 1e-3, f"{name}: {(diff > 0).sum()} off"
    elif tolerance.startswith("atol"):
        atol = float(tolerance.split()[1].rstrip(";"))
        masked = want == MASK
        np.testing.assert_array_equal(got == MASK, masked, err_msg=f"{name}: -1e10 entries")
        np.testing.assert_allclose(got[~masked], want[~masked], atol=atol, rtol=0, err_msg=name)
    elif tolerance.startswith("rtol"):
        np.testing.assert_allclose(got, want, rtol=float(tolerance.split()[1]), atol=0,
                                   err_msg=name)
    else:  # pragma: no cover - a new tolerance kind in cases.json must be handled here
        raise AssertionError(f"{name}: unknown tolerance {tolerance!r}")


@pytest.mark.parametrize("name", _keys())
def test_array_matches_reference(name, parity, computed):
    cases, _, expected, _ = parity
    assert name in computed, f"{name} is not computed by the test"
    tol = cases["arrays"][name]["suggested_tolerance"]
    assert_matches(name, computed[name], expected[name], tol)


def test_every_expected_array_is_checked(parity):
    _, _, expected, _ = parity
    assert sorted(expected) == _keys()
