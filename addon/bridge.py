# SPDX-License-Identifier: GPL-3.0-or-later
"""The one place panel values (``Scene.paksatalker`` + preferences) become core settings, and
where the panel learns why something cannot run yet (:func:`missing`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import bpy

from ..core.errors import InputError
from ..core.settings import (
    FACE_RANGES,
    BodySettings,
    FaceSettings,
    GenerateSettings,
    ScriptSettings,
    SpeechSettings,
)
from .prefs import external_python, get_prefs

# Packages a backend imports, and preference/model paths it cannot run without. Backends not
# listed here are assumed to need nothing extra (the stage raises a BackendError if they do).
NEEDS_PACKAGES = {
    "kokoro": ("onnxruntime",), "coqui": ("TTS",), "piper": ("piper", "onnxruntime"),
    "qwen-local": ("torch", "transformers"), "sadtalker": ("torch",), "emage": (),
}
NEEDS_PATHS = {
    "coqui": ("tts_model", "Voice Model"), "piper": ("tts_model", "Voice Model"),
    "openai": ("llm_endpoint", "LLM Endpoint"), "qwen-local": ("qwen_model", "Qwen Model"),
    "sadtalker": ("sadtalker_checkpoint", "SadTalker Checkpoint"),
    "emage": ("emage_dir", "EMAGE Folder"),
}


def _path(value: str) -> Path:
    return Path(bpy.path.abspath(value))


def missing(backend: str, context=None) -> str:
    """Why ``backend`` cannot run here ("" when it can): a model path unset in the
    preferences, or a package Blender's Python lacks (and no external Python is set)."""
    prefs = get_prefs(context)
    need = NEEDS_PATHS.get(backend)
    if need is not None and not (prefs and getattr(prefs, need[0])):
        return f"Set {need[1]} in the add-on preferences"
    if backend == "openai" and not _local(prefs.llm_endpoint) and not getattr(
            bpy.app, "online_access", True):
        return "Allow Online Access (Preferences > System) to reach the LLM endpoint"
    if prefs is not None and external_python(prefs):
        return ""
    for pkg in NEEDS_PACKAGES.get(backend, ()):
        if importlib.util.find_spec(pkg) is None:
            return f"Needs the '{pkg}' package (or an External Python in the preferences)"
    return ""


def _local(url: str) -> bool:
    from urllib.parse import urlparse

    return (urlparse(url).hostname or "") in ("localhost", "127.0.0.1", "::1")


def script_text(p) -> str:
    """The script (or, for source BRIEF, the brief) the panel points at; InputError if empty."""
    src = p.script_source
    if src == "TEXT":
        text = p.text
    elif src == "DATABLOCK":
        if p.text_block is None:
            raise InputError("choose a Text datablock in the Script section")
        text = p.text_block.as_string()
    elif src == "FILE":
        path = _path(p.script_file)
        if not p.script_file or not path.is_file():
            raise InputError(f"script file not found: {path}")
        text = path.read_text(encoding="utf-8")
    else:
        text = p.brief
    if not text.strip():
        raise InputError("the script is empty: type one in the Script section")
    if src != "BRIEF" and p.emotion != "neutral":  # a base emotion; the script's tags win
        text = f"[{p.emotion} {p.intensity:.2f}] {text}"
    return text


def why_no_script(p) -> str:
    """The reason Generate cannot start from the Script section ("" when it can)."""
    try:
        script_text(p)
    except InputError as e:
        return str(e)
    if p.script_source == "BRIEF":
        return missing(p.llm_backend)
    return ""


def generate_settings(p, fps: float, context=None) -> GenerateSettings:
    """Core settings for Generate from the panel and the preferences."""
    prefs = get_prefs(context)

    def pref(name: str) -> str:
        value = getattr(prefs, name, "") if prefs else ""
        return bpy.path.abspath(value) if value and name != "llm_endpoint" else value

    llm = p.llm_backend if p.script_source == "BRIEF" else "markup"
    script = ScriptSettings(
        endpoint=pref("qwen_model") if llm == "qwen-local" else pref("llm_endpoint"),
        model=pref("llm_model"), api_key_env=prefs.llm_key_env if prefs else "",
        duration=p.duration, language=p.language, seed=p.seed)
    speech = SpeechSettings(backend=p.speech_backend, voice=p.voice, rate=p.rate,
                            pitch=p.pitch, volume=p.volume, language=p.language,
                            model=pref("tts_model"), config=pref("tts_config"))
    sliders = {name: getattr(p, f"face_{name}") for name in FACE_RANGES}
    face = FaceSettings(backend=p.face_backend, seed=p.seed, flame_model=pref("flame_model"),
                        sadtalker_checkpoint=pref("sadtalker_checkpoint"),
                        bfm_model=pref("bfm_model"), **sliders)
    body = BodySettings(backend=p.body_backend, seed=p.seed, energy=p.energy,
                        gesture_rate=p.gesture_rate, amplitude=p.amplitude,
                        handedness=p.handedness, style=p.style, root=p.root,
                        emage_dir=pref("emage_dir"))
    return GenerateSettings(fps=fps, script_backend=llm, script=script, speech=speech,
                            face=face, body=body)


def scene_settings(p, scene):
    """Studio presets (lighting, camera, background) for scenes.studio.build_scene; the file is
    passed only to the backgrounds that take one."""
    from ..scenes.studio import SceneSettings

    r = scene.render
    aspect = "9:16" if r.resolution_y > r.resolution_x * 1.2 else (
        "1:1" if abs(r.resolution_x - r.resolution_y) < 0.2 * r.resolution_x else "16:9")
    from ..scenes.background import NEEDS_FILE

    takes_file = p.background in NEEDS_FILE + ("hdri",)
    bg_file = _path(p.background_file) if p.background_file and takes_file else None
    return SceneSettings(lighting=p.lighting, camera=p.camera, background=p.background,
                         background_file=bg_file, aspect=aspect, seed=p.seed)


def render_settings(p, scene):
    """Render settings; the frames are the scene's frame range (Preview sets it to the speech)."""
    from ..scenes.render import RenderSettings

    r = scene.render
    return RenderSettings(engine=p.engine, resolution=(r.resolution_x, r.resolution_y),
                          fps=r.fps / r.fps_base, samples=p.samples or None,
                          frames=(max(1, scene.frame_start), max(1, scene.frame_end)),
                          output=_path(p.output))


def phenotype(p):
    from dataclasses import fields

    from ..rigs.anny_data import Phenotype

    return Phenotype(**{f.name: getattr(p, f"pheno_{f.name}") for f in fields(Phenotype)
                        if hasattr(p, f"pheno_{f.name}")})
