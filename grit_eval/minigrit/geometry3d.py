"""Ray-cast rooms (floor, back wall, optional left wall, one cuboid) -> image, depth, normals.

Camera: pinhole at the origin, pitched down; world and camera frames are both OpenCV-style
(x right, y down, z forward), so the floor is the plane ``y = camera_height``. Normals are
returned in the camera frame, facing the camera (z < 0), which is GRIT's GT convention
(GRIT_SPEC 2.8: R = +x right, G = +y down, B = +z into the scene).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grit_eval.minigrit import vocabulary as voc

FLOOR_ID, WALL_ID, LEFT_WALL_ID, BLOCK_ID = 0, 1, 2, 3
_BASE_RGB = np.array([(150, 118, 90), (212, 204, 186), (188, 190, 204), (0, 0, 0)], np.float64)
_INVALID_BORDER = 2  # pixels; GT normal maps mark them invalid, like NYUv2's missing border


@dataclass(frozen=True)
class Room:
    """A rendered room.

    Attributes:
        image: [H, W, 3] uint8 RGB input image.
        depth: [H, W] float64 camera-frame z in metres (> 0).
        normals: [H, W, 3] float64 unit normals, camera frame.
        valid: [H, W] bool, pixels with ground truth (False on the border).
        surface: [H, W] uint8 id of the surface seen (FLOOR_ID, WALL_ID, ...).
    """

    image: np.ndarray
    depth: np.ndarray
    normals: np.ndarray
    valid: np.ndarray
    surface: np.ndarray


def _pitch(theta: float) -> np.ndarray:
    """Camera-to-world rotation of a camera pitched down by ``theta`` radians."""
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])


def _yaw(phi: float) -> np.ndarray:
    c, s = np.cos(phi), np.sin(phi)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _safe(d: np.ndarray) -> np.ndarray:
    """Direction components with exact zeros nudged, so slab divisions stay finite."""
    return np.where(np.abs(d) < 1e-12, 1e-12, d)


def _hit_cuboid(rays: np.ndarray, centre: np.ndarray, half: np.ndarray, yaw: np.ndarray):
    """Ray/cuboid slab test. rays: [N, 3] world directions from the origin.

    Returns:
        t: [N] distance along each ray (inf where missed); normal: [N, 3] world normals.
    """
    o = yaw.T @ (-centre)                      # camera origin in the cuboid's frame
    d = _safe(rays @ yaw)                      # directions in the cuboid's frame
    t1 = (-half - o) / d
    t2 = (half - o) / d
    t_near_axes = np.minimum(t1, t2)
    t_near = t_near_axes.max(axis=1)
    t_far = np.maximum(t1, t2).min(axis=1)
    hit = (t_near <= t_far) & (t_near > 0)
    axis = t_near_axes.argmax(axis=1)
    n_local = np.zeros_like(d)
    rows = np.arange(len(d))
    n_local[rows, axis] = -np.sign(d[rows, axis])  # the face the ray enters faces the camera
    return np.where(hit, t_near, np.inf), n_local @ yaw.T


def render_room(rng: np.random.Generator, shape: tuple[int, int], wide: bool) -> Room:
    """Renders one room with random camera and cuboid.

    Args:
        rng: the sample's generator.
        shape: (H, W) pixels.
        wide: the "new source" camera: wider field of view and a left wall.
    """
    h, w = shape
    focal = (0.55 if wide else 0.9) * max(h, w)
    theta = np.radians(rng.uniform(8.0, 22.0))
    cam_height = rng.uniform(1.2, 1.6)
    wall_z = rng.uniform(4.5, 6.0)
    left_x = -rng.uniform(1.8, 2.4)
    rot = _pitch(theta)
    ys, xs = np.mgrid[0:h, 0:w]
    d_cam = np.stack([(xs + 0.5 - w / 2) / focal, (ys + 0.5 - h / 2) / focal, np.ones((h, w))], -1)
    rays = d_cam.reshape(-1, 3) @ rot.T        # world directions, z component = depth scale
    n = rays.shape[0]
    t_all = np.full((4, n), np.inf)
    normals_w = np.zeros((4, n, 3))
    dy, dz, dx = _safe(rays[:, 1]), _safe(rays[:, 2]), _safe(rays[:, 0])
    t_all[FLOOR_ID] = np.where(rays[:, 1] > 0, cam_height / dy, np.inf)
    normals_w[FLOOR_ID] = (0.0, -1.0, 0.0)
    t_all[WALL_ID] = np.where(rays[:, 2] > 0, wall_z / dz, np.inf)
    normals_w[WALL_ID] = (0.0, 0.0, -1.0)
    if wide:
        t_all[LEFT_WALL_ID] = np.where(rays[:, 0] < 0, left_x / dx, np.inf)
        normals_w[LEFT_WALL_ID] = (1.0, 0.0, 0.0)
    half = np.array([rng.uniform(0.25, 0.55), rng.uniform(0.2, 0.5), rng.uniform(0.25, 0.55)])
    depth_c = rng.uniform(2.2, wall_z - 1.2)
    centre = np.array([rng.uniform(-0.4, 0.4), cam_height - half[1], depth_c])
    t_all[BLOCK_ID], normals_w[BLOCK_ID] = _hit_cuboid(rays, centre, half, _yaw(rng.uniform(-0.7, 0.7)))
    surface = t_all.argmin(axis=0)
    t = t_all[surface, np.arange(n)]
    if not np.all(np.isfinite(t)):
        raise AssertionError("a camera ray left the room")  # walls cover every direction
    n_world = normals_w[surface, np.arange(n)]
    n_cam = n_world @ rot                      # world -> camera: R^T n
    # Lambertian shading with a light above and behind the camera, plus distance falloff.
    to_light = np.array([0.3, -0.8, -0.5]) / np.linalg.norm([0.3, -0.8, -0.5])
    shade = 0.35 + 0.65 * np.clip(n_world @ to_light, 0.0, 1.0)
    shade *= np.clip(1.25 - 0.05 * t, 0.6, 1.0)
    base = _BASE_RGB.copy()
    base[BLOCK_ID] = voc.COLOURS[str(rng.choice(sorted(voc.COLOURS)))]
    image = np.clip(np.round(base[surface] * shade[:, None]), 0, 255).astype(np.uint8)
    valid = np.zeros((h, w), bool)
    b = _INVALID_BORDER
    valid[b:h - b, b:w - b] = True
    return Room(image.reshape(h, w, 3), (t * d_cam.reshape(-1, 3)[:, 2]).reshape(h, w),
                n_cam.reshape(h, w, 3), valid, surface.reshape(h, w).astype(np.uint8))


def encode_normals(normals: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """GT normal PNG pixels: the authors' ``normal2rgb``, ``uint8((n+1)/2*255)``; invalid = 0.

    Args:
        normals: [H, W, 3] unit normals, camera frame.
        valid: [H, W] bool.

    Returns:
        [H, W, 3] uint8 RGB; invalid pixels are exactly (0, 0, 0).
    """
    # astype truncates toward zero, as the authors' normal2rgb does.
    rgb = ((normals + 1.0) / 2.0 * 255.0).astype(np.uint8)
    rgb[~valid] = 0
    return rgb
