# SPDX-License-Identifier: GPL-3.0-or-later
"""Arm poses of the gesture kinds, written as directions in the body frame and solved to joints.

A pose says where the LEFT upper arm and forearm point and which way the palm faces, in the
SMPL-X body frame (+x the subject's left, +y up, +z forward); :func:`arm_pose` turns that into
local axis-angles for collar, shoulder, elbow (a pure hinge) and wrist (forearm roll + flexion).
The right arm uses the mirror image. An :class:`ArmKey` is the whole arm + hand of one side,
``(19,3)``: collar, shoulder, elbow, wrist, then the 15 finger joints (see :mod:`.hands`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..rotations import axis_angle_to_matrix, compose_axis_angle, matrix_to_axis_angle
from . import hands

ARM_JOINTS = ("collar", "shoulder", "elbow", "wrist")
STANCE_COLLAR = np.array([0.0, 0.0, -0.15])
"""Left collar in the relaxed stance (shoulders a little down)."""
STANCE_ARM = np.array([
    STANCE_COLLAR,
    # lowered ~69 deg, a little forward, then turned in about the upper arm's own axis
    compose_axis_angle(compose_axis_angle([-0.12, 0.0, 0.0], [0.0, 0.0, -1.2]), [0.3, 0.0, 0.0]),
    [0.0, -0.35, 0.0],
    [0.0, 0.05, -0.1],
])
"""(4,3) left collar, shoulder, elbow and wrist of the relaxed stance: arms beside the thighs."""
REST_KEY = np.concatenate([STANCE_ARM, np.zeros((15, 3))])
"""(19,3) the left arm and relaxed hand at rest."""


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def arm_pose(upper, fore, palm, flex: float = 0.0) -> np.ndarray:
    """(4,3) left-arm local axis-angles pointing the upper arm along ``upper``, the forearm
    along ``fore`` and the palm toward ``palm`` (body-frame vectors, any length).

    ``flex`` bends the wrist toward the palm (radians). The collar keeps its stance.
    """
    u, f = _unit(upper), _unit(fore)
    w = f - np.dot(f, u) * u
    if np.linalg.norm(w) < 1e-6:  # straight arm: any perpendicular will do
        w = np.cross(u, [0.0, 1.0, 0.0]) if abs(u[1]) < 0.9 else np.array([0.0, 0.0, 1.0])
    w = _unit(w)
    r_shoulder = np.stack([u, np.cross(w, u), w], axis=1)  # rest +x -> u, rest +z -> w
    r_collar = axis_angle_to_matrix(STANCE_COLLAR)
    shoulder = matrix_to_axis_angle(r_collar.T @ r_shoulder)
    phi = float(np.arccos(np.clip(np.dot(u, f), -1.0, 1.0)))
    # palm normal before the wrist turns (rest -y, carried by shoulder and hinge): u x w
    n0 = np.cross(u, w)
    p = np.asarray(palm, dtype=np.float64)
    p = p - np.dot(p, f) * f
    psi = 0.0 if np.linalg.norm(p) < 1e-6 else float(
        np.arctan2(np.dot(np.cross(n0, _unit(p)), f), np.dot(n0, _unit(p))))
    wrist = compose_axis_angle([psi, 0.0, 0.0], [0.0, 0.0, -flex])
    return np.array([STANCE_COLLAR, shoulder, [0.0, -phi, 0.0], wrist])


def key(upper, fore, palm, hand: str = "relaxed", hand_args: tuple[str, ...] = (),
        flex: float = 0.0) -> np.ndarray:
    """(19,3) left arm + hand key."""
    return np.concatenate([arm_pose(upper, fore, palm, flex), hands.shape(hand, hand_args)])


def mirror(k: np.ndarray) -> np.ndarray:
    """The right-side twin of a left key (any leading dims)."""
    return np.asarray(k) * hands.MIRROR


def shape_space(upper, fore, height: float, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Raise the upper arm by ``height`` and open the arm outward by ``spread`` (radians-ish)."""
    u = _unit(upper) + np.array([spread, height, 0.5 * height])
    f = _unit(fore) + np.array([0.6 * spread, 0.5 * height, 0.0])
    return u, f


