# SPDX-License-Identifier: GPL-3.0-or-later
"""Operators: thin translators from the panel to core and the builders.

Generate runs the core pipeline generator: step by step from a modal timer in the UI (ESC
cancels), straight through in background mode (timers never fire there).
"""

from __future__ import annotations

import hashlib

import bpy

from ..core.errors import PaksaError
from . import props as props_mod
from .prefs import apply_cache_env

AVATAR_TAG = "paksatalker_avatar"
SOUND_STRIP = "PaksaTalker Speech"


def _speech_wav(perf) -> str:
    from ..core.audio import write_wav
    from ..core.paths import cache_dir

    digest = hashlib.sha1(perf.speech.samples.tobytes()).hexdigest()[:16]
    path = cache_dir("speech") / f"{digest}.wav"
    if not path.is_file():
        write_wav(path, perf.speech.samples, perf.speech.sample_rate)
    return str(path)


def _find_avatar(scene):
    from ..rigs.anny_avatar import Avatar

    for obj in scene.objects:
        if obj.type == "ARMATURE" and obj.get(AVATAR_TAG):
            return Avatar.from_armature(obj)
    return None


def apply_to_scene(context, perf) -> None:
    """Put ``perf`` on the scene's PaksaTalker avatar (built on first use) with its sound."""
    from ..rigs.anny_avatar import build_avatar
    from ..rigs.retarget import apply_performance

    scene = context.scene
    avatar = _find_avatar(scene)
    if avatar is None:
        avatar = build_avatar()
        avatar.armature[AVATAR_TAG] = True
    apply_performance(avatar, perf, frame_start=1)
    if scene.camera is None:
        from ..scenes.studio import build_scene

        scene.frame_set(1)
        build_scene(scene, focus=avatar.eye_midpoint(), bounds=avatar.bounds())
    wav = _speech_wav(perf)
    if scene.sequence_editor is None:
        scene.sequence_editor_create()
    strips = getattr(scene.sequence_editor, "strips", None)
    if strips is None:  # Blender 4.2
        strips = scene.sequence_editor.sequences
    old = strips.get(SOUND_STRIP)
    if old is not None:
        strips.remove(old)
    strips.new_sound(SOUND_STRIP, wav, channel=1, frame_start=1)
    scene.frame_set(1)  # apply_performance already set the frame range and fps


class PAKSA_OT_generate(bpy.types.Operator):
    """Speak the script and animate the avatar (ESC cancels)"""

    bl_idname = "paksatalker.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}

    _timer = None
    _steps = None

    @classmethod
    def poll(cls, context):
        p = getattr(context.scene, "paksatalker", None)
        if p is None or not p.text.strip():
            cls.poll_message_set("Type a script first")
            return False
        return True

    def _start(self, context):
        from ..core import pipeline

        apply_cache_env(context)
        p = context.scene.paksatalker
        fps = context.scene.render.fps / context.scene.render.fps_base
        self._steps = pipeline.generate_steps(p.text, props_mod.generate_settings(p, fps))

    def _advance(self, context):
        """One pipeline step; returns the Performance when the pipeline has finished."""
        try:
            step = next(self._steps)
        except StopIteration as stop:
            return stop.value
        context.window_manager.progress_update(int(step.fraction * 100))
        return None

    def _finish(self, context, perf):
        apply_to_scene(context, perf)
        self.report({"INFO"}, f"PaksaTalker: {perf.frames} frames, {perf.speech.duration:.1f} s")
        return {"FINISHED"}

    def execute(self, context):
        try:
            self._start(context)
            context.window_manager.progress_begin(0, 100)
            try:
                while (perf := self._advance(context)) is None:
                    pass
            finally:
                context.window_manager.progress_end()
            return self._finish(context, perf)
        except PaksaError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}

    def invoke(self, context, event):
        if bpy.app.background:
            return self.execute(context)
        try:
            self._start(context)
        except PaksaError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        wm = context.window_manager
        wm.progress_begin(0, 100)
        self._timer = wm.event_timer_add(0.05, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def _stop(self, context):
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        wm.progress_end()

    def modal(self, context, event):
        if event.type == "ESC":
            self._stop(context)
            self._steps.close()
            self.report({"WARNING"}, "PaksaTalker: generation cancelled")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        try:
            perf = self._advance(context)
            if perf is None:
                return {"RUNNING_MODAL"}
            self._stop(context)
            return self._finish(context, perf)
        except PaksaError as e:
            self._stop(context)
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}


class PAKSA_OT_render(bpy.types.Operator):
    """Render the animation with its speech to the output file"""

    bl_idname = "paksatalker.render"
    bl_label = "Render Video"

    @classmethod
    def poll(cls, context):
        if not any(o.get(AVATAR_TAG) for o in context.scene.objects):
            cls.poll_message_set("Generate first")
            return False
        return True

    def execute(self, context):
        from ..scenes.render import check_output, render

        scene = context.scene
        try:
            settings = props_mod.render_settings(scene.paksatalker, scene)
            check_output(settings.output)
            strips = scene.sequence_editor.strips if scene.sequence_editor else []
            sound = strips.get(SOUND_STRIP) if strips else None
            if sound is None:
                self.report({"ERROR"}, "No speech in the sequencer: run Generate first")
                return {"CANCELLED"}
            out = render(scene, settings, bpy.path.abspath(sound.sound.filepath))
        except PaksaError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        self.report({"INFO"}, f"PaksaTalker: wrote {out}")
        return {"FINISHED"}


classes = (PAKSA_OT_generate, PAKSA_OT_render)
register, unregister = bpy.utils.register_classes_factory(classes)
