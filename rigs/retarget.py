# SPDX-License-Identifier: GPL-3.0-or-later
"""Put a :class:`~..core.types.Performance` on any :class:`~.anny_avatar.Avatar`.

Works for the bundled avatar, SMPL-X avatars and imported ones (:mod:`.import_avatar`).

Body: SMPL-X poses retargeted (:mod:`..core.retarget`) to pose-bone quaternions, keyed in bulk on
an Action ``PaksaTalker_<armature>_Body``. The retarget runs in a world-aligned frame (the
armature object's rotation applied, scale removed), so armatures imported rotated or scaled
(glTF Y-up nodes, centimetre rigs) retarget like any other. The face track's ``head`` rotation is
added on top of the body's head joint and its ``eyes`` drive the eye bones. A jaw bone is keyed
only when no shape key opens the mouth (else the mouth would open twice).

Face: :mod:`.face_drive` (ARKit, visemes, Rocketbox, FLAME, emotion morphs, jaw fallback).
"""

from __future__ import annotations

import bpy
import numpy as np

from ..core.errors import InputError
from ..core.names import JOINT_INDEX
from ..core.retarget import (
    BoneMap,
    TargetRest,
    plan_retarget,
    retarget_rotations,
    root_locations,
)
from ..core.retarget_quality import floor_offsets, leg_scale, retarget_error
from ..core.rotations import compose_axis_angle, matrix_to_quaternion, quaternion_multiply
from ..core.types import Performance
from . import animation
from .anny_avatar import Avatar
from .face_drive import FaceReport, drive_face, jaw_bone_drives_mouth


def _world_rotation(armature: bpy.types.Object) -> tuple[np.ndarray, float]:
    """The armature object's world matrix split into a pure rotation (4,4) and its scale."""
    mw = np.array(armature.matrix_world)
    scale = float(np.cbrt(abs(np.linalg.det(mw[:3, :3])))) or 1.0
    u, _, vt = np.linalg.svd(mw[:3, :3] / scale)
    out = np.eye(4)
    out[:3, :3] = u @ vt
    out[:3, 3] = mw[:3, 3]
    return out, scale


def _bone_order(armature: bpy.types.Object) -> list:
    bones = list(armature.data.bones)
    order, seen = [], set()
    while len(order) < len(bones):
        for bone in bones:
            if bone.name not in seen and (bone.parent is None or bone.parent.name in seen):
                order.append(bone)
                seen.add(bone.name)
    return order


def _to_world(armature: bpy.types.Object, mats: np.ndarray) -> np.ndarray:
    """Armature-space bone matrices (...,4,4) -> world-aligned ones (rotation without scale,
    heads in world units)."""
    rot, scale = _world_rotation(armature)
    out = np.array(mats, dtype=np.float64)
    out[..., :3, 3] *= scale
    return rot @ out


REST_BASIS = "paksatalker_rest_basis"
"""Armature custom property: bone name -> the 16 values of the pose-bone basis (row-major) that
show the avatar's own default look, for rigs whose default pose is not their rest pose
(imported glTF rigs often are). Missing bones (and avatars without it) have identity bases."""


def store_rest_basis(armature: bpy.types.Object) -> None:
    """Remember the current pose-bone bases as the avatar's default look (see REST_BASIS)."""
    armature[REST_BASIS] = {
        pb.name: [float(x) for row in pb.matrix_basis for x in row]
        for pb in armature.pose.bones
        if np.abs(np.array(pb.matrix_basis) - np.eye(4)).max() > 1e-6
    }


def rest_basis(armature: bpy.types.Object, names: tuple[str, ...]) -> np.ndarray:
    """The stored default pose-bone bases of ``names``: (B,4,4)."""
    stored = armature.get(REST_BASIS) or {}
    out = np.tile(np.eye(4), (len(names), 1, 1))
    for i, n in enumerate(names):
        if n in stored:
            out[i] = np.asarray(list(stored[n]), dtype=np.float64).reshape(4, 4)
    return out