# Left-arm poses per kind: (top of the preparation, end of the stroke), each
# (upper, fore, palm, hand, flex). The hold keeps the stroke's end pose.
_IN, _UP, _DOWN, _FWD, _BODY = (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)
POSES: dict[str, tuple[tuple, tuple]] = {
    "beat": (((0.35, -0.62, 0.58), (-0.2, 0.55, 1.0), (-0.7, 0.6, 0.0), "relaxed", -0.2),
             ((0.3, -0.88, 0.3), (-0.15, -0.15, 1.0), (-0.6, 0.4, 0.0), "relaxed", 0.3)),
    "point forward": (((0.25, -0.5, 0.9), (0.1, -0.1, 1.0), (-0.9, -0.3, 0.0), "point", 0.0),
                      ((0.22, -0.22, 1.0), (0.12, -0.02, 1.0), (-0.9, -0.3, 0.0), "point", 0.0)),
    "point left": (((0.8, -0.5, 0.5), (0.8, -0.1, 0.6), (0.0, -1.0, 0.3), "point", 0.0),
                   ((1.0, -0.28, 0.45), (1.0, -0.05, 0.35), (0.0, -1.0, 0.3), "point", 0.0)),
    "point up": (((0.3, -0.3, 1.0), (0.0, 0.6, 0.8), (-1.0, 0.0, 0.0), "point", 0.0),
                 ((0.3, 0.35, 1.0), (0.1, 1.0, 0.35), (-1.0, 0.0, 0.0), "point", 0.0)),
    "point down": (((0.25, -0.7, 0.65), (-0.1, -0.2, 1.0), _DOWN, "point", 0.0),
                   ((0.2, -0.8, 0.55), (-0.1, -0.5, 1.0), _DOWN, "point", 0.0)),
    "self": (((0.3, -0.85, 0.4), (-0.6, 0.5, 0.6), _BODY, "open", 0.0),
             ((0.3, -0.85, 0.38), (-0.9, 0.55, 0.3), _BODY, "open", 0.0)),
    "you": (((0.3, -0.7, 0.6), (-0.1, 0.1, 1.0), (-0.5, 0.8, 0.0), "open", 0.0),
            ((0.25, -0.5, 0.85), (0.05, 0.0, 1.0), _UP, "open", 0.0)),
    "big": (((0.45, -0.7, 0.5), (0.1, 0.2, 1.0), (-0.3, 0.6, 0.6), "open", 0.0),
            ((0.7, -0.6, 0.45), (0.65, 0.1, 0.9), (0.0, 0.6, 0.8), "open", 0.0)),
    "small": (((0.3, -0.75, 0.55), (-0.4, 0.35, 1.0), _IN, "relaxed", 0.0),
              ((0.25, -0.8, 0.5), (-0.6, 0.3, 0.9), _IN, "pinch", 0.0)),
    "up": (((0.3, -0.85, 0.4), (-0.1, 0.0, 1.0), _UP, "open", 0.0),
           ((0.3, -0.6, 0.65), (-0.1, 0.5, 1.0), _UP, "open", 0.0)),
    "down": (((0.3, -0.65, 0.6), (-0.2, 0.3, 1.0), _DOWN, "open", 0.0),
             ((0.3, -0.9, 0.3), (-0.2, -0.25, 1.0), _DOWN, "open", 0.0)),
    "many": (((0.3, -0.8, 0.45), (-0.2, 0.2, 1.0), _UP, "open", 0.0),
             ((0.55, -0.75, 0.4), (0.5, 0.15, 0.9), _UP, "open", 0.0)),
    "together": (((0.6, -0.7, 0.4), (0.5, 0.1, 1.0), (-1.0, 0.2, 0.0), "open", 0.0),
                 ((0.22, -0.8, 0.5), (-0.75, 0.25, 0.8), _IN, "open", 0.0)),
    "no": (((0.2, -0.75, 0.6), (-0.5, 0.2, 1.0), _DOWN, "open", 0.0),
           ((0.55, -0.7, 0.45), (0.7, 0.1, 0.8), _DOWN, "open", 0.0)),
    "maybe": (((0.3, -0.9, 0.25), (0.1, 0.0, 1.0), (0.0, 1.0, 0.0), "open", 0.0),
              ((0.35, -0.9, 0.2), (0.35, 0.15, 1.0), (0.2, 1.0, 0.0), "open", 0.0)),
    "open": (((0.35, -0.8, 0.45), (0.0, 0.1, 1.0), (-0.2, 1.0, 0.0), "open", 0.0),
             ((0.45, -0.75, 0.45), (0.3, 0.1, 1.0), (0.2, 1.0, 0.2), "open", 0.0)),
    "wave": (((0.9, -0.3, 0.35), (0.3, 0.8, 0.4), _FWD, "open", 0.0),
             ((1.0, 0.15, 0.3), (0.1, 1.0, 0.2), _FWD, "open", 0.0)),
    "count": (((0.3, -0.75, 0.55), (-0.1, 0.4, 1.0), _FWD, "count", 0.0),
              ((0.3, -0.7, 0.6), (-0.1, 0.7, 0.8), _FWD, "count", 0.0)),
    "think": (((0.15, -0.55, 0.8), (-0.35, 0.6, 0.4), _BODY, "pinch", 0.0),
              ((0.1, -0.45, 0.9), (-0.45, 0.75, 0.1), _BODY, "pinch", 0.2)),
}
HOME = ((0.3, -0.92, 0.25), (-0.3, 0.05, 1.0), (-0.8, 0.55, 0.0), "relaxed", 0.1)
"""Where a hand waits between the gestures of one unit: in front of the belly, forearm level."""
POSES["home"] = (HOME, HOME)
POSES["shrug"] = POSES["maybe"]
POSES["point right"] = POSES["point left"]  # played by the right arm (mirrored)

@lru_cache(maxsize=512)
def kind_keys(kind: str, args: tuple[str, ...], height: float = 0.0,
              spread: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(top, hit, upper-arm direction at the hit) of a kind for the LEFT arm (cached: do not
    modify the arrays).

    ``point`` takes its direction from ``args[0]``; ``count`` its number. ``height`` and
    ``spread`` shape the gesture space (a style/emotion; not applied to pointing).
    """
    name = f"point {args[0] if args else 'forward'}" if kind == "point" else kind
    spec = POSES.get(name, POSES["beat"])
    out, u_hit = [], None
    for upper, fore, palm, hand, flex in spec:
        if kind != "point":
            upper, fore = shape_space(upper, fore, height, spread)
        hand_args = args if kind == "count" else ()
        out.append(key(upper, fore, palm, hand, hand_args, flex))
        u_hit = _unit(upper)
    return out[0], out[1], u_hit


def home_key(height: float = 0.0, spread: float = 0.0) -> np.ndarray:
    """(19,3) the LEFT arm's home pose in a gesture space shaped by ``height`` and ``spread``
    (cached: do not modify)."""
    return kind_keys("home", (), height, spread)[1]
