# SPDX-License-Identifier: GPL-3.0-or-later
"""An SMPL-X-like rest skeleton built from human proportions, and forward kinematics.

No SMPL-X model is shipped (its licence forbids it), so :data:`REST_JOINTS` is laid out from
standard anthropometric ratios of stature for a neutral adult of :data:`HEIGHT` metres, in the
SMPL-X frame and rest pose:

- Y up, the body faces +Z, +X points to the subject's LEFT;
- T-pose: arms horizontal, palms down, thumbs forward, legs straight and slightly apart;
- the origin sits as in SMPL-X model space: the pelvis joint about 0.35 m below it, the soles
  at :data:`FLOOR_Y`.

Poses follow SMPL-X semantics: a joint's axis-angle is its rotation relative to its parent,
expressed in the rest (world-aligned) frame, and ``trans`` moves the whole body. Hand rotations
here act on a flat rest hand; the MANO mean-hand offset is a property of a real SMPL-X model.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..names import JOINT_INDEX, NUM_JOINTS, SMPLX_PARENTS
from ..rotations import axis_angle_to_matrix

HEIGHT = 1.70
"""Stature of the rest skeleton in metres."""

FLOOR_Y = -1.30
"""Height of the soles in model space (metres)."""

# Joint heights as fractions of stature above the floor, and (x, z) offsets in metres, for the
# midline and the LEFT side; the right side mirrors x. Fractions follow the usual segment-length
# tables (hip joint ~0.51 H, knee ~0.29 H, ankle ~0.045 H, shoulder ~0.815 H, eye ~0.935 H);
# SMPL-style joints lie inside the body, so torso joints sit a little behind the skin surface.
_MIDLINE = {
    "pelvis": (0.561, 0.000, 0.000),
    "spine1": (0.625, 0.000, -0.012),
    "spine2": (0.704, 0.000, -0.004),
    "spine3": (0.738, 0.000, 0.006),
    "neck": (0.860, 0.000, -0.014),
    "head": (0.910, 0.000, 0.022),
    "jaw": (0.904, 0.000, 0.048),
}
_LEFT = {
    "hip": (0.508, 0.068, -0.004),
    "knee": (0.288, 0.098, 0.006),
    "ankle": (0.046, 0.104, -0.034),
    "foot": (0.012, 0.114, 0.092),
    "collar": (0.830, 0.072, -0.006),
    "shoulder": (0.818, 0.178, -0.018),
    "elbow": (0.814, 0.452, -0.024),
    "wrist": (0.811, 0.700, -0.022),
    "eye_smplhf": (0.937, 0.031, 0.086),
}
# Hand joints relative to the wrist (metres; flat hand, palm down, fingers along +x, thumb +z).
# Metacarpophalangeal (…1), proximal (…2) and distal (…3) interphalangeal joints; for the thumb
# the carpometacarpal, metacarpophalangeal and interphalangeal joints.
_FINGERS = {
    "index": ((0.086, -0.006, 0.026), 0.039, 0.023, (1.0, 0.0, 0.05)),
    "middle": ((0.092, -0.006, 0.004), 0.043, 0.026, (1.0, 0.0, 0.0)),
    "ring": ((0.087, -0.007, -0.016), 0.039, 0.024, (1.0, 0.0, -0.06)),
    "pinky": ((0.078, -0.008, -0.034), 0.030, 0.019, (1.0, 0.0, -0.14)),
    "thumb": ((0.024, -0.014, 0.022), 0.036, 0.032, (0.72, -0.12, 0.68)),
}


def _build_rest() -> np.ndarray:
    joints = np.zeros((NUM_JOINTS, 3))

    def put(name: str, y_frac: float, x: float, z: float) -> None:
        joints[JOINT_INDEX[name]] = (x, FLOOR_Y + y_frac * HEIGHT, z)

    for name, (h, x, z) in _MIDLINE.items():
        put(name, h, x, z)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        for name, (h, x, z) in _LEFT.items():
            put(f"{side}_{name}", h, sign * x, z)
        wrist = joints[JOINT_INDEX[f"{side}_wrist"]]
        for finger, (base, l1, l2, direction) in _FINGERS.items():
            d = np.asarray(direction) / np.linalg.norm(direction)
            p1 = wrist + np.array([sign * base[0], base[1], base[2]])
            step = np.array([sign * d[0], d[1], d[2]])
            joints[JOINT_INDEX[f"{side}_{finger}1"]] = p1
            joints[JOINT_INDEX[f"{side}_{finger}2"]] = p1 + l1 * step
            joints[JOINT_INDEX[f"{side}_{finger}3"]] = p1 + (l1 + l2) * step
    return joints


REST_JOINTS: np.ndarray = _build_rest()
"""(55,3) rest joint positions in metres, order :data:`~..names.SMPLX_JOINTS`."""
REST_JOINTS.setflags(write=False)

_PARENTS = np.asarray(SMPLX_PARENTS)


def forward_kinematics(poses, trans, rest=None, joints=None) -> tuple[np.ndarray, np.ndarray]:
    """World joint positions and rotations of a posed skeleton.

    poses: (T,55,3) local axis-angle per joint (SMPL-X order; joint 0 is the global orient).
    trans: (T,3) root translation in metres.
    rest:  optional (55,3) rest joint positions (default :data:`REST_JOINTS`), e.g. the joints
           of a real SMPL-X model.

    joints: optional indices to compute (their ancestors are added); the other joints are left
           at zero, which makes collision checks and metrics on a few joints cheaper.

    Returns ``positions`` (T,55,3) in metres and ``rotations`` (T,55,3,3), each joint's global
    rotation (the product of the local rotations from the root down to it).
    """
    p = np.asarray(poses, dtype=np.float64)
    tr = np.asarray(trans, dtype=np.float64)
    j = REST_JOINTS if rest is None else np.asarray(rest, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (NUM_JOINTS, 3):
        raise InputError(f"poses must have shape (T,{NUM_JOINTS},3), got {p.shape}")
    if tr.shape != (p.shape[0], 3):
        raise InputError(f"trans must have shape ({p.shape[0]},3), got {tr.shape}")
    if j.shape != (NUM_JOINTS, 3):
        raise InputError(f"rest joints must have shape ({NUM_JOINTS},3), got {j.shape}")
    wanted = range(1, NUM_JOINTS)
    if joints is not None:
        need: set[int] = set()
        for i in joints:
            while i > 0 and i not in need:
                need.add(int(i))
                i = _PARENTS[i]
        wanted = sorted(need)
    local = np.zeros(p.shape + (3,))
    idx = [0, *wanted]
    local[:, idx] = axis_angle_to_matrix(p[:, idx])
    rot = np.zeros_like(local)
    pos = np.zeros_like(p)
    rot[:, 0] = local[:, 0]
    pos[:, 0] = j[0] + tr
    for i in wanted:
        parent = _PARENTS[i]
        rot[:, i] = rot[:, parent] @ local[:, i]
        pos[:, i] = pos[:, parent] + rot[:, parent] @ (j[i] - j[parent])
    return pos, rot

