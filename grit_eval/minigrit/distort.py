"""Real image distortions for the ``_dist`` copies (GRIT_SPEC 5: distorted = degraded RGB).

GRIT stores only additive deltas and never names its distortion types; these five are common
corruptions (as in ImageNet-C) chosen per sample from the sample's own generator, so the
choice is deterministic.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

DISTORTIONS: tuple[str, ...] = ("gaussian_noise", "gaussian_blur", "jpeg", "contrast", "pixelate")


def _noise(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sigma = rng.uniform(10.0, 20.0)
    noisy = img.astype(np.float64) + rng.normal(0.0, sigma, img.shape)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def _blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    radius = float(rng.uniform(2.0, 3.5))
    return np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(radius)))


def _jpeg(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=int(rng.integers(8, 16)))
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _contrast(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Lower contrast around mid-grey and shift brightness: colours stay nameable.
    alpha = rng.uniform(0.45, 0.65)
    beta = rng.uniform(-25.0, 25.0)
    out = (img.astype(np.float64) - 128.0) * alpha + 128.0 + beta
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _pixelate(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    factor = int(rng.integers(4, 7))
    small = Image.fromarray(img).resize((max(1, w // factor), max(1, h // factor)), Image.BOX)
    return np.asarray(small.resize((w, h), Image.NEAREST))


_FUNCS = {"gaussian_noise": _noise, "gaussian_blur": _blur, "jpeg": _jpeg,
          "contrast": _contrast, "pixelate": _pixelate}


def distort(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """Applies one randomly chosen distortion.

    Args:
        image: [H, W, 3] uint8 RGB.
        rng: generator that picks the distortion and its strength.

    Returns:
        ([H, W, 3] uint8 distorted image, distortion name).
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"distort needs an [H, W, 3] uint8 image, got {image.shape} {image.dtype}")
    name = DISTORTIONS[int(rng.integers(len(DISTORTIONS)))]
    out = np.ascontiguousarray(_FUNCS[name](image, rng))
    return out, name
