# SPDX-License-Identifier: GPL-3.0-or-later
"""Retarget scale, feet on the floor and the quality measure (pure numpy).

Works on a :class:`~.retarget.RetargetPlan`: :func:`leg_scale` (root motion scaled to the avatar),
:func:`target_pose` (the target's forward kinematics from pose-bone quaternions),
:func:`floor_offsets` (root heights that keep the lowest foot on the floor) and
:func:`retarget_error` (mean angular error per body part, in degrees).
"""

from __future__ import annotations

import numpy as np

from .body.skeleton import REST_JOINTS, forward_kinematics
from .errors import InputError
from .names import JOINT_INDEX
from .retarget import FINGERS, SMPLX_TO_BLENDER, RetargetPlan, child_joint, is_finger
from .rotations import quaternion_to_matrix


def leg_scale(plan: RetargetPlan, rest_joints=None) -> float:
    """Target / SMPL-X leg length (hip -> knee -> ankle of the mapped bones' rest heads);
    falls back to the ratio of pelvis heights above the lowest mapped head."""
    rest = REST_JOINTS if rest_joints is None else np.asarray(rest_joints, dtype=np.float64)
    tgt, joints = plan.target, plan.bone_map.joints
    heads = tgt.matrices[:, :3, 3]
    lengths = []
    for side in ("left", "right"):
        chain = [f"{side}_hip", f"{side}_knee", f"{side}_ankle"]
        if all(j in joints for j in chain):
            h = [heads[tgt.index(joints[j])] for j in chain]
            s = [rest[JOINT_INDEX[j]] for j in chain]
            want = np.linalg.norm(s[1] - s[0]) + np.linalg.norm(s[2] - s[1])
            lengths.append((np.linalg.norm(h[1] - h[0]) + np.linalg.norm(h[2] - h[1])) / want)
    if lengths:
        return float(np.mean(lengths))
    pelvis = heads[tgt.index(joints["pelvis"])]
    low = heads[:, 2].min()
    return float((pelvis[2] - low) / (rest[JOINT_INDEX["pelvis"], 1] - rest[:, 1].min()))


BODY_PARTS: dict[str, tuple[str, ...]] = {
    "spine/head": ("pelvis", "spine1", "spine2", "spine3", "neck", "head"),
    "arms": tuple(f"{s}_{j}" for s in ("left", "right") for j in ("collar", "shoulder", "elbow")),
    "hands": tuple(f"{s}_{j}" for s in ("left", "right")
                   for j in ("wrist", *(f"{f}{i}" for f in FINGERS for i in (1, 2, 3)))),
    "legs": tuple(f"{s}_{j}" for s in ("left", "right") for j in ("hip", "knee", "ankle", "foot")),
}
"""SMPL-X joints per body part, for :func:`retarget_error`."""


def target_pose(plan: RetargetPlan, quats) -> np.ndarray:
    """Target forward kinematics: posed armature-space bone matrices (T,B,4,4) from the
    pose-bone quaternions (T,N,4) of :func:`retarget_rotations` (other bones at rest)."""
    q = np.asarray(quats, dtype=np.float64)
    tgt = plan.target
    m = tgt.matrices
    t, nb = q.shape[0], len(tgt.names)
    local = np.tile(np.eye(3), (t, nb, 1, 1))
    local[:, list(plan.bones)] = quaternion_to_matrix(q)
    out = np.tile(np.eye(4), (t, nb, 1, 1))
    for b, p in enumerate(tgt.parents):
        if p < 0:
            out[:, b, :3, :3] = m[b, :3, :3] @ local[:, b]
            out[:, b, :3, 3] = m[b, :3, 3]
            continue
        rel = np.linalg.inv(m[p]) @ m[b]
        out[:, b, :3, :3] = out[:, p, :3, :3] @ rel[:3, :3] @ local[:, b]
        out[:, b, :3, 3] = out[:, p, :3, :3] @ rel[:3, 3] + out[:, p, :3, 3]
    return out