def _default_pose(armature: bpy.types.Object, order: list) -> np.ndarray:
    """Armature-space matrices (B,4,4) of the bones posed with their default bases."""
    names = tuple(b.name for b in order)
    basis = rest_basis(armature, names)
    index = {n: i for i, n in enumerate(names)}
    local = np.array([np.array(b.matrix_local) for b in order])
    out = np.empty_like(local)
    for i, b in enumerate(order):
        if b.parent is None:
            out[i] = local[i] @ basis[i]
        else:
            p = index[b.parent.name]
            out[i] = out[p] @ np.linalg.inv(local[p]) @ local[i] @ basis[i]
    return out


def _orthonormal(m: np.ndarray) -> np.ndarray:
    """Rotation parts of (...,4,4) matrices with scale removed (polar decomposition)."""
    u, _, vt = np.linalg.svd(m[..., :3, :3])
    out = np.array(m, dtype=np.float64)
    out[..., :3, :3] = u @ vt
    return out


def target_rest(armature: bpy.types.Object) -> TargetRest:
    """The avatar's default look (its rest, or the stored default bases), world-aligned (see
    :func:`_to_world`), bones ordered parents first."""
    order = _bone_order(armature)
    names = tuple(b.name for b in order)
    index = {n: i for i, n in enumerate(names)}
    parents = tuple(index[b.parent.name] if b.parent else -1 for b in order)
    matrices = _orthonormal(_to_world(armature, _default_pose(armature, order)))
    return TargetRest(names, parents, matrices)


def _location_frame(armature: bpy.types.Object, bone: str) -> tuple[np.ndarray, float]:
    """World-aligned rotation (3,3) and scale of the frame a pose bone's location moves in."""
    order = _bone_order(armature)
    names = [b.name for b in order]
    i = names.index(bone)
    b = order[i]
    local = np.array(b.matrix_local)
    if b.parent is None:
        frame = local
    else:
        posed = _default_pose(armature, order)
        p = names.index(b.parent.name)
        frame = posed[p] @ np.linalg.inv(np.array(order[p].matrix_local)) @ local
    world = _to_world(armature, frame)
    _, obj_scale = _world_rotation(armature)
    scale = float(np.cbrt(abs(np.linalg.det(frame[:3, :3])))) * obj_scale
    return _orthonormal(world)[:3, :3], scale


def posed_matrices(armature: bpy.types.Object, names: tuple[str, ...]) -> np.ndarray:
    """The current pose of ``names``, world-aligned like :func:`target_rest`: (B,4,4)."""
    pose = armature.pose.bones
    return _to_world(armature, np.array([np.array(pose[n].matrix) for n in names]))


def performance_poses(perf: Performance) -> np.ndarray:
    """Body poses (T,55,3) with the face track's head rotation added and its eye rotations."""
    poses = np.array(perf.body.poses, dtype=np.float64)
    head = JOINT_INDEX["head"]
    poses[:, head] = compose_axis_angle(poses[:, head], perf.face.head)
    poses[:, JOINT_INDEX["left_eye_smplhf"]] = perf.face.eyes[:, 0]
    poses[:, JOINT_INDEX["right_eye_smplhf"]] = perf.face.eyes[:, 1]
    return poses


def apply_performance(
    avatar: Avatar, perf: Performance, *, frame_start: int = 1, root_policy: str = "in_place"
) -> FaceReport:
    """Key ``perf`` on ``avatar`` from ``frame_start`` and set the scene's frame range and fps.

    Replaces only actions this module made before (see :mod:`.animation`). ``root_policy`` is
    one of :data:`~..core.retarget.ROOT_POLICIES` (``in_place`` by default; ``keep`` keeps the
    path, scaled by the avatar's leg length). Returns what drives the face.
    """
    if not isinstance(perf, Performance):
        raise InputError(f"expected a Performance, got {type(perf).__name__}")
    if isinstance(frame_start, bool) or not isinstance(frame_start, int) or frame_start < 0:
        raise InputError(f"frame_start must be a whole number >= 0, got {frame_start!r}")
    frames = frame_start + np.arange(perf.frames, dtype=np.float64)
    jaw = jaw_bone_drives_mouth(avatar.objects, avatar.bone_map.joints)
    _key_body(avatar, perf, frames, root_policy, jaw)
    eyes = [avatar.bone_map.joints[j] for j in ("left_eye_smplhf", "right_eye_smplhf")
            if j in avatar.bone_map.joints]
    report = drive_face(avatar, perf.face, frames, jaw_bone=jaw, eye_bones=eyes)
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = frame_start, frame_start + perf.frames - 1
    whole = max(1, round(perf.fps))
    scene.render.fps, scene.render.fps_base = whole, whole / perf.fps
    return report


