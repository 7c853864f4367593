# SPDX-License-Identifier: GPL-3.0-or-later
"""An avatar built from the user's own SMPL-X model file (never shipped with PaksaTalker).

Stages, on plain arrays from :mod:`..core.smplx_model`: shaped rest mesh (betas) -> SMPL-X Y-up
to Blender Z-up (``v_b = K v``, the avatar then faces -Y and stands on z = 0) -> armature with one
bone per SMPL-X joint at the joints regressed from the shaped mesh (``J_regressor``), named as
:data:`~..core.names.SMPLX_JOINTS` -> mesh with one vertex group per joint from the skinning
weights -> shape keys ``Shape000..`` (betas) and ``Exp000..`` (expressions, slider -10..10) ->
optional pose-corrective keys ``Pose_<joint>_<k>`` whose values are driven by the bone rotations
(simple-expression drivers, so no Python auto-run is needed).

The bones keep SMPL-X's rest frame (the zero pose is the model's own T-pose), so the retarget's
rest corrections are exact (every joint is ``keep_rest``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import bpy
import numpy as np

from ..core.errors import InputError
from ..core.names import SMPLX_JOINTS, SMPLX_PARENTS
from ..core.retarget import SMPLX_TO_BLENDER, BoneMap
from ..core.smplx_model import BodyModel, load_model, resolve_model_path
from .anny_avatar import PART, Avatar

K = SMPLX_TO_BLENDER
_PREFERRED_CHILD = {"pelvis": "spine1", "spine3": "neck", "left_wrist": "left_middle1",
                    "right_wrist": "right_middle1", "head": ""}
# Leaves: bone direction in Blender axes (and length, m) when there is no child to aim at.
_LEAF = {"head": ((0, 0, 1), 0.12), "jaw": ((0, -0.8, -0.6), 0.08),
         "left_eye_smplhf": ((0, -1, 0), 0.02), "right_eye_smplhf": ((0, -1, 0), 0.02),
         "left_foot": ((0, -1, 0), 0.08), "right_foot": ((0, -1, 0), 0.08)}
EXP_SLIDER = 10.0
"""Expression keys accept coefficients in -10..10 (Blender's hard slider limit)."""


def build_smplx_avatar(model_path: str | Path, betas=None, *, name: str = "SMPLX",
                       num_betas: int = 10, pose_correctives: bool | Iterable[str] = False,
                       ) -> Avatar:
    """Build the avatar of the user's SMPL-X ``.npz`` in a new collection ``name``.

    ``betas`` (<= B,) shape the rest mesh and the armature; ``num_betas`` shape keys ``ShapeNNN``
    are added on top. ``pose_correctives``: True for every joint, or the joint names to give
    driven pose-corrective keys (off by default: 9 keys per joint). InputError when the file is
    missing or not SMPL-X (a FLAME file has no body).
    """
    if not name.strip():
        raise InputError("the avatar needs a name")
    model = load_model(resolve_model_path(model_path, "SMPL-X"))
    if model.kind != "smplx":
        raise InputError(f"{model.path.name} is a {model.kind.upper()} model: an avatar needs "
                         "SMPL-X (FLAME files drive expressions only, via --flame-model)")
    betas = None if betas is None else np.asarray(betas, np.float64).ravel()
    if betas is not None and len(betas) > model.num_betas:
        if np.any(betas[model.num_betas:]):
            raise InputError(f"{len(betas)} betas given; the model has {model.num_betas}")
        betas = betas[: model.num_betas]
    rest = model.shaped(betas)
    joints = model.J_regressor.astype(np.float64) @ rest
    lift = -(rest @ K.T)[:, 2].min()
    coords = rest @ K.T + (0.0, 0.0, lift)
    heads = joints @ K.T + (0.0, 0.0, lift)

    coll = bpy.data.collections.new(name)
    bpy.context.scene.collection.children.link(coll)
    arm = _armature(name, heads, coll)
    body = _mesh(name, model, coords, coll)
    _skin(body, arm, model)
    _shape_keys(body, model, coords, num_betas)
    if pose_correctives:
        wanted = SMPLX_JOINTS[1:] if pose_correctives is True else tuple(pose_correctives)
        unknown = [j for j in wanted if j not in SMPLX_JOINTS[1:]]
        if unknown:
            raise InputError(f"no pose correctives for {', '.join(unknown)}: not SMPL-X joints")
        _pose_correctives(body, arm, model, coords, wanted)
    bpy.context.view_layer.update()
    joints_map = {j: j for j in SMPLX_JOINTS}
    bone_map = BoneMap(dict(joints_map), {}, frozenset(SMPLX_JOINTS))
    return Avatar(arm, body, [arm, body], joints_map, head_bone="head",
                  eye_bones=("left_eye_smplhf", "right_eye_smplhf"), bone_map=bone_map)


def bone_tails(heads: np.ndarray) -> np.ndarray:
    """(55,3) bone tails in Blender axes: the preferred or only child's head, else a leaf
    direction (continuing the parent->joint direction for finger tips)."""
    tails = heads.copy()
    children: dict[int, list[int]] = {}
    for j, p in enumerate(SMPLX_PARENTS):
        if p >= 0:
            children.setdefault(p, []).append(j)
    for j, name in enumerate(SMPLX_JOINTS):
        kids = children.get(j, [])
        pick = _PREFERRED_CHILD.get(name)
        if pick:
            tails[j] = heads[SMPLX_JOINTS.index(pick)]
        elif name in _LEAF:
            d, length = _LEAF[name]
            tails[j] = heads[j] + np.array(d, float) / np.linalg.norm(d) * length
        elif len(kids) == 1:
            tails[j] = heads[kids[0]]
        else:  # finger tips and other leaves: keep going the way the parent pointed
            p = SMPLX_PARENTS[j]
            tails[j] = heads[j] + 0.8 * (heads[j] - heads[p])
        if np.linalg.norm(tails[j] - heads[j]) < 1e-3:
            tails[j] = heads[j] + (0.0, 0.0, 0.02)
    return tails


def _armature(name: str, heads: np.ndarray, coll) -> bpy.types.Object:
    data = bpy.data.armatures.new(f"{name}_Rig")
    data.display_type = "OCTAHEDRAL"
    obj = bpy.data.objects.new(name, data)
    obj[PART] = "armature"
    coll.objects.link(obj)
    tails = bone_tails(heads)
    view = bpy.context.view_layer
    previous = view.objects.active
    view.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        for j, bone in enumerate(SMPLX_JOINTS):
            eb = data.edit_bones.new(bone)
            eb.head, eb.tail, eb.roll = heads[j], tails[j], 0.0
        for j, bone in enumerate(SMPLX_JOINTS):
            if SMPLX_PARENTS[j] >= 0:
                data.edit_bones[bone].parent = data.edit_bones[SMPLX_JOINTS[SMPLX_PARENTS[j]]]
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
        view.objects.active = previous
    return obj


def _mesh(name: str, model: BodyModel, coords: np.ndarray, coll) -> bpy.types.Object:
    faces = model.faces.astype(np.int32)
    me = bpy.data.meshes.new(f"{name}_body")
    me.vertices.add(len(coords))
    me.vertices.foreach_set("co", coords.astype(np.float32).ravel())
    me.loops.add(faces.size)
    me.loops.foreach_set("vertex_index", faces.ravel())
    me.polygons.add(len(faces))
    me.polygons.foreach_set("loop_start", np.arange(0, faces.size, 3, dtype=np.int32))
    me.update()
    me.validate(clean_customdata=False)
    me.shade_smooth()
    mat = bpy.data.materials.new(f"{name}_Skin")
    mat.diffuse_color = (0.8, 0.6, 0.5, 1.0)
    try:  # a skin shader when the shading module is usable; the flat colour otherwise
        from ..shaders.materials import skin_material

        mat = skin_material(f"{name}_Skin")
    except Exception:  # noqa: BLE001 - cosmetics must not stop the avatar
        pass
    me.materials.append(mat)
    obj = bpy.data.objects.new(f"{name}_body", me)
    obj[PART] = "body"
    coll.objects.link(obj)
    return obj


def _skin(body: bpy.types.Object, arm: bpy.types.Object, model: BodyModel) -> None:
    w = np.asarray(model.weights, np.float64)
    for j, bone in enumerate(SMPLX_JOINTS):
        on = np.flatnonzero(w[:, j] > 1e-4)
        group = body.vertex_groups.new(name=bone)
        rounded = np.round(w[on, j], 4)
        for value in np.unique(rounded):
            group.add(on[rounded == value].tolist(), float(value), "REPLACE")
    mod = body.modifiers.new("Armature", "ARMATURE")
    mod.object = arm
    body.parent = arm


def _key(body, name: str, co: np.ndarray, lo: float, hi: float):
    kb = body.shape_key_add(name=name, from_mix=False)
    kb.data.foreach_set("co", co.astype(np.float32).ravel())
    kb.slider_min, kb.slider_max, kb.value = lo, hi, 0.0
    return kb


def _shape_keys(body, model: BodyModel, coords: np.ndarray, num_betas: int) -> None:
    body.shape_key_add(name="Basis", from_mix=False)
    for k in range(min(num_betas, model.num_betas)):
        _key(body, f"Shape{k:03d}", coords + model.shapedirs[:, :, k] @ K.T, -5.0, 5.0)
    for k in range(min(model.num_expressions, 100)):
        _key(body, f"Exp{k:03d}", coords + model.exprdirs[:, :, k] @ K.T,
             -EXP_SLIDER, EXP_SLIDER)


def _quat_matrix_exprs() -> list[list[str]]:
    """Rotation-matrix entries of the quaternion (w, x, y, z) as expression strings."""
    return [["1-2*(y*y+z*z)", "2*(x*y-w*z)", "2*(x*z+w*y)"],
            ["2*(x*y+w*z)", "1-2*(x*x+z*z)", "2*(y*z-w*x)"],
            ["2*(x*z-w*y)", "2*(y*z+w*x)", "1-2*(x*x+y*y)"]]


def corrective_feature_exprs(bone_rest: np.ndarray) -> list[str]:
    """The 9 SMPL-X pose features ``(R - I).ravel()`` of one joint as driver expressions in the
    pose bone's quaternion (w, x, y, z). ``bone_rest`` (3,3) is the bone's rest rotation in
    armature space; ``R = A Q A^T`` with ``A = K^T bone_rest`` (SMPL-X's joint frames are the
    world axes)."""
    a = K.T @ bone_rest
    q = _quat_matrix_exprs()
    out = []
    for r in range(3):
        for c in range(3):
            terms = [f"{a[r, i] * a[c, k]:+.6f}*({q[i][k]})" for i in range(3) for k in range(3)
                     if abs(a[r, i] * a[c, k]) > 1e-9]
            out.append(("".join(terms) or "0") + ("-1" if r == c else ""))
    return out


def _pose_correctives(body, arm, model: BodyModel, coords: np.ndarray, joints) -> None:
    for joint in joints:
        j = SMPLX_JOINTS.index(joint)
        bone = arm.data.bones[joint]
        rest = np.array(bone.matrix_local, np.float64)[:3, :3]
        pb = arm.pose.bones[joint]
        pb.rotation_mode = "QUATERNION"
        for k, expr in enumerate(corrective_feature_exprs(rest)):
            col = 9 * (j - 1) + k
            kb = _key(body, f"Pose_{joint}_{k}", coords + model.posedirs[:, :, col] @ K.T,
                      -2.0, 2.0)
            drv = kb.driver_add("value").driver
            drv.type = "SCRIPTED"
            for i, comp in enumerate("wxyz"):
                var = drv.variables.new()
                var.name = comp
                var.type = "SINGLE_PROP"
                var.targets[0].id = arm
                var.targets[0].data_path = f'pose.bones["{joint}"].rotation_quaternion[{i}]'
            drv.expression = expr
