# SPDX-License-Identifier: GPL-3.0-or-later
"""Export an avatar with its animation through Blender's own FBX and glTF exporters.

:func:`export_performance` builds the bundled avatar in an empty scene, keys the Performance on
it (:func:`~.retarget.apply_performance`: bones and ARKit shape keys) and writes ``.fbx``,
``.glb`` or ``.gltf``; :func:`export_avatar` writes an avatar already in the scene. The
animation covers the scene's frame range (set by ``apply_performance``) at its fps. Audio is
not embedded (neither format carries it): ship the Performance's WAV beside the file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import bpy

from ..core.errors import InputError, OutputError
from ..core.paths import make_readable
from ..core.types import Performance
from .anny_avatar import Avatar, build_avatar
from .retarget import apply_performance

FORMATS = ("fbx", "glb", "gltf")


def _select_only(objects: list[bpy.types.Object]) -> None:
    for obj in bpy.context.view_layer.objects:
        obj.select_set(False)
    for obj in objects:
        obj.hide_set(False)
        obj.select_set(True)
    bpy.context.view_layer.objects.active = objects[0]


def export_avatar(avatar: Avatar, path: str | os.PathLike, fmt: str | None = None) -> Path:
    """Write ``avatar`` (armature, meshes, actions) to ``path`` as FBX or glTF (atomically).

    ``fmt`` defaults to the file's extension: ``fbx``, ``glb`` (binary glTF) or ``gltf``
    (JSON + .bin + textures beside it; not atomic).
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise InputError(f"{path}: export format must be one of {', '.join(FORMATS)}")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: the folder {path.parent} does not exist")
    _select_only([avatar.armature, *[o for o in avatar.objects if o is not avatar.armature]])
    tmp = path if fmt == "gltf" else Path(tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)[1])
    try:
        if fmt == "fbx":
            result = bpy.ops.export_scene.fbx(
                filepath=str(tmp), use_selection=True, object_types={"ARMATURE", "MESH"},
                add_leaf_bones=False, bake_anim=True, bake_anim_use_all_actions=False,
                bake_anim_use_nla_strips=False, bake_anim_simplify_factor=0.0,
                path_mode="COPY", embed_textures=True, axis_forward="-Z", axis_up="Y")
        else:
            result = bpy.ops.export_scene.gltf(
                filepath=str(tmp), export_format="GLB" if fmt == "glb" else "GLTF_SEPARATE",
                use_selection=True, export_animations=True, export_skins=True,
                export_morph=True, export_yup=True)
        if "FINISHED" not in result:
            raise OutputError(f"{path}: Blender's {fmt.upper()} exporter did not finish")
        if tmp != path:
            make_readable(tmp)
            os.replace(tmp, path)
    except BaseException:
        if tmp != path:
            Path(tmp).unlink(missing_ok=True)
        raise
    return path


def export_performance(perf: Performance, path: str | os.PathLike, fmt: str | None = None,
                       *, phenotype=None) -> Path:
    """Build the bundled avatar in an empty scene, animate it with ``perf`` and export it."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    avatar = build_avatar(phenotype)
    apply_performance(avatar, perf, frame_start=1)
    return export_avatar(avatar, path, fmt)
