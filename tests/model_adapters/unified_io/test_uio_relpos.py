"""Relative-position buckets: the spec's hand-listed vectors and properties
(the full golden matrices are checked in test_uio_parity.py)."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from model_adapters.unified_io.relpos import image_bucket, text_bucket


def test_spec_text_vectors():
    # UNIFIED_IO.md 3.3, rel = key - query.
    rel = np.array([0, -1, 1, -8, 8, -16, 16, -127, 127])
    assert text_bucket(rel, True).tolist() == [0, 1, 17, 8, 24, 10, 26, 15, 31]
    rel = np.array([0, -15, -16, -20, -32, -64, -127])
    assert text_bucket(rel, False).tolist() == [0, 15, 16, 17, 21, 26, 31]


def test_spec_image_vectors():
    pairs = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (5, -3), (-23, 23)]
    dx, dy = np.array(pairs).T
    assert image_bucket(dx, dy).tolist() == [0, 129, 65, 200, 8, 201, 9, 156, 127]


@given(st.integers(0, 500), st.integers(0, 500))
def test_text_buckets_grow_with_distance(a, b):
    near, far = sorted((a, b))
    for bidirectional in (True, False):
        lo, hi = text_bucket(np.array([-near, -far]), bidirectional)
        assert lo <= hi <= (15 if bidirectional else 31)
    # Causal: keys after the query all share bucket 0.
    assert text_bucket(np.array([far + 1]), False)[0] == 0


@given(st.integers(-40, 40), st.integers(-40, 40))
def test_image_buckets_in_range_and_split_by_quadrant(dx, dy):
    bucket = int(image_bucket(np.array([dx]), np.array([dy]))[0])
    assert 0 <= bucket < 256
    # Quadrants restated on dx, dy = key - query (the reference states them on -dx, -dy).
    if dx >= 0 and dy > 0:
        quadrant = 3
    elif dx > 0 and dy <= 0:
        quadrant = 2
    elif dx < 0 and dy >= 0:
        quadrant = 1
    else:
        quadrant = 0
    assert bucket // 64 == quadrant
    # Within a quadrant the bucket depends on |dx| and |dy| only, x in the low 3 bits.
    mirrored = int(image_bucket(np.array([-dx]), np.array([-dy]))[0])
    assert bucket % 64 == mirrored % 64
    assert bucket % 8 == int(image_bucket(np.array([abs(dx)]), np.array([0]))[0]) % 8
