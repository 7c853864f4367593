# SPDX-License-Identifier: GPL-3.0-or-later
"""Capsules per bone and hand-vs-body/head collision resolution.

The body is approximated by capsules (a segment between two points and a radius, metres) on
the posed skeleton: lower torso (pelvis -> spine3), chest (spine3 -> neck) and head; each arm
by a forearm (elbow -> wrist) and a hand (wrist -> middle knuckle + 5 cm). :func:`penetration`
measures how deep the arms go into the body per frame; :func:`resolve` turns the upper arm
outward and forward, smoothly in time, until nothing goes in.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

from ..names import JOINT_INDEX
from ..rotations import compose_axis_angle
from .skeleton import forward_kinematics

J = JOINT_INDEX
BODY_RADIUS = {"torso": 0.11, "chest": 0.105, "head": 0.095}
HAND_RADIUS, FOREARM_RADIUS = 0.03, 0.035
_NEEDED = [J[n] for n in ("head", "left_middle1", "right_middle1")]
"""Joints whose chains the capsules need (the rest of the skeleton is skipped)."""
TOLERANCE = 0.001
"""Penetration (m) that counts as touching, not passing through."""


def segment_distance(p0, p1, q0, q1) -> np.ndarray:
    """(...,) shortest distance between segments ``p0-p1`` and ``q0-q1`` (each (...,3))."""
    d1, d2, r = p1 - p0, q1 - q0, p0 - q0
    a = np.sum(d1 * d1, -1)
    e = np.sum(d2 * d2, -1)
    f = np.sum(d2 * r, -1)
    c = np.sum(d1 * r, -1)
    b = np.sum(d1 * d2, -1)
    denom = a * e - b * b
    s = np.where(denom > 1e-12, np.clip((b * f - c * e) / np.where(denom > 1e-12, denom, 1.0),
                                        0.0, 1.0), 0.0)
    t = (b * s + f) / np.maximum(e, 1e-12)
    t_c = np.clip(t, 0.0, 1.0)
    s = np.where(t < 0.0, np.clip(-c / np.maximum(a, 1e-12), 0.0, 1.0),
                 np.where(t > 1.0, np.clip((b - c) / np.maximum(a, 1e-12), 0.0, 1.0), s))
    diff = (p0 + d1 * s[..., None]) - (q0 + d2 * t_c[..., None])
    return np.linalg.norm(diff, axis=-1)


def body_capsules(pos: np.ndarray, rot: np.ndarray) -> dict[str, tuple]:
    """Body capsules ``name -> (a (T,3), b (T,3), radius)`` from FK positions/rotations."""
    head, r_head = pos[:, J["head"]], rot[:, J["head"]]
    return {
        "torso": (pos[:, J["pelvis"]], pos[:, J["spine3"]], BODY_RADIUS["torso"]),
        "chest": (pos[:, J["spine3"]], pos[:, J["neck"]], BODY_RADIUS["chest"]),
        "head": (head + r_head @ np.array([0.0, 0.04, 0.035]),
                 head + r_head @ np.array([0.0, 0.13, 0.02]), BODY_RADIUS["head"]),
    }


def arm_capsules(pos: np.ndarray, rot: np.ndarray, side: str) -> dict[str, tuple]:
    """Forearm and hand capsules of one side."""
    wrist = pos[:, J[f"{side}_wrist"]]
    knuckle = pos[:, J[f"{side}_middle1"]]
    d = knuckle - wrist
    tip = knuckle + 0.05 * d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-9)
    return {"forearm": (pos[:, J[f"{side}_elbow"]], wrist, FOREARM_RADIUS),
            "hand": (wrist, tip, HAND_RADIUS)}


def _depths(pos: np.ndarray, rot: np.ndarray) -> dict[str, np.ndarray]:
    body = body_capsules(pos, rot)
    out = {}
    for side in ("left", "right"):
        depth = np.full(len(pos), -np.inf)
        for name, (a, b, r) in arm_capsules(pos, rot, side).items():
            for body_name, (c, d, rb) in body.items():
                if name == "forearm" and body_name == "head":
                    continue
                depth = np.maximum(depth, r + rb - segment_distance(a, b, c, d))
        out[side] = depth
    return out


def penetration(poses: np.ndarray, trans: np.ndarray) -> dict[str, np.ndarray]:
    """Per side, (T,) deepest penetration (m, > 0 means inside) of its arm into the body."""
    pos, rot = forward_kinematics(poses, trans, joints=_NEEDED)
    return _depths(pos, rot)


def resolve(poses: np.ndarray, trans: np.ndarray, fps: float, iterations: int = 10) -> np.ndarray:
    """``poses`` with each upper arm turned out of the body wherever an arm goes in.

    Where an arm is inside, the upper arm turns about the axis that carries the elbow straight
    away from the spine (horizontally, out and forward); the angle grows with the depth and is
    spread over neighbouring frames, so the arm glides around the body rather than popping.
    """
    p = np.array(poses, dtype=np.float64)
    width = max(1, int(round(0.15 * fps)))
    for _ in range(iterations):
        pos, rot = forward_kinematics(p, trans, joints=_NEEDED)
        pen = _depths(pos, rot)
        if all(np.max(v, initial=-1.0) <= TOLERANCE for v in pen.values()):
            break
        for side in ("left", "right"):
            need = np.clip(pen[side] + 0.004, 0.0, None) * 5.0  # ~radians per metre
            if not np.any(need > 0):
                continue
            step = gaussian_filter1d(maximum_filter1d(need, 2 * width + 1), width / 2.0)
            sh, el = J[f"{side}_shoulder"], J[f"{side}_elbow"]
            upper = pos[:, el] - pos[:, sh]
            away = pos[:, J[f"{side}_wrist"]] - pos[:, J["spine3"]]
            away[:, 1] = 0.0
            away += np.array([0.3 if side == "left" else -0.3, 0.0, 0.2]) * 0.05
            axis = np.cross(upper, away)
            axis /= np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-9)
            parent = np.swapaxes(rot[:, J[f"{side}_collar"]], -1, -2)
            local_axis = np.einsum("tij,tj->ti", parent, axis)
            p[:, sh] = compose_axis_angle(step[:, None] * local_axis, p[:, sh])
    return p
