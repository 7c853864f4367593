# SPDX-License-Identifier: GPL-3.0-or-later
"""3D View > Sidebar > PaksaTalker: a main panel with the verbs and one sub-panel per section.

Controls that cannot work yet are drawn disabled with the reason under them (a missing model
path, package, file or selection), so the panel explains itself.
"""

from __future__ import annotations

import bpy

from . import bridge
from .avatar import why_no_avatar
from .ops_edit import why_no_performance
from .ops_output import why_no_format


def _reason(layout, reason: str) -> None:
    if reason:
        layout.label(text=reason, icon="INFO")


class _Section:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "PaksaTalker"

    @classmethod
    def poll(cls, context):
        return getattr(context.scene, "paksatalker", None) is not None


class PAKSA_PT_main(_Section, bpy.types.Panel):
    bl_label = "PaksaTalker"
    bl_idname = "PAKSA_PT_main"

    def draw(self, context):
        p = context.scene.paksatalker
        layout = self.layout
        col = layout.column(align=True)
        col.scale_y = 1.4
        col.operator("paksatalker.generate", icon="PLAY")
        row = layout.row(align=True)
        row.operator("paksatalker.apply", icon="ARMATURE_DATA")
        row.operator("paksatalker.preview", icon="SOUND")
        row = layout.row(align=True)
        row.operator("paksatalker.render", icon="RENDER_ANIMATION")
        row.operator("paksatalker.clear", icon="TRASH")
        if p.status:
            layout.label(text=p.status, icon="INFO")


class PAKSA_PT_script(_Section, bpy.types.Panel):
    bl_label = "Script"
    bl_parent_id = "PAKSA_PT_main"

    def draw(self, context):
        p = context.scene.paksatalker
        layout = self.layout
        layout.prop(p, "script_source", expand=True)
        src = p.script_source
        if src == "TEXT":
            layout.prop(p, "text", text="")
        elif src == "DATABLOCK":
            layout.prop(p, "text_block", text="")
        elif src == "FILE":
            layout.prop(p, "script_file", text="")
        else:
            layout.prop(p, "brief", text="")
            layout.use_property_split = True
            layout.prop(p, "llm_backend")
            layout.prop(p, "duration")
        layout.use_property_split = True
        layout.prop(p, "audio_file")
        _reason(layout, bridge.why_no_script(p))


class PAKSA_PT_voice(_Section, bpy.types.Panel):
    bl_label = "Voice"
    bl_parent_id = "PAKSA_PT_main"

    def draw(self, context):
        p = context.scene.paksatalker
        layout = self.layout
        layout.use_property_split = True
        layout.prop(p, "speech_backend")
        reason = bridge.missing(p.speech_backend, context)
        col = layout.column()
        col.enabled = not reason and not p.audio_file
        row = col.row(align=True)
        row.prop(p, "voice")
        row.operator("paksatalker.choose_voice", text="", icon="VIEWZOOM")
        col.prop(p, "language")
        col.prop(p, "rate")
        col.prop(p, "pitch")
        col.prop(p, "volume")
        _reason(layout, reason or ("The recording is the voice" if p.audio_file else ""))


class PAKSA_PT_avatar(_Section, bpy.types.Panel):
    bl_label = "Avatar"
    bl_parent_id = "PAKSA_PT_main"

    def draw(self, context):
        p = context.scene.paksatalker
        layout = self.layout
        layout.prop(p, "avatar_source", expand=True)
        layout.use_property_split = True
        src = p.avatar_source
        if src == "BUNDLED":
            col = layout.column(align=True)
            for name in p.bl_rna.properties.keys():
                if name.startswith("pheno_"):
                    col.prop(p, name, slider=True)
        elif src == "SMPLX":
            layout.prop(p, "smplx_model")
        elif src == "FILE":
            layout.prop(p, "avatar_file")
            layout.prop(p, "bone_map")
        else:
            obj = context.active_object
            layout.label(text=f"Rig: {obj.name}" if obj and obj.type == "ARMATURE"
                         else "Rig: none selected", icon="ARMATURE_DATA")
        layout.prop(p, "root")
        _reason(layout, why_no_avatar(p, context))


class PAKSA_PT_performance(_Section, bpy.types.Panel):
    bl_label = "Performance"
    bl_parent_id = "PAKSA_PT_main"

    def draw(self, context):
        p = context.scene.paksatalker
        layout = self.layout
        layout.use_property_split = True
        row = layout.row(align=True)
        row.prop(p, "emotion")
        sub = layout.row()
        sub.enabled = p.emotion != "neutral"
        sub.prop(p, "intensity", slider=True)
        layout.prop(p, "face_backend")
        _reason(layout, bridge.missing(p.face_backend, context))
        layout.prop(p, "body_backend")
        _reason(layout, bridge.missing(p.body_backend, context))
        col = layout.column(align=True)
        col.prop(p, "style")
        col.prop(p, "energy", slider=True)
        col.prop(p, "gesture_rate")
        col.prop(p, "amplitude")
        col.prop(p, "handedness")
        layout.label(text="Life Layer")
        col = layout.column(align=True)
        for name in p.bl_rna.properties.keys():
            if name.startswith("face_") and name != "face_backend":
                col.prop(p, name, slider=True)
        layout.prop(p, "seed")
        layout.prop(p, "markers")


class PAKSA_PT_scene(_Section, bpy.types.Panel):
    bl_label = "Scene"
    bl_parent_id = "PAKSA_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        p = context.scene.paksatalker
        layout = self.layout
        layout.use_property_split = True
        layout.prop(p, "build_studio")
        col = layout.column()
        col.enabled = p.build_studio
        col.prop(p, "lighting")
        col.prop(p, "camera")
        col.prop(p, "background")
        col.prop(p, "background_file")


class PAKSA_PT_render(_Section, bpy.types.Panel):
    bl_label = "Render"
    bl_parent_id = "PAKSA_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        p = context.scene.paksatalker
        r = context.scene.render
        layout = self.layout
        layout.use_property_split = True
        layout.prop(p, "engine")
        col = layout.column(align=True)
        col.prop(r, "resolution_x", text="Resolution X")
        col.prop(r, "resolution_y", text="Y")
        layout.prop(r, "fps")
        layout.prop(p, "samples")
        layout.prop(p, "output")


class PAKSA_PT_export(_Section, bpy.types.Panel):
    bl_label = "Export"
    bl_parent_id = "PAKSA_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        p = context.scene.paksatalker
        layout = self.layout
        layout.use_property_split = True
        layout.prop(p, "export_format")
        layout.prop(p, "export_path")
        reason = why_no_format(p.export_format) or why_no_performance(context)
        row = layout.row()
        row.enabled = not why_no_format(p.export_format)
        op = row.operator("paksatalker.export", icon="EXPORT")
        op.format = p.export_format
        _reason(layout, reason)


classes = (PAKSA_PT_main, PAKSA_PT_script, PAKSA_PT_voice, PAKSA_PT_avatar,
           PAKSA_PT_performance, PAKSA_PT_scene, PAKSA_PT_render, PAKSA_PT_export)
register, unregister = bpy.utils.register_classes_factory(classes)
