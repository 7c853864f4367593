# SPDX-License-Identifier: GPL-3.0-or-later
"""Choose Voice: a search pop-up over the voices the selected speech backend offers.

The list is read only when the pop-up opens (a backend may load a model to list its voices),
never while the panel draws.
"""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty

from ..core.errors import PaksaError

_items: list[tuple[str, str, str]] = []  # kept alive while Blender shows them


def _voices(self, context):
    from ..core.speech import list_voices

    p = context.scene.paksatalker
    try:
        voices = list_voices(p.speech_backend)
    except PaksaError as e:
        _items[:] = [("NONE", "(no voices)", str(e))]
        return _items
    _items[:] = [(v.identifier, f"{v.name} ({', '.join(v.languages[:2])})",
                  f"{v.gender}; languages: {', '.join(v.languages)}") for v in voices] or [
        ("NONE", "(no voices)", "The backend lists no voices")]
    return _items


class PAKSA_OT_choose_voice(bpy.types.Operator):
    """Pick a voice of the speech backend from a searchable list"""

    bl_idname = "paksatalker.choose_voice"
    bl_label = "Choose Voice"
    bl_options = {"REGISTER", "UNDO"}
    bl_property = "voice"

    voice: EnumProperty(name="Voice", items=_voices)

    @classmethod
    def poll(cls, context):
        return getattr(context.scene, "paksatalker", None) is not None

    def invoke(self, context, event):
        context.window_manager.invoke_search_popup(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        if self.voice == "NONE":
            self.report({"ERROR"}, "No voice to choose: check the backend in the Voice section")
            return {"CANCELLED"}
        context.scene.paksatalker.voice = self.voice
        return {"FINISHED"}


classes = (PAKSA_OT_choose_voice,)
