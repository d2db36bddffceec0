"""T5-style text tokenizer of Unified-IO on top of `sentencepiece` (spec section 2).

The reference builds ``transformers.T5Tokenizer.from_pretrained("t5-base", extra_ids=1100)``
(the slow tokenizer of transformers 4.26). That class is gone from transformers 5, so its rules
are re-implemented here directly on a sentencepiece model:

* the text is split at ``<extra_id_N>`` strings (N in 0..1099, written without leading zeros);
* whitespace directly next to a special token is stripped (``str.strip`` semantics);
* every remaining non-empty chunk is encoded separately by sentencepiece, so each chunk gets
  its own leading ``▁`` (and sentencepiece's own normaliser collapses repeated spaces);
* ``<extra_id_N>`` maps to id ``33099 - N`` whatever the size of the sentencepiece model;
* EOS (1) is appended; truncation to ``max_length`` keeps the EOS as the last id.

Only ``<extra_id_N>`` strings are special on input; the literal strings ``</s>``, ``<pad>``
and ``<unk>`` are encoded as plain text (HF would map them to ids 1/0/2; prompts never
contain them) **[inferred]**.
"""
from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import sentencepiece as spm

from model_adapters.unified_io import vocab

# Longest-possible match is implied by the closing ">"; leading zeros are not special (HF's
# token list only holds <extra_id_0> .. <extra_id_1099>).
_EXTRA_ID_RE = re.compile(r"<extra_id_(0|[1-9][0-9]{0,3})>")
DEFAULT_MAX_LENGTH = 64  # the reference runner's max_input_len

