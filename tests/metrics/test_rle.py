"""GRIT RLE helpers: pycocotools round trip, counts parsing, clear errors for bad RLE."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from metrics.errors import UnscorableInput
from metrics.rle import parse_counts, rle_decode, rle_encode


def _small_mask():
    m = np.zeros((4, 5), dtype=np.uint8)
    m[1:3, 2:4] = 1
    return m


def test_hand_computed_encoding():
    # Column-major runs: 9 background, 2 fg, 2 bg, 2 fg, 5 bg. pycocotools writes 9,2,2 then
    # deltas to the value two places back: 2-2=0 and 5-2=3 -> "92203".
    rle = rle_encode(_small_mask())
    assert rle == {"size": [4, 5], "counts": "92203"}
    np.testing.assert_array_equal(parse_counts("92203"), [9, 2, 2, 2, 5])


def test_round_trip_and_agreement_with_pycocotools():
    rng = np.random.default_rng(0)
    for _ in range(100):
        h, w = (int(v) for v in rng.integers(1, 60, 2))
        mask = rng.random((h, w)) < rng.random()
        rle = rle_encode(mask)
        assert isinstance(rle["counts"], str) and rle["size"] == [h, w]
        decoded = rle_decode(rle)
        assert decoded.dtype == np.uint8
        np.testing.assert_array_equal(decoded, mask)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ref = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        assert ref["counts"].decode() == rle["counts"]
        flat = mask.reshape(-1, order="F").astype(np.int8)
        bounds = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])
        runs = np.diff(bounds)
        if flat[0] == 1:  # RLE always starts with a (possibly empty) background run
            runs = np.concatenate([[0], runs])
        np.testing.assert_array_equal(parse_counts(rle["counts"]), runs)


def test_bytes_counts_are_accepted():
    rle = rle_encode(_small_mask())
    np.testing.assert_array_equal(rle_decode({"size": [4, 5], "counts": rle["counts"].encode()}), _small_mask())


@pytest.mark.parametrize(
    "rle, message",
    [
        ({"shape": [4, 5], "counts": "92203"}, "'shape' key; GRIT RLE needs 'size'"),
        ({"size": [4, 5], "counts": [9, 2, 2, 2, 5]}, "uncompressed RLE"),
        ({"size": [4, 5], "counts": "0000000000"}, "does not describe a 4x5 mask"),
        ({"size": [4, 5], "counts": "9220"}, "does not describe a 4x5 mask"),
        ({"size": [4, 5], "counts": "92~03"}, "outside '0'..'o'"),
        ({"size": [4, 5], "counts": "9220P"}, "truncated"),
        ({"size": [4], "counts": "92203"}, "'size' must be"),
        ({"counts": "92203"}, "no 'size'"),
        ({"size": [4, 5], "counts": None}, "must be a string"),
        ([{"size": [4, 5], "counts": "92203"}], "must be an RLE dict"),
    ],
)
def test_malformed_rle_raises_a_clear_error(rle, message):
    with pytest.raises(UnscorableInput, match=message):
        rle_decode(rle, "predicted mask 0")
