"""Unified-IO (v1) token id layout and pure id helpers (spec UNIFIED_IO.md section 2).

One embedding table of 49,536 rows is shared by text and image tokens::

    0               <pad>; also the decoder start token of the text segment
    1               </s> (EOS)
    2               <unk>
    3 .. 31999      sentencepiece pieces (the T5 vocabulary; a tiny test model uses fewer)
    32000 .. 32999  location bins: bin b (0..999) is id 32999 - b, text <extra_id_{b+100}>
    33000 .. 33099  ordinary T5 sentinels <extra_id_99> .. <extra_id_0>
    33100 .. 33150  unused padding rows
    33151           start token of the decoder's image segment
    33152 .. 49535  VQ-GAN codes: code c (0..16383) is id 33152 + c

The layout is fixed by the released checkpoints, so it does not depend on the size of the
sentencepiece model in use: `<extra_id_N>` is always id ``33099 - N`` (the reference's
HuggingFace tokenizer computes ``33100 - 1 - N`` from 32000 pieces + 1100 extra ids).

Everything here is numpy-only; functions accept Python ints or integer arrays.
"""
from __future__ import annotations

import numpy as np

PAD_ID = 0
EOS_ID = 1
UNK_ID = 2

# Sentencepiece pieces of the T5 vocabulary (cc_all.32000), pad/eos/unk included.
NUM_SPM_PIECES = 32000
# The reference builds its tokenizer with extra_ids=1100: 100 T5 sentinels + 1000 bins.
NUM_EXTRA_IDS = 1100
# Size of the reference tokenizer's vocabulary (pieces + extra ids).
TOKENIZER_VOCAB_SIZE = NUM_SPM_PIECES + NUM_EXTRA_IDS  # 33100

NUM_LOCATION_BINS = 1000
# extra ids 100..1099 are the location bins; 0..99 stay ordinary sentinels.
LOCATION_EXTRA_ID_OFFSET = 100
LOCATION_ID_MIN = 32000  # bin 999
LOCATION_ID_MAX = 32999  # bin 0
SENTINEL_ID_MIN = 33000  # <extra_id_99>
SENTINEL_ID_MAX = 33099  # <extra_id_0>

# The text vocabulary is padded from 33100 up to a multiple of 128.
TEXT_VOCAB_SIZE = 33152
IMAGE_START_ID = TEXT_VOCAB_SIZE - 1  # 33151
IMAGE_CODE_OFFSET = TEXT_VOCAB_SIZE  # 33152
IMAGE_VOCAB_SIZE = 16384
TOTAL_VOCAB_SIZE = TEXT_VOCAB_SIZE + IMAGE_VOCAB_SIZE  # 49536


def _check_range(values: np.ndarray, low: int, high: int, what: str) -> None:
    if values.size and (values.min() < low or values.max() > high):
        bad = values[(values < low) | (values > high)].ravel()[0]
        raise ValueError(f"{what} must be in {low}..{high}, got {int(bad)}")


def _as_int_array(values, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            return arr.astype(np.int64)
        raise TypeError(f"{what} must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _ret(arr: np.ndarray, scalar_input: bool):
    return int(arr) if scalar_input else arr


def extra_id_to_id(n):
    """Token id of `<extra_id_n>` (n in 0..1099): ``33099 - n``."""
    arr = _as_int_array(n, "extra id")
    _check_range(arr, 0, NUM_EXTRA_IDS - 1, "extra id")
    return _ret(TOKENIZER_VOCAB_SIZE - 1 - arr, np.ndim(n) == 0)


def id_to_extra_id(token_id):
    """Inverse of `extra_id_to_id`: the N of `<extra_id_N>` for ids 32000..33099."""
    arr = _as_int_array(token_id, "token id")
    _check_range(arr, LOCATION_ID_MIN, SENTINEL_ID_MAX, "extra-id token id")
    return _ret(TOKENIZER_VOCAB_SIZE - 1 - arr, np.ndim(token_id) == 0)


def location_id(bin_index):
    """Token id of location bin `bin_index` (0..999): ``32999 - bin``."""
    arr = _as_int_array(bin_index, "location bin")
    _check_range(arr, 0, NUM_LOCATION_BINS - 1, "location bin")
    return _ret(LOCATION_ID_MAX - arr, np.ndim(bin_index) == 0)


def bin_of_id(token_id):
    """Location bin (0..999) of a location token id (32000..32999)."""
    arr = _as_int_array(token_id, "token id")
    _check_range(arr, LOCATION_ID_MIN, LOCATION_ID_MAX, "location token id")
    return _ret(LOCATION_ID_MAX - arr, np.ndim(token_id) == 0)


def location_token_text(bin_index: int) -> str:
    """The prompt text of a location bin: ``<extra_id_{bin+100}>``."""
    b = int(location_id(bin_index))  # validates the range
    return f"<extra_id_{LOCATION_ID_MAX - b + LOCATION_EXTRA_ID_OFFSET}>"


def is_location_id(token_id):
    """True for location-bin ids 32000..32999 (inclusive at both ends).

    The reference's parser tests ``id > 32000`` (strict), so a predicted bin 999 makes it
    raise; we include 32000 on purpose (spec section 2 recommends ``>=``).
    """
    arr = np.asarray(token_id)
    return (arr >= LOCATION_ID_MIN) & (arr <= LOCATION_ID_MAX)


def is_sentinel_id(token_id):
    """True for the ordinary T5 sentinels `<extra_id_0..99>` (ids 33000..33099)."""
    arr = np.asarray(token_id)
    return (arr >= SENTINEL_ID_MIN) & (arr <= SENTINEL_ID_MAX)


def is_image_id(token_id):
    """True for VQ-GAN code ids 33152..49535 (the image start token 33151 is not a code)."""
    arr = np.asarray(token_id)
    return (arr >= IMAGE_CODE_OFFSET) & (arr < TOTAL_VOCAB_SIZE)


def image_code_to_id(code):
    """Token id of VQ-GAN code `code` (0..16383): ``33152 + code``."""
    arr = _as_int_array(code, "image code")
    _check_range(arr, 0, IMAGE_VOCAB_SIZE - 1, "image code")
    return _ret(arr + IMAGE_CODE_OFFSET, np.ndim(code) == 0)


def id_to_image_code(token_id):
    """VQ-GAN code (0..16383) of an image token id (33152..49535)."""
    arr = _as_int_array(token_id, "token id")
    _check_range(arr, IMAGE_CODE_OFFSET, TOTAL_VOCAB_SIZE - 1, "image token id")
    return _ret(arr - IMAGE_CODE_OFFSET, np.ndim(token_id) == 0)