# HF's `clean_up_tokenization` (applied by the reference's `tokenizer.decode`).
_CLEANUPS = (
    (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
    (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
)


def _split_specials(text: str) -> list[str | int]:
    """Split `text` into plain-text chunks (str) and special-token ids (int), T5-style."""
    parts: list[str | int] = []
    pos = 0
    for m in _EXTRA_ID_RE.finditer(text):
        n = int(m.group(1))
        if n >= vocab.NUM_EXTRA_IDS:
            continue  # not a special token: stays inside the text chunk
        parts.append(text[pos:m.start()])
        parts.append(vocab.extra_id_to_id(n))
        pos = m.end()
    parts.append(text[pos:])
    # Strip whitespace next to each special token (HF strips both neighbours by default).
    for i, part in enumerate(parts):
        if isinstance(part, str):
            if i > 0:
                part = part.lstrip()
            if i < len(parts) - 1:
                part = part.rstrip()
            parts[i] = part
    return [p for p in parts if not (isinstance(p, str) and p == "")]


class UnifiedIOTokenizer:
    """Encode prompts / decode answers with the Unified-IO id layout.

    Args:
        spm_path: a sentencepiece model with pad=0, eos=1, unk=2 and no BOS (T5's
            ``spiece.model``, or one made by `train_tiny_sentencepiece`).
        max_length: default maximum encoded length, EOS included (the runner uses 64).
    """

    def __init__(self, spm_path: str | os.PathLike, max_length: int = DEFAULT_MAX_LENGTH):
        path = Path(spm_path)
        if not path.is_file():
            raise FileNotFoundError(f"sentencepiece model not found: {path}")
        self.sp = spm.SentencePieceProcessor()
        try:
            self.sp.Load(str(path))
        except Exception as exc:  # sentencepiece raises OSError/RuntimeError with C++ text
            raise ValueError(f"not a sentencepiece model: {path} ({exc})") from None
        ids = (self.sp.pad_id(), self.sp.eos_id(), self.sp.unk_id(), self.sp.bos_id())
        if ids != (vocab.PAD_ID, vocab.EOS_ID, vocab.UNK_ID, -1):
            raise ValueError(
                f"{path}: sentencepiece model must have pad=0, eos=1, unk=2 and no BOS "
                f"(T5 layout), got pad={ids[0]} eos={ids[1]} unk={ids[2]} bos={ids[3]}")
        if self.sp.GetPieceSize() > vocab.NUM_SPM_PIECES:
            raise ValueError(f"{path}: {self.sp.GetPieceSize()} pieces do not fit the "
                             f"{vocab.NUM_SPM_PIECES}-piece Unified-IO layout")
        if max_length < 1:
            raise ValueError(f"max_length must be >= 1, got {max_length}")
        self.path = path
        self.max_length = max_length
        self.num_pieces = self.sp.GetPieceSize()

    def encode(self, text: str, max_length: int | None = None) -> list[int]:
        """Token ids of `text`, EOS-terminated, at most `max_length` long (EOS kept)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        limit = self.max_length if max_length is None else max_length
        if limit < 1:
            raise ValueError(f"max_length must be >= 1, got {limit}")
        ids: list[int] = []
        for part in _split_specials(text):
            if isinstance(part, int):
                ids.append(part)
            else:
                ids.extend(self.sp.EncodeAsIds(part))
        # HF truncates first, leaving room for the EOS it then appends.
        return ids[: limit - 1] + [vocab.EOS_ID]

    def encode_batch(self, texts: Sequence[str], length: int | None = None) -> np.ndarray:
        """Encode and 0-pad to a fixed width.

        Returns:
            int32 [B, length] (length defaults to ``max_length``); each row EOS-terminated.
        """
        width = self.max_length if length is None else length
        out = np.zeros((len(texts), width), np.int32)
        for row, text in enumerate(texts):
            ids = self.encode(text, width)
            out[row, : len(ids)] = ids
        return out

    def decode(self, ids: Iterable[int], skip_special: bool = True,
               clean_up_spaces: bool = True) -> str:
        """Text of `ids`, cut at the first EOS.

        Mirrors HF's slow T5 `decode`: with ``skip_special`` pad/unk and all extra ids are
        dropped; without it extra ids are written as ``<extra_id_N>`` glued to the text (the
        reference decodes VQA answers with ``skip_special_tokens=False``). Image-vocabulary
        ids, the image start token and ids beyond this sentencepiece model's pieces (possible
        only with a tiny model) are always dropped **[inferred]**. ``clean_up_spaces`` applies
        HF's ``clean_up_tokenization`` (" ." -> "." etc.), as the reference does by default.
        """
        pieces: list[int] = []
        out = ""
        prev_special = False
        for raw in ids:
            t = int(raw)
            if t == vocab.EOS_ID:
                break
            special = t in (vocab.PAD_ID, vocab.UNK_ID)
            if special or vocab.LOCATION_ID_MIN <= t <= vocab.SENTINEL_ID_MAX:
                if skip_special:
                    continue
                name = {0: "<pad>", 2: "<unk>"}.get(t) or f"<extra_id_{vocab.id_to_extra_id(t)}>"
                # HF: a space before a run of specials, then the pending pieces, then the token.
                out += ("" if prev_special else " ") + self.sp.DecodeIds(pieces) + name
                pieces, prev_special = [], True
            elif 3 <= t < self.num_pieces:
                pieces.append(t)
                prev_special = False
        out = (out + self.sp.DecodeIds(pieces)).strip()
        if clean_up_spaces:
            for old, new in _CLEANUPS:
                out = out.replace(old, new)
        return out


# Words of the prompts and of typical GRIT queries/answers, so a tiny model covers them.
DEFAULT_TINY_CORPUS: tuple[str, ...] = (
    'Which region does the text " a dog on the left " describe ?',
    'What is the category of region " the object " ?',
    'What is the segmentation of " person " ?',
    "What is the surface normal of the image ?",
    'Find the human joints in the region " person " .',
    "What does the image describe ?",
    "What is the depth map of the image ?",
    "what color is the cat? how many people are there? is this a kitchen?",
    "yes no one two three four five 0 1 2 3 4 5 6 7 8 9 10 red blue green white black",
    "person bicycle car motorcycle airplane bus train truck boat bird cat dog horse sheep cow",
    "elephant bear zebra giraffe umbrella tie kite bottle cup chair couch bed table tv laptop",
    "the man is holding a ball while the woman sits on a bench near the water.",
    "a small brown dog runs across the green grass towards the tall tree.",
)


def train_tiny_sentencepiece(out_dir: str | os.PathLike, sentences: Sequence[str] | None = None,
                             vocab_size: int = 256) -> Path:
    """Train a small T5-layout sentencepiece model (pad 0, eos 1, unk 2, no BOS).

    Used by tests and by ``model.checkpoint=random`` runs without a tokenizer file. Training is
    single-threaded, so the same sentences give the same bytes; it takes well under a second.
    `vocab_size` is a soft limit (a small corpus may yield fewer pieces).

    Returns:
        Path of ``<out_dir>/tiny_spiece.model``.
    """
    corpus = list(DEFAULT_TINY_CORPUS if sentences is None else sentences)
    if not corpus or not all(isinstance(s, str) for s in corpus):
        raise ValueError("sentences must be a non-empty sequence of str")
    if not 8 <= vocab_size <= vocab.NUM_SPM_PIECES:
        raise ValueError(f"vocab_size must be in 8..{vocab.NUM_SPM_PIECES}, got {vocab_size}")
    model = io.BytesIO()
    spm.SentencePieceTrainer.Train(
        sentence_iterator=iter(corpus), model_writer=model, vocab_size=vocab_size,
        model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
        character_coverage=1.0, hard_vocab_limit=False, num_threads=1,
        minloglevel=2,  # silence the trainer's log lines
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "tiny_spiece.model"
    path.write_bytes(model.getvalue())
    return path
