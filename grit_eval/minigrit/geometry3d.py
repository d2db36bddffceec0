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
    """Direction components with exact zeros nudged, so divisions stay finite."""
    return np.where(np.abs(d) < 1e-12, 1e-12, d)


def _hit_cuboid(d: tuple[np.ndarray, ...], centre: np.ndarray, half: np.ndarray,
                yaw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ray/cuboid slab test for rays from the origin, one component array per axis.

    Args:
        d: (dx, dy, dz) world ray directions, arrays broadcasting to [H, W].
        centre: [3] cuboid centre (world); half: [3] half extents; yaw: [3, 3] its rotation.

    Returns:
        t: [H, W] distance along each ray (inf where missed); normal: [H, W, 3] world normals
        of the face each ray enters (meaningless where missed).
    """
    o = yaw.T @ (-centre)                          # camera origin in the cuboid's frame
    t_near = t_far = None
    axis = sign = None
    for k in range(3):
        # Component k of the direction in the cuboid's frame: (yaw^T d)_k.
        dk = _safe(yaw[0, k] * d[0] + yaw[1, k] * d[1] + yaw[2, k] * d[2])
        t1, t2 = (-half[k] - o[k]) / dk, (half[k] - o[k]) / dk
        near, far = np.minimum(t1, t2), np.maximum(t1, t2)
        if t_near is None:
            t_near, t_far = near, far
            axis, sign = np.zeros(near.shape, np.intp), -np.sign(dk)
        else:
            better = near > t_near
            axis = np.where(better, k, axis)
            sign = np.where(better, -np.sign(dk), sign)  # entered face faces the camera
            t_near, t_far = np.maximum(t_near, near), np.minimum(t_far, far)
    hit = (t_near <= t_far) & (t_near > 0)
    normal = yaw.T[axis] * sign[..., None]         # world normal = yaw @ (sign * e_axis)
    return np.where(hit, t_near, np.inf), normal


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
    # Camera rays (x, y, 1) per pixel centre; the pitch mixes only y and z, so the world
    # y and z components depend on the row alone and x on the column alone.
    cx = ((np.arange(w) + 0.5 - w / 2) / focal)[None, :]
    cy = ((np.arange(h) + 0.5 - h / 2) / focal)[:, None]
    dx, dy, dz = cx, rot[1, 1] * cy + rot[1, 2], rot[2, 1] * cy + rot[2, 2]
    t_all = np.full((4, h, w), np.inf)
    t_all[FLOOR_ID] = np.where(dy > 0, cam_height / _safe(dy), np.inf)
    t_all[WALL_ID] = np.where(dz > 0, wall_z / _safe(dz), np.inf)
    if wide:
        t_all[LEFT_WALL_ID] = np.where(dx < 0, left_x / _safe(dx), np.inf)
    half = np.array([rng.uniform(0.25, 0.55), rng.uniform(0.2, 0.5), rng.uniform(0.25, 0.55)])
    depth_c = rng.uniform(2.2, wall_z - 1.2)
    centre = np.array([rng.uniform(-0.4, 0.4), cam_height - half[1], depth_c])
    t_all[BLOCK_ID], block_normal = _hit_cuboid((dx, dy, dz), centre, half, _yaw(rng.uniform(-0.7, 0.7)))
    surface = t_all.argmin(axis=0)
    t = np.take_along_axis(t_all, surface[None], axis=0)[0]
    if not np.all(np.isfinite(t)):
        raise AssertionError("a camera ray left the room")  # walls cover every direction
    plane_normals = np.array([(0.0, -1.0, 0.0), (0.0, 0.0, -1.0), (1.0, 0.0, 0.0), (0.0, 0.0, 0.0)])
    n_world = np.where((surface == BLOCK_ID)[..., None], block_normal, plane_normals[surface])
    n_cam = n_world @ rot                      # world -> camera: R^T n
    # Lambertian shading with a light above and behind the camera, plus distance falloff.
    to_light = np.array([0.3, -0.8, -0.5]) / np.linalg.norm([0.3, -0.8, -0.5])
    shade = 0.35 + 0.65 * np.clip(n_world @ to_light, 0.0, 1.0)
    shade *= np.clip(1.25 - 0.05 * t, 0.6, 1.0)
    base = _BASE_RGB.copy()
    base[BLOCK_ID] = voc.COLOURS[str(rng.choice(sorted(voc.COLOURS)))]
    image = np.clip(np.round(base[surface] * shade[..., None]), 0, 255).astype(np.uint8)
    valid = np.zeros((h, w), bool)
    b = _INVALID_BORDER
    valid[b:h - b, b:w - b] = True
    # The camera ray's z component is 1, so the distance parameter t is the depth.
    return Room(image, t, n_cam, valid, surface.astype(np.uint8))


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
