"""A scripted stand-in for ``UnifiedIOModel`` and a spying tokenizer, so the adapter's task
logic (prompts, decoding, confidences, error isolation) is tested without jax.

The fake model only sees token ids; the spy tokenizer remembers which text produced which ids,
so the fake can hand the prompt text to a test's responder and tests can assert on exactly the
ids the model received.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

from model_adapters.unified_io import vocab
from model_adapters.unified_io.adapter import UnifiedIOAdapter
from model_adapters.unified_io.prompts import PromptSet
from model_adapters.unified_io.tokenizer import UnifiedIOTokenizer, train_tiny_sentencepiece

STEP_LOGPROB = -0.1  # every generated text id, EOS included, has this log-prob
AFTER_EOS_LOGPROB = -9.0  # garbage after EOS: a confidence must never count it


class SpyTokenizer:
    """Delegates to a real tokenizer and records every encoded text and its ids."""

    def __init__(self, real: UnifiedIOTokenizer):
        self.real = real
        self.batches: list[list[str]] = []  # texts of each encode_batch call, in order
        self.text_of: dict[tuple[int, ...], str] = {}  # EOS-terminated ids -> text

    def _remember(self, ids, text: str) -> None:
        ids = list(ids)
        self.text_of[tuple(ids[: ids.index(vocab.EOS_ID) + 1])] = text

    def encode(self, text, max_length=None):
        ids = self.real.encode(text, max_length)
        self._remember(ids, text)
        return ids

    def encode_batch(self, texts, length=None):
        self.batches.append(list(texts))
        out = self.real.encode_batch(texts, length)
        for row, text in zip(out, texts):
            self._remember(row, text)
        return out

    def decode(self, ids, *args, **kwargs):
        return self.real.decode(ids, *args, **kwargs)

    def text(self, ids_row) -> str:
        ids = [int(t) for t in ids_row]
        return self.text_of[tuple(ids[: ids.index(vocab.EOS_ID) + 1])]


class FakeUnifiedIO:
    """Same methods as ``UnifiedIOModel``; outputs come from the test's responders.

    Args:
        tokenizer: the SpyTokenizer that encoded the inputs (to recover prompt texts).
        text: (prompt text, mask [576]) -> generated ids, EOS included.
        image: (prompt text, mask [576]) -> uint8 [256, 256, 3] the VQ-GAN should "decode".
        code_logprobs: (prompt text) -> float [256] per-code log-probs.
        option_nll: (prompt text, option text) -> total NLL.
    """

    def __init__(self, tokenizer: SpyTokenizer, text: Callable | None = None,
                 image: Callable | None = None, code_logprobs: Callable | None = None,
                 option_nll: Callable | None = None):
        self.tok = tokenizer
        self.text_reply, self.image_reply = text, image
        self.code_logprobs = code_logprobs or (lambda prompt: np.full(256, -0.5))
        self.option_nll = option_nll
        self.calls: list[dict] = []
        self._canvases: list[np.ndarray] = []

    def _record(self, kind, ids, image, mask, **extra) -> list[str]:
        texts = [self.tok.text(row) for row in ids]
        self.calls.append(dict(kind=kind, ids=np.array(ids), image=np.array(image),
                               mask=np.array(mask), texts=texts, **extra))
        return texts

    def generate_text(self, ids, image, mask, max_length, greedy=True, return_logprobs=False,
                      seed=0, eos_logit_bias=None, early_stop=True):
        texts = self._record("text", ids, image, mask, max_length=max_length, greedy=greedy)
        out = np.zeros((len(texts), max_length), np.int32)
        logp = np.full((len(texts), max_length), AFTER_EOS_LOGPROB)
        for b, text in enumerate(texts):
            reply = list(self.text_reply(text, mask[b]))[:max_length]
            out[b, : len(reply)] = reply
            logp[b, : len(reply)] = STEP_LOGPROB
        return (out, logp) if return_logprobs else out

    def generate_image(self, ids, image, mask, greedy=True, return_logprobs=False, seed=0):
        texts = self._record("image", ids, image, mask, greedy=greedy, seed=seed)
        codes = np.zeros((len(texts), 256), np.int64)
        for b, text in enumerate(texts):
            codes[b, 0] = len(self._canvases)  # a handle decode_image_codes resolves
            self._canvases.append(np.asarray(self.image_reply(text, mask[b]), np.uint8))
        logp = np.stack([np.asarray(self.code_logprobs(t), np.float64) for t in texts])
        return (codes, logp) if return_logprobs else codes

    def decode_image_codes(self, codes):
        canvases = np.stack([self._canvases[int(c)] for c in np.asarray(codes)[:, 0]])
        # The adapter maps raw -> uint8 by trunc(clip((raw + 1) / 2) * 255): aim at p + 0.5.
        return ((canvases.astype(np.float64) + 0.5) / 127.5 - 1.0).astype(np.float32)

    def score_options(self, ids, image, mask, options):
        texts = self._record("options", ids, image, mask, options=np.array(options))
        nll = np.zeros(np.shape(options)[:2])
        for b, text in enumerate(texts):
            for k, row in enumerate(np.asarray(options)[b]):
                nll[b, k] = self.option_nll(text, self.tok.text(row))
        return nll

    def num_parameters(self):
        return 1234


@pytest.fixture(scope="session")
def uio_spm_path(tmp_path_factory):
    """A tiny T5-layout sentencepiece model, trained once per session."""
    return train_tiny_sentencepiece(tmp_path_factory.mktemp("uio_spm"))


@pytest.fixture
def fake_uio(uio_spm_path):
    """``fake_uio(prompt_set=None, options=None, **responders) -> (adapter, model, spy)``."""

    def build(prompt_set: PromptSet | None = None, options: dict | None = None, **responders):
        spy = SpyTokenizer(UnifiedIOTokenizer(uio_spm_path))
        model = FakeUnifiedIO(spy, **responders)
        return UnifiedIOAdapter(model, spy, prompt_set or PromptSet(), options or {}), model, spy

    return build
