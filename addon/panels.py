# SPDX-License-Identifier: GPL-3.0-or-later
"""3D View > Sidebar > PaksaTalker."""

from __future__ import annotations

import bpy


class PAKSA_PT_main(bpy.types.Panel):
    bl_label = "PaksaTalker"
    bl_idname = "PAKSA_PT_main"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "PaksaTalker"

    def draw(self, context):
        p = context.scene.paksatalker
        layout = self.layout
        layout.use_property_split = True
        box = layout.box()
        box.label(text="Script", icon="TEXT")
        box.prop(p, "text", text="")
        box = layout.box()
        box.label(text="Voice", icon="SPEAKER")
        box.prop(p, "voice")
        row = box.row(align=True)
        row.prop(p, "rate")
        row.prop(p, "pitch")
        box = layout.box()
        box.label(text="Performance", icon="ARMATURE_DATA")
        box.prop(p, "energy")
        box.prop(p, "blink_rate")
        box.prop(p, "seed")
        layout.operator("paksatalker.generate", icon="PLAY")
        box = layout.box()
        box.label(text="Render", icon="RENDER_ANIMATION")
        box.prop(p, "engine")
        box.prop(p, "output")
        layout.operator("paksatalker.render", icon="RENDER_ANIMATION")


classes = (PAKSA_PT_main,)
register, unregister = bpy.utils.register_classes_factory(classes)
