# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate: script -> speech -> face and body motion -> the avatar's NLA strips.

In the UI the pipeline advances one stage per modal timer tick (status-bar progress, ESC
cancels and leaves the scene as it was). In background mode (``blender -b``, the pip module)
timers never fire, so ``execute`` runs the same steps straight through. With an External Python
in the preferences the stages run in that interpreter instead (a subprocess the modal polls).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import bpy

from ..core.errors import PaksaError
from . import bridge, external, results
from .avatar import why_no_avatar
from .prefs import apply_cache_env, external_python, get_prefs


class PAKSA_OT_generate(bpy.types.Operator):
    """Speak the script and animate the avatar (ESC cancels)"""

    bl_idname = "paksatalker.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}

    _timer = None
    _steps = None
    _proc = None

    @classmethod
    def poll(cls, context):
        p = getattr(context.scene, "paksatalker", None)
        if p is None:
            return False
        reason = (bridge.why_no_script(p) or why_no_avatar(p, context)
                  or bridge.missing(p.speech_backend, context)
                  or bridge.missing(p.face_backend, context)
                  or bridge.missing(p.body_backend, context))
        if reason:
            cls.poll_message_set(reason)
            return False
        return True

    # ---------------------------------------------------------------- the steps
    def _start(self, context) -> None:
        apply_cache_env(context)
        p = context.scene.paksatalker
        r = context.scene.render
        text = bridge.script_text(p)
        settings = bridge.generate_settings(p, r.fps / r.fps_base, context)
        audio = Path(bpy.path.abspath(p.audio_file)) if p.audio_file else None
        python = external_python(get_prefs(context))
        self._steps = self._proc = None
        if python:
            self._npz = Path(tempfile.mkdtemp(prefix="paksatalker-")) / "performance.npz"
            self._proc, self._text_file = external.start(
                python, text, settings, self._npz, brief=p.script_source == "BRIEF",
                audio=audio)
            return
        from ..core import pipeline

        if audio is not None:
            transcript = text if p.script_source != "BRIEF" else None
            self._steps = pipeline.generate_from_audio_steps(audio, transcript, settings)
        else:
            self._steps = pipeline.generate_steps(text, settings)

    def _advance(self, context):
        """One step; returns the Performance when done, else None (progress updated)."""
        wm = context.window_manager
        if self._proc is not None:
            if self._proc.poll() is None and not bpy.app.background:
                return None
            external.finish(self._proc, self._text_file)
            self._proc = None
            from ..core import performance as perf_io

            r = context.scene.render
            return perf_io.load(self._npz, fps=r.fps / r.fps_base)
        try:
            step = next(self._steps)
        except StopIteration as stop:
            return stop.value
        wm.progress_update(int(step.fraction * 100))
        context.scene.paksatalker.status = f"{step.stage}: {step.detail}".rstrip(": ")
        if context.workspace is not None:
            context.workspace.status_text_set(
                f"PaksaTalker: {step.stage} {int(step.fraction * 100)}% (ESC cancels)")
        return None

    def _finish(self, context, perf):
        npz = results.store(perf, context)
        summary = results.place(perf, context, npz)
        context.scene.paksatalker.status = summary
        self.report({"INFO"}, f"PaksaTalker: {summary}")
        return {"FINISHED"}

    def _cleanup(self, context) -> None:
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        wm.progress_end()
        if context.workspace is not None:
            context.workspace.status_text_set(None)
        if self._steps is not None:
            self._steps.close()
        if self._proc is not None:
            self._proc.kill()
            external.finish_quietly(self._proc, self._text_file)
            self._proc = None

    # ---------------------------------------------------------------- entry points
    def execute(self, context):
        context.window_manager.progress_begin(0, 100)
        try:
            self._start(context)
            while (perf := self._advance(context)) is None:
                pass
            return self._finish(context, perf)
        except PaksaError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        finally:
            self._steps = None
            self._cleanup(context)

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

    def modal(self, context, event):
        if event.type == "ESC":
            self._cleanup(context)
            context.scene.paksatalker.status = "Cancelled"
            self.report({"WARNING"}, "PaksaTalker: generation cancelled")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        try:
            perf = self._advance(context)
            if perf is None:
                return {"RUNNING_MODAL"}
            self._steps = None
            self._cleanup(context)
            return self._finish(context, perf)
        except PaksaError as e:
            self._steps = None
            self._cleanup(context)
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}


classes = (PAKSA_OT_generate,)
