"""Data parallelism (issue 8): 4 forced CPU devices give the 1-device predictions.

The device count is fixed when jax starts, and this pytest process already imported jax, so
the model runs in a subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``.
There one tiny random model is loaded twice, on ``jax.local_devices()[:1]`` and on all four,
and both write their outputs to an ``.npz`` that this test compares.

What "the same" means: every token (greedy text, sampled text with the same seed, image codes)
and every submitted output is identical; float outputs (log-probs, option NLLs, confidences)
agree to float32 rounding, because XLA's CPU kernels round a row differently when a device
holds fewer rows -- one device alone moves them as much between batch sizes 1 and 8 (2.4e-6
on greedy log-probs, measured on this project's 2-core CPU machine).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

CHILD = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import jax, numpy as np
    from grit_eval.data.grit_reader import read_split
    from grit_eval.minigrit import ensure_minigrit
    from model_adapters.unified_io import decoding, load_model
    from model_adapters.unified_io.adapter import UnifiedIOAdapter
    from model_adapters.unified_io.prompts import PromptSet
    from model_adapters.unified_io.sharding import DataParallel
    from model_adapters.unified_io.tokenizer import UnifiedIOTokenizer, train_tiny_sentencepiece

    out_dir = Path(sys.argv[1])
    compiles = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, secs, **kw: compiles.append(event) if "backend_compile" in event else None)

    def inputs(batch, seed):
        rng = np.random.default_rng(seed)
        text = rng.integers(3, 32000, size=(batch, 12)).astype(np.int32)
        text[:, -2:] = 0
        text[:, -3] = 1
        image = rng.normal(size=(batch, 384, 384, 3)).astype(np.float32)
        return text, image, (rng.random((batch, 576)) < 0.7).astype(np.int32)

    options = np.random.default_rng(9).integers(3, 300, size=(3, 5, 6))
    options[:, :, -2:] = [1, 0]
    tokenizer = UnifiedIOTokenizer(train_tiny_sentencepiece(out_dir / "spm"))
    root = ensure_minigrit(cache_dir=out_dir / "cache")
    samples = read_split(root, "ablation", ["vqa", "localization", "categorization"])
    requests = [r for task in ("vqa", "localization", "categorization")
                for r in [s.to_request() for s in samples if s.task == task][:2]]
    info = {"devices": len(jax.local_devices()), "requests": [r.task for r in requests]}
    try:
        DataParallel().put_batch(np.zeros((6, 2)))
    except ValueError as exc:
        info["uneven_error"] = str(exc)
    arrays = {}
    for name, devices in [("one", jax.local_devices()[:1]), ("all", None)]:
        model = load_model("random", "tiny", seed=5, devices=devices)
        three, five = inputs(3, 0), inputs(5, 1)  # buckets 4 and 8: 1 and 2 rows per device
        arrays[f"{name}_greedy3"], arrays[f"{name}_greedy3_lp"] = model.generate_text(
            *three, 8, return_logprobs=True)
        arrays[f"{name}_greedy5"] = model.generate_text(*five, 8)
        arrays[f"{name}_sampled"], arrays[f"{name}_sampled_lp"] = model.generate_text(
            *five, 8, greedy=False, seed=3, return_logprobs=True)
        arrays[f"{name}_options"] = model.score_options(*three, options)
        arrays[f"{name}_codes"], arrays[f"{name}_codes_lp"] = model.generate_image(
            *three, return_logprobs=True)
        arrays[f"{name}_pixels"] = model.decode_image_codes(arrays[f"{name}_codes"][:2])
        # A second batch of a warmed-up bucket (4) compiles nothing.
        traces, compiled = decoding.trace_count(), len(compiles)
        model.generate_text(*inputs(4, 2), 8)
        info[f"{name}_new_traces"] = decoding.trace_count() - traces
        info[f"{name}_new_compiles"] = len(compiles) - compiled
        adapter = UnifiedIOAdapter(model, tokenizer, PromptSet(), {})
        info[f"{name}_predictions"] = [[p.example_id, p.output, p.confidence, p.error]
                                       for p in adapter.predict(requests)]
        info[f"{name}_layouts"] = {b: model.layout(b) for b in (3, 20)}
    np.savez(out_dir / "outputs.npz", **arrays)
    (out_dir / "info.json").write_text(json.dumps(info))
""")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("data_parallel")
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", CHILD, str(out)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    with np.load(out / "outputs.npz") as arrays:
        return dict(arrays), json.loads((out / "info.json").read_text())


def test_each_device_gets_the_rows_one_device_would_get_per_call(runs):
    _, info = runs
    assert info["devices"] == 4
    # 3 rows: bucket 4 per device; 20 rows: at most 8 per device and call.
    assert info["one_layouts"] == {"3": [4, [[0, 3]]], "20": [8, [[0, 8], [8, 16], [16, 20]]]}
    assert info["all_layouts"] == {"3": [16, [[0, 3]]], "20": [32, [[0, 20]]]}


def test_a_batch_that_does_not_split_evenly_is_a_clear_error(runs):
    _, info = runs
    assert "(6, 2)" in info["uneven_error"] and "multiple of 4" in info["uneven_error"]


@pytest.mark.parametrize("name", ["greedy3", "greedy5", "sampled", "codes"])
def test_tokens_are_identical(runs, name):
    arrays, _ = runs
    np.testing.assert_array_equal(arrays[f"all_{name}"], arrays[f"one_{name}"])


def test_sampled_tokens_are_not_the_greedy_ones(runs):
    # Guards the sampled comparison: sampling from PRNGKey(3) really ran.
    arrays, _ = runs
    assert not np.array_equal(arrays["all_sampled"], arrays["all_greedy5"])


@pytest.mark.parametrize("name", ["greedy3_lp", "sampled_lp", "codes_lp", "options", "pixels"])
def test_float_outputs_are_bit_identical(runs, name):
    # Every device runs the 1-device program on the same rows (issue 13 item 4).
    arrays, _ = runs
    np.testing.assert_array_equal(arrays[f"all_{name}"], arrays[f"one_{name}"])


def test_no_recompilation_on_a_second_batch_of_a_bucket(runs):
    _, info = runs
    for name in ("one", "all"):
        assert info[f"{name}_new_traces"] == 0
        assert info[f"{name}_new_compiles"] == 0


def test_adapter_predictions_are_the_same(runs):
    _, info = runs
    assert sorted(set(info["requests"])) == ["categorization", "localization", "vqa"]
    one, four = info["one_predictions"], info["all_predictions"]
    assert [p[0] for p in four] == [p[0] for p in one]
    for (example_id, output, conf, error), p in zip(four, one):
        assert error is None and p[3] is None, (example_id, error, p[3])
        assert output == p[1], example_id
        assert conf == p[2], example_id
