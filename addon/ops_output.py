# SPDX-License-Identifier: GPL-3.0-or-later
"""Render (the animation with its speech to a file) and Export (npz, BVH, FBX, glTF, CSV)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import bpy

from ..core.errors import InputError, PaksaError
from ..rigs import animation
from . import bridge, nla, results
from .avatar import rig_avatar
from .ops_edit import why_no_performance
from .props import EXPORT_FORMATS

SUFFIX = {"npz": ".npz", "bvh": ".bvh", "fbx": ".fbx", "glb": ".glb", "csv": ".csv"}
WRITERS = {"bvh": "core.body.bvh", "csv": "core.face.io", "fbx": "rigs.export",
           "glb": "rigs.export"}
"""The module (another stage's) behind each format; a format whose module is absent shows
disabled with the reason."""


def why_no_format(fmt: str) -> str:
    module = WRITERS.get(fmt)
    root = __package__.rsplit(".", 1)[0]
    if module and importlib.util.find_spec(f"{root}.{module}") is None:
        return f"{fmt.upper()} export needs {module.replace('.', '/')}.py (not installed)"
    return ""


class PAKSA_OT_render(bpy.types.Operator):
    """Render the animation with its speech to the output file (Render section)"""

    bl_idname = "paksatalker.render"
    bl_label = "Render Video"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if not nla.poll_generated(cls, context, "Run Generate first"):
            return False
        if context.scene.camera is None:
            cls.poll_message_set("The scene needs a camera (tick Build Studio and Generate)")
            return False
        return True

    def execute(self, context):
        from ..scenes.render import check_output, render

        scene = context.scene
        try:
            settings = bridge.render_settings(scene.paksatalker, scene)
            check_output(settings.output)
            wav = bpy.path.abspath(nla.our_sound(scene).sound.filepath)
            out = render(scene, settings, wav)
        except PaksaError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        self.report({"INFO"}, f"PaksaTalker: wrote {out}")
        return {"FINISHED"}


class PAKSA_OT_export(bpy.types.Operator):
    """Write the generated performance as a file: Performance npz, BVH, FBX, glTF or ARKit
    CSV (Export section)"""

    bl_idname = "paksatalker.export"
    bl_label = "Export"
    bl_options = {"REGISTER", "UNDO"}

    format: bpy.props.EnumProperty(name="Format", items=EXPORT_FORMATS)
    filepath: bpy.props.StringProperty(name="File", subtype="FILE_PATH", default="")

    @classmethod
    def poll(cls, context):
        if getattr(context.scene, "paksatalker", None) is None:
            return False
        reason = why_no_performance(context)
        if reason:
            cls.poll_message_set(reason)
            return False
        return True

    def execute(self, context):
        p = context.scene.paksatalker
        fmt = self.format if self.properties.is_property_set("format") else p.export_format
        path = self.filepath or p.export_path
        try:
            reason = why_no_format(fmt)
            if reason:
                raise InputError(reason)
            out = Path(bpy.path.abspath(path))
            if out.suffix.lower() != SUFFIX[fmt]:
                out = out.with_name(out.name + SUFFIX[fmt])
            if not out.parent.is_dir():
                raise InputError(f"the folder {out.parent} does not exist")
            written = export(context, fmt, out)
        except PaksaError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        self.report({"INFO"}, f"PaksaTalker: wrote {written}")
        return {"FINISHED"}


def export(context, fmt: str, out: Path) -> Path:
    """Write the scene's Performance as ``fmt`` to ``out`` with the owning stage's writer."""
    perf = results.load(context)
    if fmt == "npz":
        from ..core import performance as perf_io

        return perf_io.save(perf, out)[0]
    if fmt == "bvh":
        from ..core.body.bvh import write_bvh

        return write_bvh(perf.body, out)
    if fmt == "csv":
        from ..core.face.io import write_livelink_csv

        return write_livelink_csv(perf.face, out)
    return _export_scene_avatar(context, fmt, out)


def _export_scene_avatar(context, fmt: str, out: Path) -> Path:
    """FBX/glTF of the avatar in the scene that plays our strips (the active one first): our
    Actions are made active for the exporter, and the previous assignment put back after."""
    from ..rigs.export import export_avatar

    arms = [o for o in context.scene.objects if o.type == "ARMATURE"
            and animation.our_strips(o)]
    if not arms:
        raise InputError("no avatar plays PaksaTalker strips: run Generate or Apply first")
    arm = context.active_object if context.active_object in arms else arms[0]
    avatar = rig_avatar(arm)
    owners = [arm] + [o.data.shape_keys for o in avatar.objects
                      if o.type == "MESH" and o.data.shape_keys is not None]
    saved = []
    for owner in owners:
        strips = animation.our_strips(owner)
        if not strips:
            continue
        saved.append((owner, animation.active_action(owner)))
        strip = strips[0][1]
        anim = owner.animation_data
        anim.action = strip.action
        if getattr(strip, "action_slot", None) is not None:
            anim.action_slot = strip.action_slot
    selected = [o for o in context.view_layer.objects if o.select_get()]
    active = context.view_layer.objects.active
    try:
        return export_avatar(avatar, out, fmt)
    finally:
        for owner, (action, slot) in saved:
            owner.animation_data.action = action
            if action is not None and slot is not None:
                owner.animation_data.action_slot = slot
        for o in context.view_layer.objects:
            o.select_set(o in selected)
        context.view_layer.objects.active = active


classes = (PAKSA_OT_render, PAKSA_OT_export)