def body_map(avatar: Avatar, jaw: bool) -> BoneMap:
    """The avatar's bone map, with the jaw joint only when the jaw bone opens the mouth."""
    bm = avatar.bone_map
    if jaw or "jaw" not in bm.joints:
        return bm
    joints = {j: b for j, b in bm.joints.items() if j != "jaw"}
    return BoneMap(joints, {j: c for j, c in bm.share.items() if j != "jaw"},
                   bm.keep_rest - {"jaw"}, dict(bm.follow))


def _key_body(avatar: Avatar, perf: Performance, frames: np.ndarray, root_policy: str,
              jaw: bool) -> None:
    arm = avatar.armature
    rest = target_rest(arm)
    plan = plan_retarget(rest, body_map(avatar, jaw))
    poses = performance_poses(perf)
    if jaw:
        poses[:, JOINT_INDEX["jaw"]] = perf.face.jaw
    quats = quats_rest = retarget_rotations(plan, poses)
    basis = rest_basis(arm, tuple(rest.names[b] for b in plan.bones))
    quats = quaternion_multiply(matrix_to_quaternion(_orthonormal(basis)[:, :3, :3]), quats)
    quats = _continuous(quats)
    root = rest.index(plan.bone_map.joints["pelvis"])
    frame, frame_scale = _location_frame(arm, rest.names[root])
    scale = leg_scale(plan)
    world = root_locations(perf.body.trans, np.eye(3), policy=root_policy, scale=scale)
    if root_policy != "fixed":  # feet on the floor: the lowest foot keeps its rest height
        world[:, 2] += floor_offsets(plan, quats_rest, world[:, 2])
    locations = world @ frame / frame_scale + rest_basis(arm, (rest.names[root],))[0, :3, 3]
    action = animation.new_action(f"{arm.name}_Body", [arm])
    curves = animation.fcurves(action)
    for k, b in enumerate(plan.bones):
        name = rest.names[b]
        arm.pose.bones[name].rotation_mode = "QUATERNION"
        path = f'pose.bones["{name}"].rotation_quaternion'
        animation.write_curves(curves, path, frames, quats[:, k], group=name)
    name = rest.names[root]
    animation.write_curves(curves, f'pose.bones["{name}"].location', frames, locations, group=name)


def _continuous(q: np.ndarray) -> np.ndarray:
    """Flip quaternion signs (T,N,4) so neighbouring frames stay on one hemisphere."""
    q = q.copy()
    for f in range(1, q.shape[0]):
        flip = np.sum(q[f] * q[f - 1], axis=-1) < 0
        q[f, flip] *= -1.0
    return q


def measure(avatar: Avatar, perf: Performance, frames: list[int], *, frame_start: int = 1
            ) -> dict[str, float]:
    """Retarget error of the keyed Performance in degrees per body part
    (:func:`~..core.retarget_quality.retarget_error`), read back from Blender's evaluated pose at
    ``frames`` (0-based)."""
    arm = avatar.armature
    rest = target_rest(arm)
    jaw = jaw_bone_drives_mouth(avatar.objects, avatar.bone_map.joints)
    plan = plan_retarget(rest, body_map(avatar, jaw))
    scene = bpy.context.scene
    posed = []
    for f in frames:
        scene.frame_set(frame_start + f)
        posed.append(posed_matrices(arm, rest.names))
    return retarget_error(plan, performance_poses(perf)[frames], np.array(posed))
