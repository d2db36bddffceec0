"""Eval-time image preprocessing exactly as the port (its TF pipeline, re-done in numpy).

Resize keeping the aspect ratio (scale = min(384/H, 384/W) in float32, sizes truncated), TF's
antialiased bilinear ``scale_and_translate`` kernel, clip to [0, 1], centred zero padding, CLIP
normalisation AFTER padding (so padded pixels are not 0), 16x16 patches; image targets use the
same rule at 256x256 and map to [-1, 1]. Boxes follow the same transform and are quantised as
int(v * 999) into ``<extra_id_{200+q}>``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IMAGE_INPUT_SIZE = (384, 384)
IMAGE_INPUT_D = 16
IMAGE_TARGET_SIZE = (256, 256)
IMAGE_TARGET_D = 8
VIT_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], np.float32)
VIT_STD = np.array([0.26862954, 0.26130258, 0.27577711], np.float32)
NUM_BINS = 1000
VOCAB_START = 200


def _triangle_weights(in_size: int, out_size: int) -> np.ndarray:
    """[out, in] weights of TF's antialiased bilinear resize (ScaleAndTranslate, no translation)."""
    f32 = np.float32
    scale = f32(out_size) / f32(in_size)
    inv = f32(1.0) / scale
    kscale = max(inv, f32(1.0))
    radius = f32(1.0) * kscale
    w = np.zeros((out_size, in_size), np.float32)
    for x in range(out_size):
        sample = (f32(x) + f32(0.5)) * inv
        start = int(np.clip(np.ceil(sample - radius - f32(0.5)), 0, in_size - 1))
        end = int(np.clip(np.floor(sample + radius - f32(0.5)), 0, in_size - 1)) + 1
        src = np.arange(start, end, dtype=np.float32)
        k = np.maximum(f32(0), f32(1) - np.abs((src + f32(0.5) - sample) / kscale)).astype(np.float32)
        total = k.sum(dtype=np.float32)
        if abs(total) >= 1000 * np.finfo(np.float32).tiny:
            k = k / total
        w[x, start:end] = k
    return w


def resize_bilinear_antialias(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``tf.image.resize(image, size, BILINEAR, antialias=True)`` for a float HWC image."""
    wh = _triangle_weights(image.shape[0], size[0])
    ww = _triangle_weights(image.shape[1], size[1])
    out = np.einsum("oh,hwc->owc", wh, image.astype(np.float32), dtype=np.float32)
    return np.einsum("pw,owc->opc", ww, out, dtype=np.float32)


def resize_nearest(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """TF2 NEAREST_NEIGHBOR resize (half-pixel centres)."""
    rows = np.minimum(((np.arange(size[0]) + 0.5) * mask.shape[0] / size[0]).astype(int), mask.shape[0] - 1)
    cols = np.minimum(((np.arange(size[1]) + 0.5) * mask.shape[1] / size[1]).astype(int), mask.shape[1] - 1)
    return mask[rows][:, cols]


@dataclass
class ResizedImage:
    image: np.ndarray  # [h, w, 3] float32 in [0, 1], padded
    mask: np.ndarray  # [h, w] int32, 1 on image pixels
    info: np.ndarray  # [11] float32 image_info


def image_info(image_shape: tuple[int, ...], size: tuple[int, int] | None = None) -> np.ndarray:
    """The [11] float32 ``image_info`` of an image of ``image_shape`` resized into ``size``
    (default: the encoder input): top, left, 1/scale, height, width, 0 x 4, resized h, w.
    From the shape alone, so callers mapping boxes back need not resize the image again."""
    f32 = np.float32
    size = size or IMAGE_INPUT_SIZE
    height, width = f32(image_shape[0]), f32(image_shape[1])
    scale = min(f32(size[0]) / height, f32(size[1]) / width)
    sh, sw = int(height * scale), int(width * scale)
    top, left = (size[0] - sh) // 2, (size[1] - sw) // 2
    return np.array([top, left, f32(1.0) / scale, height, width, 0, 0, 0, 0, sh, sw], np.float32)


def resize_and_pad(image_uint8: np.ndarray, size: tuple[int, int]) -> ResizedImage:
    info = image_info(image_uint8.shape, size)
    top, left, sh, sw = int(info[0]), int(info[1]), int(info[9]), int(info[10])
    img = image_uint8.astype(np.float32) * np.float32(1.0 / 255.0)
    resized = np.clip(resize_bilinear_antialias(img, (sh, sw)), 0.0, 1.0)
    out = np.zeros((size[0], size[1], 3), np.float32)
    out[top:top + sh, left:left + sw] = resized
    mask = np.zeros(size, np.int32)
    mask[top:top + sh, left:left + sw] = 1
    return ResizedImage(out, mask, info)


def image_input(image_uint8: np.ndarray) -> dict[str, np.ndarray]:
    """The encoder's image features: 576 normalised 16x16 patches, their mask and pos ids."""
    r = resize_and_pad(image_uint8, IMAGE_INPUT_SIZE)
    norm = (r.image - VIT_MEAN) / VIT_STD
    gh, gw = IMAGE_INPUT_SIZE[0] // IMAGE_INPUT_D, IMAGE_INPUT_SIZE[1] // IMAGE_INPUT_D
    patches = norm.reshape(gh, IMAGE_INPUT_D, gw, IMAGE_INPUT_D, 3).transpose(0, 2, 1, 3, 4)
    return {"input": patches.reshape(gh * gw, -1).astype(np.float32),
            "mask": resize_nearest(r.mask, (gh, gw)).reshape(-1).astype(np.int32),
            "pos_ids": np.arange(gh * gw, dtype=np.int32),
            "image_info": r.info, "normalized": norm, "resized": r.image, "pixel_mask": r.mask}


def image_target(image_uint8: np.ndarray) -> dict[str, np.ndarray]:
    """A 256x256 target in [-1, 1] and its 32x32 token mask."""
    r = resize_and_pad(image_uint8, IMAGE_TARGET_SIZE)
    g = (IMAGE_TARGET_SIZE[0] // IMAGE_TARGET_D, IMAGE_TARGET_SIZE[1] // IMAGE_TARGET_D)
    return {"image": r.image * 2.0 - 1.0, "mask": resize_nearest(r.mask, g).reshape(-1).astype(np.int32),
            "image_info": r.info, "resized": r.image, "pixel_mask": r.mask}


def box_to_input_space(box_xyxy: np.ndarray, info: np.ndarray, size: int = IMAGE_INPUT_SIZE[0]) -> np.ndarray:
    """Original-pixel x1,y1,x2,y2 -> y1,x1,y2,x2 in the padded 384px frame (float32, clipped)."""
    f32 = np.float32
    b = np.asarray(box_xyxy, np.float32)[..., [1, 0, 3, 2]]
    scale = f32(1.0) / info[2]
    b = b * scale + np.array([info[0], info[1], info[0], info[1]], np.float32)
    return np.clip(b, f32(0), f32(size)).astype(np.float32)


def box_tokens(box_xyxy: np.ndarray, info: np.ndarray) -> str:
    """``<extra_id_..>`` x4 text that replaces ``{box}`` in a prompt."""
    v = box_to_input_space(box_xyxy, info) / np.float32(IMAGE_INPUT_SIZE[0])
    q = (v * np.float32(NUM_BINS - 1)).astype(np.int32)
    return " ".join(f"<extra_id_{VOCAB_START + int(x)}>" for x in q.reshape(-1))