def retarget_error(plan: RetargetPlan, poses, posed) -> dict[str, float]:
    """Mean angular error in degrees between source and target bone directions, per body part.

    poses: (T,55,3) the SMPL-X poses that were retargeted; posed: (T,B,4,4) the target's posed
    armature-space bone matrices (Blender's ``pose_bone.matrix``, or :func:`target_pose`).

    For each mapped joint with a mapped child the target segment (bone head -> child bone head)
    is compared with the source segment from SMPL-X forward kinematics; for a mapped joint with
    no mapped child (feet, finger tips) the bone's own axis is used. Joints that keep the rig's
    rest shape on purpose (``keep_rest`` torso joints and fingers: the rig's spine curve and
    relaxed hand) are compared with the SMPL-X motion applied to the target's rest segment.
    Returns ``{part: degrees}`` for the parts of :data:`BODY_PARTS` that are mapped, and "all".
    """
    p = np.asarray(poses, dtype=np.float64)
    posed = np.asarray(posed, dtype=np.float64)
    tgt, joints = plan.target, plan.bone_map.joints
    if posed.shape != (p.shape[0], len(tgt.names), 4, 4):
        raise InputError(f"posed bones must have shape (T,{len(tgt.names)},4,4), got {posed.shape}")
    pos, glob = forward_kinematics(p, np.zeros((p.shape[0], 3)))
    k = SMPLX_TO_BLENDER
    src_rot = k @ glob @ k.T @ plan.corrections  # intended world delta per joint (T,55,3,3)
    src_pos = pos @ k.T
    rest = tgt.matrices
    mapped = {j: tgt.index(b) for j, b in joints.items()}
    errors: dict[str, list[np.ndarray]] = {part: [] for part in BODY_PARTS}
    for part, names in BODY_PARTS.items():
        for joint in names:
            if joint not in mapped:
                continue
            b, j = mapped[joint], JOINT_INDEX[joint]
            child = child_joint(joint, joints)
            exact = joint not in plan.bone_map.keep_rest and not is_finger(joint)
            if child is not None:
                c = mapped[child]
                got = posed[:, c, :3, 3] - posed[:, b, :3, 3]
                if exact:
                    want = src_pos[:, JOINT_INDEX[child]] - src_pos[:, j]
                else:
                    want = src_rot[:, j] @ (rest[c, :3, 3] - rest[b, :3, 3])
            else:
                got = posed[:, b, :3, 1]
                want = src_rot[:, j] @ rest[b, :3, 1]
            cos = np.sum(got * want, axis=-1) / (
                np.linalg.norm(got, axis=-1) * np.linalg.norm(want, axis=-1) + 1e-12)
            errors[part].append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    out = {part: float(np.mean(e)) for part, e in errors.items() if e}
    every = [x for e in errors.values() for x in e]
    if every:
        out["all"] = float(np.mean(every))
    return out


FOOT_JOINTS = ("left_ankle", "right_ankle", "left_foot", "right_foot")


def floor_offsets(plan: RetargetPlan, quats, lift=None) -> np.ndarray:
    """Vertical root offsets (T,) in world units that keep the lowest foot joint at its rest
    height (feet on the floor), given the pose-bone quaternions (T,N,4) of
    :func:`retarget_rotations` and the root's own vertical motion ``lift`` (T,) already applied.
    Zeros when no ankle or foot bone is mapped."""
    q = np.asarray(quats, dtype=np.float64)
    joints = plan.bone_map.joints
    idx = [plan.target.index(joints[j]) for j in FOOT_JOINTS if j in joints]
    if not idx:
        return np.zeros(q.shape[0])
    posed = target_pose(plan, q)[:, idx, 2, 3]
    rest = plan.target.matrices[idx, 2, 3]
    base = np.zeros(q.shape[0]) if lift is None else np.asarray(lift, dtype=np.float64)
    return rest.min() - (posed.min(axis=1) + base)
