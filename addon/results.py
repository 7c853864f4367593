# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep a generated Performance on disk and put it into the scene as editable data."""

from __future__ import annotations

import hashlib
from pathlib import Path

import bpy

from ..core import performance as perf_io
from ..core.errors import InputError
from ..core.types import Performance
from ..scenes.background import check_file
from . import nla
from .avatar import target_avatar
from .bridge import scene_settings
from .prefs import apply_cache_env

FPS_PROP = "paksatalker_fps"
"""Scene custom property: the frame rate our strips were keyed at (Preview restores it)."""


def store(perf: Performance, context) -> Path:
    """Save ``perf`` (npz + wav) in the cache, named by its content; returns the npz path."""
    apply_cache_env(context)
    from ..core.paths import cache_dir

    digest = hashlib.sha1(perf.speech.samples.tobytes())
    digest.update(perf.body.poses.tobytes())
    digest.update(perf.face.arkit.tobytes())
    path = cache_dir("performances") / f"{digest.hexdigest()[:16]}.npz"
    if not path.is_file():
        perf_io.save(perf, path)
    return path


def load(context) -> Performance:
    """The scene's last generated Performance at the scene's fps; InputError when none."""
    p = context.scene.paksatalker
    path = Path(bpy.path.abspath(p.performance)) if p.performance else None
    if path is None or not path.is_file():
        raise InputError("no generated performance: run Generate first")
    r = context.scene.render
    return perf_io.load(path, fps=r.fps / r.fps_base)


def place(perf: Performance, context, npz: Path) -> str:
    """Put ``perf`` on the panel's avatar: NLA strips, sound strip, markers, frame range, and
    (optionally) the studio. Returns a one-line summary."""
    scene = context.scene
    p = scene.paksatalker
    studio = scene_settings(p, scene) if p.build_studio else None  # bad presets fail first
    if studio is not None:
        check_file(studio.background, studio.background_file)
    avatar, new = target_avatar(p, context, betas=perf.body.betas)
    report = nla.animate(avatar, perf, start=1, root=p.root)
    nla.set_sound(scene, str(npz.with_suffix(".wav")), start=1)
    count = nla.set_markers(scene, perf, p.markers, start=1)
    scene.frame_set(1)
    if studio is not None and (new or scene.camera is None or _our_camera(scene)):
        from ..scenes.camera import follow_bone
        from ..scenes.studio import build_scene

        objects = build_scene(scene, focus=avatar.eye_midpoint(), bounds=avatar.bounds(),
                              settings=studio)
        follow_bone(objects["focus"], avatar.armature, avatar.head_bone)
    p.performance = str(npz)
    scene[FPS_PROP] = float(perf.fps)
    return (f"{avatar.armature.name}: {perf.frames} frames, {perf.speech.duration:.1f} s, "
            f"{count} markers; {report}")


def _our_camera(scene) -> bool:
    from ..scenes.background import ROLE

    return scene.camera is not None and bool(scene.camera.get(ROLE))
