# SPDX-License-Identifier: GPL-3.0-or-later
"""Which avatar the panel animates: the bundled one, an SMPL-X one, the selected rig, or an
imported file. Avatars the add-on built carry the custom property :data:`AVATAR_TAG` (its value
says where they came from), so later runs find them again instead of building another."""

from __future__ import annotations

import bpy

from ..core.errors import InputError
from ..rigs.anny_avatar import Avatar

AVATAR_TAG = "paksatalker_avatar"
"""Armature custom property of avatars the add-on built: "bundled", "smplx:<path>" or
"file:<path>"."""


def _tagged(scene, value: str) -> bpy.types.Object | None:
    for obj in scene.objects:
        if obj.type == "ARMATURE" and obj.get(AVATAR_TAG) in (value, True):
            return obj
    return None


def why_no_avatar(p, context) -> str:
    """The reason the Avatar section cannot give an avatar ("" when it can)."""
    src = p.avatar_source
    if src == "SELECTED":
        obj = context.active_object
        if obj is None or obj.type != "ARMATURE":
            return "Select an armature (the avatar's rig) in the 3D View"
    elif src == "SMPLX":
        if not p.smplx_model:
            return "Choose your SMPL-X model file (.npz)"
        if not bpy.path.abspath(p.smplx_model).endswith(".npz"):
            return "The SMPL-X model must be an .npz file"
    elif src == "FILE" and not p.avatar_file:
        return "Choose an avatar file (.glb, .gltf, .vrm, .fbx, .blend)"
    return ""


def rig_avatar(armature: bpy.types.Object) -> Avatar:
    """An :class:`Avatar` for any humanoid armature already in the scene (bone names mapped
    automatically, as for imported avatars)."""
    if armature.get(AVATAR_TAG) in ("bundled", True):
        return Avatar.from_armature(armature)
    from ..rigs.import_avatar import ImportedAvatar, deformed_by, resolve_map
    from ..rigs.retarget import REST_BASIS, store_rest_basis

    names = [b.name for b in armature.data.bones]
    parents = [b.parent.name if b.parent else None for b in armature.data.bones]
    try:
        final, auto = resolve_map(names, parents)
    except InputError as err:
        raise InputError(f"{armature.name}: {err}") from None
    meshes = [o for o in bpy.context.scene.objects
              if o.type == "MESH" and deformed_by(o, armature)]
    if not meshes:
        raise InputError(f"{armature.name}: no mesh follows this armature")
    if REST_BASIS not in armature:
        store_rest_basis(armature)
    body = max(meshes, key=lambda o: (o.data.shape_keys is not None, len(o.data.vertices)))
    eyes = (final.joints.get("left_eye_smplhf"), final.joints.get("right_eye_smplhf"))
    head = final.joints["head"]
    return ImportedAvatar(armature=armature, body=body, objects=[armature, *meshes],
                          joint_map=dict(final.joints), head_bone=head,
                          eye_bones=eyes if all(eyes) else (head, head), bone_map=final,
                          report=auto.report(), source=armature.name)




def target_avatar(p, context, *, betas=None) -> tuple[Avatar, bool]:
    """The avatar the panel points at, built or imported on first use; ``(avatar, new)``."""
    scene = context.scene
    src = p.avatar_source
    reason = why_no_avatar(p, context)
    if reason:
        raise InputError(reason)
    if src == "SELECTED":
        return rig_avatar(context.active_object), False
    if src == "BUNDLED":
        arm = _tagged(scene, "bundled")
        if arm is not None:
            return Avatar.from_armature(arm), False
        from ..rigs.anny_avatar import build_avatar
        from .bridge import phenotype

        avatar = build_avatar(phenotype(p))
        avatar.armature[AVATAR_TAG] = "bundled"
        return avatar, True
    path = bpy.path.abspath(p.smplx_model if src == "SMPLX" else p.avatar_file)
    tag = f"{src.lower()}:{path}"
    arm = _tagged(scene, tag)
    if arm is not None:
        return rig_avatar(arm), False
    if src == "SMPLX":
        from ..rigs.smplx_avatar import build_smplx_avatar

        avatar = build_smplx_avatar(path, betas=betas)
    else:
        from ..rigs.import_avatar import import_avatar

        avatar = import_avatar(path, bone_map=bpy.path.abspath(p.bone_map) if p.bone_map
                               else None)
    avatar.armature[AVATAR_TAG] = tag
    return avatar, True
