"""Our numpy port of cv2.resize (INTER_LINEAR, uint8) against OpenCV itself, bit for bit."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from metrics.mask_resize import resize_linear_uint8

cv2 = pytest.importorskip("cv2")


def _random_sizes(rng, n, max_src=48, max_dst=80):
    for _ in range(n):
        h, w = rng.integers(1, max_src, 2)
        H, W = rng.integers(1, max_dst, 2)
        yield int(h), int(w), int(H), int(W)


@pytest.mark.parametrize("binary", [True, False])
def test_matches_cv2_on_random_sizes(binary):
    rng = np.random.default_rng(1234 + binary)
    for h, w, H, W in _random_sizes(rng, 400):
        img = rng.integers(0, 256, (h, w), dtype=np.uint8)
        if binary:
            img = (rng.random((h, w)) < rng.random()).astype(np.uint8)
        np.testing.assert_array_equal(resize_linear_uint8(img, W, H), cv2.resize(img, (W, H)), err_msg=f"{(h, w)}->{(H, W)}")


@pytest.mark.parametrize(
    "src, dst",
    [((10, 15), (20, 30)), ((20, 30), (10, 15)), ((480, 640), (240, 320)), ((427, 640), (300, 500)),
     ((7, 7), (3, 3)), ((1, 9), (5, 1)), ((300, 200), (301, 199)), ((64, 64), (64, 17)), ((5, 5), (5, 5))],
)
def test_matches_cv2_on_typical_and_edge_sizes(src, dst):
    rng = np.random.default_rng(sum(src) * 1000 + sum(dst))
    mask = np.zeros(src, dtype=np.uint8)
    mask[src[0] // 4: 3 * src[0] // 4 + 1, src[1] // 3: src[1] - 1] = 1  # a blob with hard edges
    gray = rng.integers(0, 256, src, dtype=np.uint8)
    for img in (mask, gray):
        out = resize_linear_uint8(img, dst[1], dst[0])
        assert out.shape == dst and out.dtype == np.uint8
        np.testing.assert_array_equal(out, cv2.resize(img, (dst[1], dst[0])))


def test_binary_mask_stays_binary():
    rng = np.random.default_rng(0)
    out = resize_linear_uint8((rng.random((33, 21)) < 0.5).astype(np.uint8), 50, 70)
    assert set(np.unique(out)) <= {0, 1}


def test_bad_input_raises():
    with pytest.raises(ValueError, match="uint8"):
        resize_linear_uint8(np.zeros((3, 3), dtype=bool), 4, 4)
    with pytest.raises(ValueError, match="positive"):
        resize_linear_uint8(np.zeros((3, 3), dtype=np.uint8), 0, 4)


def test_metrics_package_does_not_import_cv2():
    code = "import sys, metrics.segmentation, metrics.mask_resize; assert 'cv2' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
