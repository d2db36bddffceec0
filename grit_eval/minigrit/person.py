"""Stick-figure "person" with the 17 COCO keypoints, drawn into a label image.

The figure faces the camera, so the person's left (COCO ``left_*``) is on the image right.
Every keypoint is a joint that is drawn (a filled disc), so it lies on the person's mask and
inside its tight box; the pose is random but never collinear (head, shoulders, hips and feet
span two dimensions), so the official OKS area (box around the labeled points) is > 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import ImageDraw

# COCO keypoint order (GRIT_SPEC 1.2): nose, eyes, ears, shoulders, elbows, wrists, hips,
# knees, ankles; left before right.
KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
# Limbs drawn as thick lines, as keypoint index pairs.
_LIMBS: tuple[tuple[int, int], ...] = (
    (5, 6), (5, 7), (7, 9), (6, 8), (8, 10), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
)
_HEAD_RADIUS = 0.08  # in figure heights


@dataclass(frozen=True)
class PersonLayout:
    """A posed figure in pixels, relative to the top-left corner of its allotted box.

    Attributes:
        points: [17, 2] int, keypoint x, y in pixels (relative).
        head: (x, y, radius) of the head disc, pixels (relative).
        line_width: limb thickness in pixels.
        size: (width, height) in pixels of the box the figure needs.
    """

    points: np.ndarray
    head: tuple[int, int, int]
    line_width: int
    size: tuple[int, int]


def _unit_pose(rng: np.random.Generator) -> np.ndarray:
    """[17, 2] keypoints of a figure 1 unit tall, x relative to the body axis, y down."""
    p = np.zeros((17, 2))
    p[0] = (0.0, 0.115)
    p[1], p[2] = (0.03, 0.085), (-0.03, 0.085)
    p[3], p[4] = (0.065, 0.10), (-0.065, 0.10)
    p[5], p[6] = (0.11, 0.25), (-0.11, 0.25)
    p[11], p[12] = (0.07, 0.55), (-0.07, 0.55)
    for side, sign in ((0, 1.0), (1, -1.0)):  # 0 = person's left (image right)
        a = np.radians(rng.uniform(10, 100))  # upper-arm angle from straight down
        b = np.clip(a + np.radians(rng.uniform(-30, 60)), 0.0, np.radians(170))
        c = np.radians(rng.uniform(2, 25))
        d = np.radians(rng.uniform(0, 20))
        shoulder, hip = p[5 + side], p[11 + side]
        elbow = shoulder + 0.17 * np.array([sign * np.sin(a), np.cos(a)])
        knee = hip + 0.22 * np.array([sign * np.sin(c), np.cos(c)])
        p[7 + side] = elbow
        p[9 + side] = elbow + 0.15 * np.array([sign * np.sin(b), np.cos(b)])
        p[13 + side] = knee
        p[15 + side] = knee + 0.22 * np.array([sign * np.sin(d), np.cos(d)])
    return p


def layout_person(rng: np.random.Generator, height_px: int) -> PersonLayout:
    """Poses a figure about ``height_px`` pixels tall and computes the box it needs."""
    unit = _unit_pose(rng)
    line_width = max(2, int(round(0.045 * height_px)))
    radius = max(3, int(round(_HEAD_RADIUS * height_px)))
    pts = unit * height_px
    head = np.array([0.0, 0.10 * height_px])
    pad = line_width  # discs at joints reach line_width/2 past the point
    lo = np.minimum(pts.min(axis=0), head - radius) - pad
    points = np.round(pts - lo).astype(np.int64)
    hx, hy = np.round(head - lo).astype(np.int64)
    hi = np.maximum(points.max(axis=0), (hx + radius, hy + radius)) + pad + 1
    return PersonLayout(points, (int(hx), int(hy), radius), line_width, (int(hi[0]), int(hi[1])))


def draw_person(draw: ImageDraw.ImageDraw, label: int, layout: PersonLayout,
                origin: tuple[int, int]) -> np.ndarray:
    """Draws the figure with value ``label`` at ``origin`` (x, y) and returns its keypoints.

    Returns:
        [17, 2] int, absolute keypoint x, y in pixels.
    """
    pts = layout.points + np.asarray(origin)
    hx, hy, r = layout.head
    hx, hy = hx + origin[0], hy + origin[1]
    draw.ellipse([hx - r, hy - r, hx + r, hy + r], fill=label)
    mid_shoulder = tuple(((pts[5] + pts[6]) // 2).tolist())
    mid_hip = tuple(((pts[11] + pts[12]) // 2).tolist())
    w = layout.line_width
    draw.line([(hx, hy + r), mid_shoulder, mid_hip], fill=label, width=w)
    for a, b in _LIMBS:
        draw.line([tuple(pts[a].tolist()), tuple(pts[b].tolist())], fill=label, width=w)
    half = max(1, w // 2)
    for x, y in pts.tolist():
        draw.ellipse([x - half, y - half, x + half, y + half], fill=label)
    return pts
