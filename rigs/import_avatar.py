# SPDX-License-Identifier: GPL-3.0-or-later
"""Import a user's avatar (.glb/.gltf/.vrm/.fbx/.blend) and make it an :class:`Avatar`.

Steps: import into a new collection -> find the armature (the one with most bones) and the
meshes it deforms -> map SMPL-X joints onto its bones (:mod:`..core.bone_names`; a map file
given by the user wins, and a bundled map in ``rigs/maps`` whose bones all exist is tried when
the names match no convention) -> refuse a rig that is not humanoid, removing what was imported
-> scale centimetre rigs to metres and stand the avatar on the floor (z = 0) above the origin.

glTF rigs are checked before anything is imported (their skeleton is read from the file).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np
from mathutils import Matrix, Vector

from ..core.bone_names import AutoMap, auto_map, missing_parts, parse_name
from ..core.errors import InputError
from ..core.gltf_rig import gltf_skeleton, vrm_humanoid
from ..core.retarget import BoneMap, load_bone_map, merge_maps
from .anny_avatar import Avatar
from .retarget import store_rest_basis

SUFFIXES = (".glb", ".gltf", ".vrm", ".fbx", ".blend")
MAPS_DIR = Path(__file__).resolve().parent / "maps"


@dataclass
class ImportedAvatar(Avatar):
    """An avatar imported from a file. ``report``: the bone-mapping report (one line);
    ``source``: the file it came from."""

    report: str = ""
    source: str = ""

    def eye_midpoint(self) -> tuple[float, float, float]:
        """Between the eye bones, or 60 % up the head bone when the rig has no eyes."""
        pose = self.armature.pose.bones
        if all(b in pose for b in self.eye_bones):
            return super().eye_midpoint()
        head = pose[self.head_bone]
        p = self.armature.matrix_world @ head.head.lerp(head.tail, 0.6)
        return (p.x, p.y, p.z)

    def bounds(self):
        """World box of every mesh of the avatar (the body alone may be just the head)."""
        pts = np.array([o.matrix_world @ Vector(c) for o in self.objects if o.type == "MESH"
                        for c in o.bound_box])
        return tuple(map(float, pts.min(axis=0))), tuple(map(float, pts.max(axis=0)))


def bundled_maps() -> list[Path]:
    """Map files shipped in ``rigs/maps`` (each names the bones of one rig)."""
    return sorted(MAPS_DIR.glob("*.toml"))


def resolve_map(names: list[str], parents: list[str | None], *, user_map: BoneMap | None = None,
                vrm: dict[str, str] | None = None) -> tuple[BoneMap, AutoMap]:
    """The bone map for a rig: the user's map (merged over the automatic one when it says
    ``auto = true``), else the automatic map, else a bundled map whose bones all exist.
    Raises InputError naming the missing parts when the rig is not humanoid."""
    auto = auto_map(names, parents, vrm=vrm)
    present = set(names)
    label = auto.convention
    if user_map is not None:
        final = merge_maps(auto.bone_map(), user_map) if user_map.auto else user_map
        label = "user map" + (f" over {label}" if user_map.auto else "")
    else:
        final = auto.bone_map()
        if not auto.is_humanoid:
            for path in bundled_maps():
                candidate = load_bone_map(path)
                if candidate.joints and set(candidate.joints.values()) <= present:
                    final = (merge_maps(auto.bone_map(), candidate) if candidate.auto
                             else candidate)
                    label = f"map file {path.name}"
                    break
    used = set(final.joints.values()) | set(final.follow) | {
        b for chain in final.share.values() for b in chain}
    unmapped = tuple(n for n in names if n not in used and parse_name(n) is not None)
    auto = AutoMap(dict(final.joints), dict(final.share), dict(final.follow), unmapped,
                   missing_parts(final.joints), label)
    absent = sorted(b for b in final.joints.values() if b not in present)
    if absent:
        raise InputError(f"the bone map names bones the rig lacks: {', '.join(absent[:6])}")
    missing = auto.missing
    if missing:
        raise InputError(
            f"not a humanoid rig: no {', '.join(missing)} found among {len(names)} bones; "
            "write a bone map (docs/avatars.md) and pass it with --bone-map")
    return final, auto


def import_avatar(path: str | Path, *, bone_map: str | Path | None = None,
                  name: str | None = None) -> ImportedAvatar:
    """Import the avatar file into a new collection and return it ready for
    :func:`~.retarget.apply_performance`."""
    src = Path(path)
    if src.suffix.lower() not in SUFFIXES:
        raise InputError(f"cannot import {src.name}: use one of {', '.join(SUFFIXES)}")
    if not src.is_file():
        raise InputError(f"avatar file not found: {src}")
    user_map = load_bone_map(bone_map) if bone_map else None
    vrm = vrm_humanoid(src) if src.suffix.lower() in (".glb", ".gltf", ".vrm") else None
    if vrm is not None:  # check a glTF rig before importing anything
        names, parents = gltf_skeleton(src)
        if not names:
            raise InputError(f"{src.name} has no skinned skeleton: not an avatar")
        try:
            resolve_map(names, parents, user_map=user_map, vrm=vrm or None)
        except InputError as err:
            raise InputError(f"{src.name}: {err}") from None
    coll = bpy.data.collections.new(name or src.stem)
    bpy.context.scene.collection.children.link(coll)
    try:
        objects = _import_into(src, coll)
        arms = [o for o in objects if o.type == "ARMATURE"]
        if not arms:
            raise InputError(f"{src.name} has no armature: not an avatar")
        arm = max(arms, key=lambda o: len(o.data.bones))
        names = [b.name for b in arm.data.bones]
        parents = [b.parent.name if b.parent else None for b in arm.data.bones]
        final, auto = resolve_map(names, parents, user_map=user_map, vrm=vrm or None)
    except Exception as err:
        _remove(coll)
        if isinstance(err, InputError):
            raise InputError(f"{src.name}: {err}") from None
        raise
    meshes = [o for o in objects if o.type == "MESH" and deformed_by(o, arm)]
    if not meshes:
        _remove(coll)
        raise InputError(f"{src.name}: no mesh follows the armature {arm.name!r}")
    _hide_bone_shapes(arm, coll)
    for obj in [arm, *meshes]:  # the file's own clips stay in bpy.data, unassigned
        for owner in (obj, obj.data.shape_keys if obj.type == "MESH" else None):
            if owner is not None and owner.animation_data is not None:
                owner.animation_data.action = None
    bpy.context.view_layer.update()
    store_rest_basis(arm)
    _stand_on_floor(objects, meshes, arm, final.joints["pelvis"])
    body = max(meshes, key=lambda o: (o.data.shape_keys is not None, len(o.data.vertices)))
    eyes = (final.joints.get("left_eye_smplhf"), final.joints.get("right_eye_smplhf"))
    head = final.joints["head"]
    return ImportedAvatar(
        armature=arm, body=body, objects=[arm, *meshes], joint_map=dict(final.joints),
        head_bone=head, eye_bones=eyes if all(eyes) else (head, head), bone_map=final,
        report=auto.report(), source=str(src))


def _import_into(src: Path, coll: bpy.types.Collection) -> list[bpy.types.Object]:
    """Import ``src`` with objects linked into ``coll``; returns the new objects."""
    before = set(bpy.data.objects)
    layer = bpy.context.view_layer
    previous = layer.active_layer_collection
    layer.active_layer_collection = layer.layer_collection.children[coll.name]
    suffix = src.suffix.lower()
    try:
        if suffix in (".glb", ".gltf", ".vrm"):
            # bind pose = the nodes' rest: fewer bones whose default look differs from rest
            bpy.ops.import_scene.gltf(filepath=str(src), guess_original_bind_pose=False)
        elif suffix == ".fbx":
            bpy.ops.import_scene.fbx(filepath=str(src), automatic_bone_orientation=True)
        else:
            with bpy.data.libraries.load(str(src), link=False) as (data_from, data_to):
                data_to.objects = list(data_from.objects)
            for obj in data_to.objects:  # the file's cameras and lights stay out
                if obj is not None and obj.type in ("ARMATURE", "MESH", "EMPTY"):
                    coll.objects.link(obj)
    except RuntimeError as err:
        raise InputError(f"the importer failed on {src.name}: {str(err).splitlines()[0]}") \
            from None
    finally:
        layer.active_layer_collection = previous
    new = [o for o in bpy.data.objects if o not in before]
    for obj in new:  # bone-shape helpers the glTF importer makes are not part of the avatar
        if obj.type == "MESH" and not obj.users_collection:
            continue
        if coll not in obj.users_collection and obj.users_collection:
            for other in list(obj.users_collection):
                other.objects.unlink(obj)
            coll.objects.link(obj)
    return [o for o in new if coll in o.users_collection]


def deformed_by(obj: bpy.types.Object, arm: bpy.types.Object) -> bool:
    """True when ``arm`` deforms ``obj`` (an Armature modifier) or is one of its parents."""
    if any(m.type == "ARMATURE" and m.object is arm for m in obj.modifiers):
        return True
    parent = obj.parent
    while parent is not None:
        if parent is arm:
            return True
        parent = parent.parent
    return False


def _stand_on_floor(objects, meshes, arm, pelvis_bone: str) -> None:
    """Scale centimetre rigs to metres, put the lowest vertex at z = 0 and the pelvis above
    the origin, by moving the imported roots (their children follow)."""
    bpy.context.view_layer.update()
    pts = np.array([o.matrix_world @ Vector(c) for o in meshes for c in o.bound_box])
    height = float(pts[:, 2].max() - pts[:, 2].min())
    scale = 0.01 if height > 20.0 else 1.0
    pelvis = np.array(arm.matrix_world @ arm.pose.bones[pelvis_bone].head) * scale
    shift = Vector((-pelvis[0], -pelvis[1], -float(pts[:, 2].min()) * scale))
    fix = Matrix.Translation(shift) @ Matrix.Scale(scale, 4)
    roots = [o for o in objects if o.parent is None or o.parent not in objects]
    for obj in roots:
        obj.matrix_world = fix @ obj.matrix_world
    bpy.context.view_layer.update()


def _hide_bone_shapes(arm: bpy.types.Object, coll: bpy.types.Collection) -> None:
    """Unlink bone custom-shape helpers (the glTF importer's icosphere) from the scene."""
    shapes = {pb.custom_shape for pb in arm.pose.bones if pb.custom_shape is not None}
    for obj in shapes:
        if coll in obj.users_collection:
            coll.objects.unlink(obj)


def _remove(coll: bpy.types.Collection) -> None:
    for obj in list(coll.objects):
        bpy.data.objects.remove(obj, do_unlink=True)
    bpy.data.collections.remove(coll)
