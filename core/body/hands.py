# SPDX-License-Identifier: GPL-3.0-or-later
"""Hand shapes: relaxed, open palm, pointing, counting on fingers, pinch and fist.

A shape is ``(15,3)`` axis-angle for one hand's joints in SMPL-X order (index1-3, middle1-3,
pinky1-3, ring1-3, thumb1-3), relative to the MANO mean hand (``flat_hand_mean=False``), so
zeros are the relaxed, slightly curled hand. Shapes are written for the LEFT hand; :func:`mirror`
gives the right hand. Curl is a rotation about the finger's flexion axis (``-z`` for a left
finger, which points along ``+x`` in the rest pose); the knuckle takes the most.
"""

from __future__ import annotations

import numpy as np

FINGERS = ("index", "middle", "pinky", "ring", "thumb")
"""Finger order within a hand, as in SMPL-X."""
MIRROR = np.array([1.0, -1.0, -1.0])
"""Axis-angle of a left joint -> its right twin (mirror in the x = 0 plane)."""

_AXIS = {f: np.array([0.0, 0.0, -1.0]) for f in FINGERS[:4]}
_AXIS["thumb"] = np.array([0.7, 0.0, -0.7]) / np.sqrt(0.98)
_SHARE = (1.0, 0.8, 0.6)
"""Share of a finger's curl at its three joints (knuckle first)."""
_SPREAD = {"index": 0.08, "middle": 0.0, "ring": -0.06, "pinky": -0.14, "thumb": 0.0}
"""Sideways fan (about +y, knuckle only) of an open hand, radians."""

EXTENDED, CURLED = -0.15, 1.15
"""Curl of a straightened finger and of a folded one (radians at the knuckle)."""
_COUNT_ORDER = ("index", "middle", "ring", "pinky", "thumb")


def curl_pose(curl: dict[str, float], spread: float = 0.0) -> np.ndarray:
    """(15,3) left-hand pose from a curl per finger (radians at the knuckle) and a fan 0..1."""
    pose = np.zeros((15, 3))
    for f_i, finger in enumerate(FINGERS):
        c = curl.get(finger, 0.0)
        for k, share in enumerate(_SHARE):
            pose[3 * f_i + k] = share * c * _AXIS[finger]
        pose[3 * f_i, 1] += spread * _SPREAD[finger]
    return pose


def shape(name: str, args: tuple[str, ...] = ()) -> np.ndarray:
    """(15,3) left-hand pose of a named shape.

    ``relaxed``, ``open`` (fingers straight and fanned, thumb out), ``point`` (index out),
    ``count`` (``args[0]`` fingers out: index, middle, ring, pinky, then thumb), ``pinch``
    (index and thumb close), ``fist``.
    """
    if name == "open":
        return curl_pose({f: EXTENDED for f in FINGERS} | {"thumb": -0.25}, spread=1.0)
    if name == "point":
        return curl_pose({"index": EXTENDED, "middle": CURLED, "ring": CURLED, "pinky": CURLED,
                          "thumb": 0.6})
    if name == "count":
        n = int(args[0]) if args and str(args[0]).isdigit() else 1
        out = set(_COUNT_ORDER[:max(1, min(n, 5))])
        curl = {f: (EXTENDED if f in out else CURLED) for f in FINGERS}
        if "thumb" not in out:
            curl["thumb"] = 0.7
        return curl_pose(curl, spread=0.6)
    if name == "pinch":
        return curl_pose({"index": 0.55, "middle": 0.35, "ring": 0.3, "pinky": 0.3,
                          "thumb": 0.45})
    if name == "fist":
        return curl_pose({f: CURLED for f in FINGERS} | {"thumb": 0.7})
    return np.zeros((15, 3))


def mirror(pose: np.ndarray) -> np.ndarray:
    """Right-hand twin of a left-hand pose (any leading dims, last dim 3)."""
    return np.asarray(pose) * MIRROR


def finger_life(noise: np.ndarray) -> np.ndarray:
    """(T,15,3) slow living motion of a relaxed left hand from (T,5) noise in [-1, 1].

    Each finger curls a little on its own (about 0.09 rad at the knuckle) around a slightly
    curled mean; the thumb moves less.
    """
    out = np.zeros((noise.shape[0], 15, 3))
    for f_i, finger in enumerate(FINGERS):
        c = 0.03 + (0.05 if finger == "thumb" else 0.09) * noise[:, f_i]
        for k, share in enumerate(_SHARE):
            out[:, 3 * f_i + k] = (share * c)[:, None] * _AXIS[finger]
    return out
