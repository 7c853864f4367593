# SPDX-License-Identifier: GPL-3.0-or-later
"""Put a :class:`~..core.types.Performance` on an :class:`~.anny_avatar.Avatar`.

Body: SMPL-X poses retargeted (:mod:`..core.retarget`) to pose-bone quaternions, keyed in bulk on
an Action ``PaksaTalker_<armature>_Body``. The face track's ``head`` rotation is added on top of
the body's head joint and its ``eyes`` drive the eye bones. The jaw bone is left alone: on this
avatar the ARKit ``jawOpen`` key opens the mouth (with teeth and tongue), and rotating the bone
as well would open it twice.

Face: the 52 ARKit curves keyed on one Action ``PaksaTalker_<armature>_Face`` shared by every
Key datablock of the avatar (body, teeth, tongue, lashes, brows...).
"""

from __future__ import annotations

import bpy
import numpy as np

from ..core.body.skeleton import FLOOR_Y, REST_JOINTS
from ..core.errors import InputError
from ..core.names import ARKIT_52, JOINT_INDEX
from ..core.retarget import TargetRest, plan_retarget, retarget_rotations, root_locations
from ..core.rotations import compose_axis_angle
from ..core.types import Performance
from . import animation
from .anny_avatar import Avatar


def target_rest(armature: bpy.types.Object) -> TargetRest:
    """The armature's rest pose in armature space, bones ordered parents first."""
    bones = list(armature.data.bones)
    order, seen = [], set()
    while len(order) < len(bones):
        for bone in bones:
            if bone.name not in seen and (bone.parent is None or bone.parent.name in seen):
                order.append(bone)
                seen.add(bone.name)
    names = tuple(b.name for b in order)
    parents = tuple(names.index(b.parent.name) if b.parent else -1 for b in order)
    matrices = np.array([np.array(b.matrix_local) for b in order])
    return TargetRest(names, parents, matrices)


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
) -> None:
    """Key ``perf`` on ``avatar`` from ``frame_start`` and set the scene's frame range and fps.

    Replaces only actions this module made before (see :mod:`.animation`). ``root_policy`` is
    one of :data:`~..core.retarget.ROOT_POLICIES` (``in_place`` by default).
    """
    if not isinstance(perf, Performance):
        raise InputError(f"expected a Performance, got {type(perf).__name__}")
    if isinstance(frame_start, bool) or not isinstance(frame_start, int) or frame_start < 0:
        raise InputError(f"frame_start must be a whole number >= 0, got {frame_start!r}")
    frames = frame_start + np.arange(perf.frames, dtype=np.float64)
    _key_body(avatar, perf, frames, root_policy)
    _key_face(avatar, perf, frames)
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = frame_start, frame_start + perf.frames - 1
    whole = max(1, round(perf.fps))
    scene.render.fps, scene.render.fps_base = whole, whole / perf.fps


def _key_body(avatar: Avatar, perf: Performance, frames: np.ndarray, root_policy: str) -> None:
    arm = avatar.armature
    rest = target_rest(arm)
    plan = plan_retarget(rest, avatar.bone_map)
    quats = retarget_rotations(plan, performance_poses(perf))
    root = rest.index(avatar.joint_map["pelvis"])
    smplx_hip = REST_JOINTS[JOINT_INDEX["pelvis"], 1] - FLOOR_Y
    scale = float(rest.matrices[root, 2, 3]) / smplx_hip
    locations = root_locations(
        perf.body.trans, rest.matrices[root], policy=root_policy, scale=scale
    )
    action = animation.new_action(f"{arm.name}_Body", [arm])
    curves = animation.fcurves(action)
    for k, b in enumerate(plan.bones):
        name = rest.names[b]
        arm.pose.bones[name].rotation_mode = "QUATERNION"
        path = f'pose.bones["{name}"].rotation_quaternion'
        animation.write_curves(curves, path, frames, quats[:, k], group=name)
    name = rest.names[root]
    animation.write_curves(curves, f'pose.bones["{name}"].location', frames, locations, group=name)


def _key_face(avatar: Avatar, perf: Performance, frames: np.ndarray) -> None:
    keys = avatar.shape_keys()
    if not keys:
        return
    action = animation.new_action(f"{avatar.armature.name}_Face", keys)
    curves = animation.fcurves(action)
    for i, unit in enumerate(ARKIT_52):
        animation.write_curves(
            curves, f'key_blocks["{unit}"].value', frames, perf.face.arkit[:, i], group="ARKit"
        )
