"""The port's task-recipe arithmetic (``uio2/runner.py``, ``uio2/utils.py``) in numpy: option
tensors, the keypoint forcing schedule, and reading boxes, keypoints and images back into the
original image's pixels.
"""
from __future__ import annotations

import re

import numpy as np

from model_adapters.unified_io_2.decoding import FORCE_LOCATION
from model_adapters.unified_io_2.preprocess import IMAGE_INPUT_SIZE, resize_nearest
from model_adapters.unified_io_2.tokenizer import EOS_ID, LOC_END, LOC_START, extra_id_value, location_value

KEYPOINT_PARTS = (
    "nose", "left eye", "right eye", "left ear", "right ear", "left shoulder", "right shoulder",
    "left elbow", "right elbow", "left wrist", "right wrist", "left hip", "right hip",
    "left knee", "right knee", "left ankle", "right ankle")
_PART_RE = re.compile(r"<extra_id_([0-9]+)> <extra_id_([0-9]+)> ([a-z ]+)")
_BOX_RE = re.compile(r"<extra_id_([0-9]+)> <extra_id_([0-9]+)> <extra_id_([0-9]+)> <extra_id_([0-9]+)> ([a-z ]+)")


def option_tokens(tok, options: list[str]) -> np.ndarray:
    """The runner's option tensor: ``encode(x) + [EOS]``, padded with 0 after one more EOS (so
    every option ends with two EOS tokens, both scored)."""
    rows = [tok.encode(x) + [EOS_ID] for x in options]
    out = np.zeros((len(rows), max(len(r) for r in rows) + 1), np.int32)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
        out[i, len(r)] = EOS_ID
    return out


def keypoint_schedule(tok) -> tuple[int, ...]:
    """Per generated step: two location tokens, then the part name's ids; EOS at the end."""
    sched: list[int] = []
    for part in KEYPOINT_PARTS:
        sched += [FORCE_LOCATION, FORCE_LOCATION] + tok.encode(part)
    return tuple(sched + [EOS_ID])


def extract_locations(tokens, n: int = 4) -> np.ndarray:
    """Runs of n location ids -> [k, n] values in [0, 1]; shorter runs are skipped."""
    boxes, box = [], []
    for t in np.asarray(tokens).reshape(-1).tolist():
        if LOC_START <= t < LOC_END:
            box.append(t)
            if len(box) == n:
                boxes.append(location_value(np.array(box)))
                box = []
        else:
            box = []
    return np.array(boxes)


def extract_labelled_boxes(text: str) -> tuple[np.ndarray, list[str]]:
    found = _BOX_RE.findall(text)
    boxes = np.array([[int(a) for a in f[:4]] for f in found])
    return (extra_id_value(boxes) if found else np.zeros((0, 4))), [f[4] for f in found]


def undo_box_preprocessing(boxes: np.ndarray, info: np.ndarray) -> np.ndarray:
    """yxyx in the padded 384px frame -> yxyx in original pixels, clipped to the image."""
    boxes = np.asarray(boxes)
    pads = np.array([info[0], info[1], info[0], info[1]], dtype=boxes.dtype)
    if int(info[7]) != 0 or int(info[8]) != 0:
        raise ValueError("image offsets are only supported at 0 (eval preprocessing)")
    out = (boxes - pads) * info[2]
    return np.minimum(np.maximum(out, 0), [info[3], info[4], info[3], info[4]])


def extract_keypoints(text: str, info) -> tuple[np.ndarray | None, bool]:
    """[17, 3] (x, y, visibility 2) in original pixels, unseen parts at the mean of the seen."""
    invalid, points, labels = False, [], []
    for a, b, part in _PART_RE.findall(text):
        ids = (int(a), int(b))
        if all(200 <= x < 1200 for x in ids):
            labels.append(part)
            points.append(ids)
    pts = extra_id_value(np.array(points)) * IMAGE_INPUT_SIZE[0]
    index = {k: i for i, k in enumerate(KEYPOINT_PARTS)}
    out_pts, out_lab = np.zeros((17, 2)), np.zeros(17)
    for point, label in zip(pts, labels):
        ix = index.get(label.strip().lower())
        if ix is None or out_lab[ix] != 0:
            invalid = True
        else:
            out_pts[ix], out_lab[ix] = point, 2
    if out_lab.sum() == 0:
        return None, invalid
    if info is not None:
        out_pts = undo_box_preprocessing(np.tile(out_pts, [1, 2]), info)[:, :2]
    out_pts = out_pts[:, ::-1]
    out_pts[out_lab == 0] = np.mean(out_pts[out_lab != 0], 0, keepdims=True)
    return np.concatenate([out_pts, out_lab[:, None]], -1), invalid


def nms_keep_order(boxes_yxyx: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS with earlier boxes ranked higher (the port's scores = arange[::-1]); a box is
    dropped when its IoU with a kept box exceeds the threshold. Returns kept indices."""
    b = np.asarray(boxes_yxyx, np.float64)
    y1, y2 = np.minimum(b[:, 0], b[:, 2]), np.maximum(b[:, 0], b[:, 2])
    x1, x2 = np.minimum(b[:, 1], b[:, 3]), np.maximum(b[:, 1], b[:, 3])
    area = (y2 - y1) * (x2 - x1)
    keep: list[int] = []
    for i in range(len(b)):
        ok = True
        for j in keep:
            ih = max(0.0, min(y2[i], y2[j]) - max(y1[i], y1[j]))
            iw = max(0.0, min(x2[i], x2[j]) - max(x1[i], x1[j]))
            inter = ih * iw
            union = area[i] + area[j] - inter
            if union > 0 and inter / union > iou_threshold:
                ok = False
                break
        if ok:
            keep.append(i)
    return np.array(keep, np.int64)


def boxes_from_tokens(tokens, info, nms: float | None = 0.8) -> np.ndarray:
    """Localization: location quadruples x384, undo preprocessing, NMS, yxyx -> xyxy."""
    boxes = extract_locations(tokens)
    if len(boxes) == 0:
        return np.zeros((0, 4))
    boxes = undo_box_preprocessing(boxes * IMAGE_INPUT_SIZE[0], info)
    if nms is not None and len(boxes) > 1:
        boxes = boxes[nms_keep_order(boxes, nms)]
    return boxes[:, [1, 0, 3, 2]]


def refexp_box(tokens, info) -> np.ndarray | None:
    """The runner's refexp: exactly BOS + 4 location ids + EOS, else None (the port raises)."""
    t = np.asarray(tokens).reshape(-1)
    if len(t) != 6 or t[0] != 0 or t[-1] != EOS_ID or not all(LOC_START <= x < LOC_END for x in t[1:-1]):
        return None
    box = undo_box_preprocessing(location_value(t[1:-1]) * IMAGE_INPUT_SIZE[0], info)
    return box[[1, 0, 3, 2]]


def undo_image_preprocessing(image: np.ndarray, info, gray_scale: bool = False) -> np.ndarray:
    """Generated square image -> original size: nearest resize to max(h, w), centred crop."""
    if gray_scale:
        image = image.mean(-1, keepdims=True)
    h, w = int(info[3]), int(info[4])
    side = max(h, w)
    image = resize_nearest(image, (side, side))
    if h > w:
        d = (h - w) // 2
        return image[:, d:d + w]
    d = (w - h) // 2
    return image[d:d + h, :]
