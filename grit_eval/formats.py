"""Submission file encodings shared by the adapters and the submission writer/reader: PNG
(normals, 16-bit depth), COCO RLE masks and the artifact file names. A leaf module: it imports
nothing of the project, so adapters may import it (tests/test_layering.py)."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of an image, reading only its header."""
    with Image.open(path) as image:
        return image.size


def png_bytes(rgb: np.ndarray) -> bytes:
    """Encode a uint8 [H, W, 3] array as PNG; fixed settings so the bytes are reproducible."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), mode="RGB").save(
        buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def normal_file_name(example_id: str) -> str:
    """The PNG name a normal prediction is stored and submitted under."""
    return f"{example_id}.png"


def mask_rle(mask: np.ndarray) -> dict:
    """A bool/0-1 mask [H, W] as the submission's compressed RLE ``{"size": [H, W], "counts": str}``."""
    encoded = mask_utils.encode(np.asfortranarray(np.asarray(mask, dtype=np.uint8)))
    return {"size": [int(v) for v in encoded["size"]], "counts": encoded["counts"].decode("ascii")}


def depth_png_bytes(depth_m: np.ndarray) -> bytes:
    """Encode [H, W] depth in metres as a 16-bit grayscale PNG in millimetres.

    Rounded to the nearest millimetre and clipped to 0..65535 (65.5 m); 0 means "no
    depth", as in the NYUv2 ground truth.
    """
    mm = np.clip(np.rint(np.asarray(depth_m, np.float64) * 1000.0), 0, 65535).astype(np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(mm)).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def depth_file_name(example_id: str) -> str:
    """The PNG name a depth prediction is stored under (beside the normal maps)."""
    return f"{example_id}.depth.png"
