# SPDX-License-Identifier: GPL-3.0-or-later
"""Apply to Avatar, Preview and Clear: working with the generated Performance in the scene."""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import BoolProperty

from ..core.errors import PaksaError
from . import nla, results
from .avatar import AVATAR_TAG, why_no_avatar


def why_no_performance(context) -> str:
    p = context.scene.paksatalker
    if not p.performance or not Path(bpy.path.abspath(p.performance)).is_file():
        return "Run Generate first"
    return ""


class PAKSA_OT_apply(bpy.types.Operator):
    """Put the generated performance on the avatar chosen in the Avatar section (the selected
    rig, the bundled, SMPL-X or imported avatar) as NLA strips, with its sound and markers"""

    bl_idname = "paksatalker.apply"
    bl_label = "Apply to Avatar"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        p = getattr(context.scene, "paksatalker", None)
        reason = "" if p is None else (why_no_performance(context)
                                       or why_no_avatar(p, context))
        if p is None or reason:
            cls.poll_message_set(reason or "PaksaTalker is not enabled")
            return False
        return True

    def execute(self, context):
        try:
            perf = results.load(context)
            npz = Path(bpy.path.abspath(context.scene.paksatalker.performance))
            summary = results.place(perf, context, npz)
        except PaksaError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        context.scene.paksatalker.status = summary
        self.report({"INFO"}, f"PaksaTalker: {summary}")
        return {"FINISHED"}


class PAKSA_OT_preview(bpy.types.Operator):
    """Play the animation with its speech in the viewport (frame range, fps and audio sync
    set from the generated performance)"""

    bl_idname = "paksatalker.preview"
    bl_label = "Preview"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return nla.poll_generated(cls, context, "Run Generate (or Apply to Avatar) first")

    def execute(self, context):
        scene = context.scene
        fps = scene.get(results.FPS_PROP)
        if fps:  # the strips were keyed at this rate; the sound is in seconds
            whole = max(1, round(fps))
            scene.render.fps, scene.render.fps_base = whole, whole / fps
        sound = nla.our_sound(scene)
        start = int(sound.frame_final_start)
        scene.frame_start = start
        scene.frame_end = max(start, int(sound.frame_final_end) - 1)
        scene.sync_mode = "AUDIO_SYNC"
        scene.frame_set(start)
        screen = context.screen
        if bpy.app.background or screen is None:
            self.report({"INFO"}, "PaksaTalker: preview range set (no viewport to play in)")
        elif not screen.is_animation_playing:
            bpy.ops.screen.animation_play()
        return {"FINISHED"}


class PAKSA_OT_clear(bpy.types.Operator):
    """Remove what PaksaTalker made: its NLA strips and Actions, the speech strip and its
    markers (your own actions, strips and markers stay)"""

    bl_idname = "paksatalker.clear"
    bl_label = "Clear"
    bl_options = {"REGISTER", "UNDO"}

    remove_avatar: BoolProperty(
        name="Remove Avatar and Studio", default=False,
        description="Also delete the avatars and the studio (lights, camera, backdrop) the "
        "add-on built or imported")

    @classmethod
    def poll(cls, context):
        return getattr(context.scene, "paksatalker", None) is not None

    def execute(self, context):
        scene = context.scene
        strips = nla.clear_animation(list(scene.objects))
        sound = nla.clear_sound(scene)
        markers = nla.clear_markers(scene)
        removed = _remove_built(scene) if self.remove_avatar else 0
        scene.paksatalker.status = ""
        self.report({"INFO"}, f"PaksaTalker: removed {strips} strip(s), "
                    f"{int(sound)} sound strip, {markers} marker(s), {removed} object(s)")
        return {"FINISHED"}


def _remove_built(scene) -> int:
    from ..rigs.anny_avatar import PART
    from ..scenes.background import ROLE

    arms = [o for o in scene.objects if o.type == "ARMATURE" and o.get(AVATAR_TAG)]
    doomed = {o for o in scene.objects if o.get(ROLE) or o.get(PART)}
    for arm in arms:
        doomed.add(arm)
        doomed.update(o for o in scene.objects if o.parent is arm or any(
            m.type == "ARMATURE" and m.object is arm for m in getattr(o, "modifiers", ())))
    for obj in doomed:
        bpy.data.objects.remove(obj, do_unlink=True)
    return len(doomed)


classes = (PAKSA_OT_apply, PAKSA_OT_preview, PAKSA_OT_clear)
