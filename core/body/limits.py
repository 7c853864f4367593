# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-joint limits of the SMPL-X skeleton, a clamp, and a violation count.

Each joint has a box on its local axis-angle components (radians, SMPL-X frame: +x left, +y
up, +z forward) and a largest total angle. Boxes are written for the midline and the LEFT side;
the right side is the mirror image (y and z negated, bounds swapped). The root (pelvis global
orientation) is free. Ranges are generous human ranges of motion (e.g. elbow flexion 0..150
deg, knee 0..145 deg, no hyperextension), meant to catch broken motion, not to model a person.
"""

from __future__ import annotations

import numpy as np

from ..names import NUM_JOINTS, SMPLX_JOINTS

_B = 3.2  # "no box" on an axis
_LEFT_OR_MID: dict[str, tuple[tuple[float, float, float], tuple[float, float, float], float]] = {
    # name: (low xyz, high xyz, largest angle)
    "spine1": ((-0.5, -0.6, -0.5), (0.7, 0.6, 0.5), 0.9),
    "spine2": ((-0.5, -0.6, -0.5), (0.7, 0.6, 0.5), 0.9),
    "spine3": ((-0.5, -0.6, -0.5), (0.7, 0.6, 0.5), 0.9),
    "neck": ((-0.7, -0.9, -0.6), (0.8, 0.9, 0.6), 1.0),
    "head": ((-0.7, -0.9, -0.6), (0.7, 0.9, 0.6), 1.0),
    "jaw": ((-0.15, -0.3, -0.3), (0.7, 0.3, 0.3), 0.7),
    "eye_smplhf": ((-0.7, -0.8, -0.3), (0.7, 0.8, 0.3), 0.9),
    "hip": ((-2.2, -1.0, -0.7), (0.6, 1.0, 1.2), 2.3),
    "knee": ((-0.15, -0.5, -0.5), (2.6, 0.5, 0.5), 2.6),
    "ankle": ((-0.9, -0.7, -0.6), (0.9, 0.7, 0.6), 1.0),
    "foot": ((-0.8, -0.5, -0.5), (0.8, 0.5, 0.5), 0.9),
    "collar": ((-0.6, -0.7, -0.6), (0.6, 0.7, 0.7), 0.8),
    "shoulder": ((-_B, -_B, -_B), (_B, _B, _B), 3.0),
    "elbow": ((-1.0, -2.7, -1.0), (1.0, 0.15, 1.0), 2.8),
    "wrist": ((-2.2, -0.9, -1.4), (2.2, 0.9, 1.4), 2.3),
    "index": ((-0.6, -0.6, -1.9), (0.6, 0.6, 0.6), 1.9),
    "middle": ((-0.6, -0.6, -1.9), (0.6, 0.6, 0.6), 1.9),
    "ring": ((-0.6, -0.6, -1.9), (0.6, 0.6, 0.6), 1.9),
    "pinky": ((-0.6, -0.6, -1.9), (0.6, 0.6, 0.6), 1.9),
    "thumb": ((-1.5, -1.5, -1.5), (1.5, 1.5, 1.5), 1.7),
}


def _build() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo = np.full((NUM_JOINTS, 3), -np.pi - 0.1)
    hi = np.full((NUM_JOINTS, 3), np.pi + 0.1)
    top = np.full(NUM_JOINTS, np.pi + 0.1)
    for i, name in enumerate(SMPLX_JOINTS):
        if i == 0:
            continue
        side = name.split("_", 1)[0] if name.startswith(("left_", "right_")) else ""
        base = name.split("_", 1)[1] if side else name
        base = base.rstrip("123") if base.rstrip("123") in _LEFT_OR_MID else base
        low, high, angle = _LEFT_OR_MID[base]
        low, high = np.array(low), np.array(high)
        if side == "right":
            low, high = low * [1, -1, -1], high * [1, -1, -1]
            low, high = np.minimum(low, high), np.maximum(low, high)
        lo[i], hi[i], top[i] = low, high, angle
    return lo, hi, top


LOWER, UPPER, MAX_ANGLE = _build()
"""(55,3) lower and upper bounds on local axis-angle components; (55,) largest angle."""
for _a in (LOWER, UPPER, MAX_ANGLE):
    _a.setflags(write=False)


def violations(poses: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """(T,55) True where a joint of ``poses`` (T,55,3) passes its limit by more than ``tol``."""
    p = np.asarray(poses, dtype=np.float64)
    box = np.any((p < LOWER - tol) | (p > UPPER + tol), axis=-1)
    return box | (np.linalg.norm(p, axis=-1) > MAX_ANGLE + tol)


def clamp(poses: np.ndarray) -> np.ndarray:
    """``poses`` (T,55,3) with every joint moved to the nearest value within its limits."""
    p = np.clip(np.asarray(poses, dtype=np.float64), LOWER, UPPER)
    n = np.linalg.norm(p, axis=-1, keepdims=True)
    return np.where(n > MAX_ANGLE[:, None], p * (MAX_ANGLE[:, None] / np.maximum(n, 1e-12)), p)


def describe(poses: np.ndarray) -> dict[str, int]:
    """Number of violating frames per joint name (only joints that violate)."""
    v = violations(poses).sum(axis=0)
    return {SMPLX_JOINTS[i]: int(v[i]) for i in np.flatnonzero(v)}

