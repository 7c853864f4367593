# SPDX-License-Identifier: GPL-3.0-or-later
"""Scene settings of the panel: one PointerProperty, ``Scene.paksatalker``.

Choices come from the registries and preset tables of core/ and scenes/ (speech, script, face
and body backends, emotions, body styles, lighting, camera and background presets), and the
face life-layer sliders from ``core.settings.FACE_RANGES``, so what other stages add appears
here without edits. Turning these values into core settings is :mod:`.bridge`'s job.
"""

from __future__ import annotations

from dataclasses import fields

import bpy
from bpy.props import (
    BoolProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from ..core.settings import (
    BODY_STYLES,
    FACE_RANGES,
    HANDEDNESS,
    BodySettings,
    FaceSettings,
    ScriptSettings,
    SpeechSettings,
)


def _items(names, descriptions: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    descriptions = descriptions or {}
    return [(n, n.replace("_", " ").title(), descriptions.get(n, "")) for n in names]


# Enum callbacks must keep their item lists alive (Blender holds pointers into the strings).
_cache: dict[str, list] = {}


def _dynamic(key: str, names_fn, first: str = ""):
    """Enum items from ``names_fn()`` at draw time; ``first`` (the stage's default) leads, so an
    unset property means the default."""

    def items(self, context):
        try:
            names = list(names_fn())
        except Exception:  # a registry that fails to import must not break drawing
            names = []
        if first in names:
            names.remove(first)
            names.insert(0, first)
        _cache[key] = _items(names) or [("NONE", "(none)", "Nothing available")]
        return _cache[key]

    return items


def _speech_names():
    from ..core import speech

    auto = getattr(speech, "AUTO", None)  # "auto": the stage picks its best installed backend
    return ([auto] if auto else []) + speech.SPEECH.names()


def _llm_names():
    from ..core.script import SCRIPT

    return [n for n in SCRIPT.names() if n != "markup"]


def _face_names():
    from ..core.face import FACE

    return FACE.names()


def _body_names():
    from ..core.body import BODY

    return BODY.names()


def _emotions():
    from ..core.names import EMOTIONS

    return EMOTIONS


def _presets(module: str, attr: str):
    def names():
        import importlib

        return getattr(importlib.import_module(f"..scenes.{module}", __package__), attr)

    return names


SCRIPT_SOURCES = [
    ("TEXT", "Text", "Type the script here (markup like [happy] and *nod* is allowed)"),
    ("DATABLOCK", "Text Block", "Use a Text datablock from the Text Editor"),
    ("FILE", "File", "Read the script from a UTF-8 text file"),
    ("BRIEF", "Brief (LLM)", "Describe the talk; a language model writes the script"),
]
AVATAR_SOURCES = [
    ("BUNDLED", "Bundled", "The bundled MakeHuman avatar, built with the phenotype below"),
    ("SMPLX", "SMPL-X", "An avatar built from your SMPL-X model file"),
    ("SELECTED", "Selected Rig", "The armature selected in the 3D View (any humanoid rig)"),
    ("FILE", "File", "Import an avatar file (.glb, .gltf, .vrm, .fbx, .blend)"),
]
MARKERS = [
    ("WORDS", "Words", "A timeline marker at every spoken word"),
    ("SENTENCES", "Sentences", "A timeline marker at the start of every sentence"),
    ("NONE", "None", "No timeline markers"),
]
EXPORT_FORMATS = [
    ("npz", "Performance (.npz)", "The whole Performance with its WAV beside (SMPL-X motion, "
     "ARKit face, timings)"),
    ("bvh", "BVH", "Body motion on the SMPL-X skeleton"),
    ("fbx", "FBX", "The avatar with its animation (Blender's FBX exporter)"),
    ("glb", "glTF (.glb)", "The avatar with its animation (Blender's glTF exporter)"),
    ("csv", "ARKit CSV", "Face as a Live Link Face CSV (52 ARKit curves)"),
]
PHENOTYPE_HINTS = {
    "gender": "0 male .. 1 female", "age": "0 baby, 0.5 teen, 0.67 is 25 years, 1 old",
    "weight": "0 thin .. 1 heavy", "height": "0 short .. 1 tall",
    "muscle": "0 soft .. 1 muscular", "proportions": "0 ideal .. 1 uncommon",
    "african": "Share of African traits in the ethnic mix",
    "asian": "Share of Asian traits in the ethnic mix",
    "caucasian": "Share of Caucasian traits in the ethnic mix",
}


def _face_sliders() -> dict[str, FloatProperty]:
    """One slider per FaceSettings range, its tooltip taken from the field's docstring."""
    from ..core.settings import __file__ as settings_file

    docs = _field_docs(settings_file, "FaceSettings")
    out = {}
    for name, (lo, hi) in FACE_RANGES.items():
        out[f"face_{name}"] = FloatProperty(
            name=name.replace("_", " ").title(), description=docs.get(name, ""),
            default=float(getattr(FaceSettings, name)), min=lo, max=hi)
    return out


def _field_docs(path: str, cls: str) -> dict[str, str]:
    """Attribute docstrings of a dataclass (the string under each field), read from source."""
    import ast

    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    except (OSError, SyntaxError, StopIteration):  # no source shipped: sliders without tooltips
        return {}
    docs, last = {}, None
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            last = stmt.target.id
        elif (last and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
              and isinstance(stmt.value.value, str)):
            docs[last] = " ".join(stmt.value.value.split())
            last = None
    return docs


def _phenotype() -> dict[str, FloatProperty]:
    from ..rigs.anny_data import Phenotype

    return {f"pheno_{f.name}": FloatProperty(
        name=f.name.title(), description=PHENOTYPE_HINTS.get(f.name, ""),
        default=float(f.default), min=0.0, max=1.0)
        for f in fields(Phenotype) if isinstance(f.default, float)}


_ANNOTATIONS = {
    # Script
    "script_source": EnumProperty(name="Source", items=SCRIPT_SOURCES, default="TEXT"),
    "text": StringProperty(name="Script", description="What the avatar says; markup like "
                           "[happy], [sad 0.5] and *nod* is allowed",
                           default="Hello! I am your new avatar."),
    "text_block": PointerProperty(name="Text Block", type=bpy.types.Text,
                                  description="Text datablock holding the script"),
    "script_file": StringProperty(name="File", subtype="FILE_PATH",
                                  description="UTF-8 text file holding the script"),
    "brief": StringProperty(name="Brief", description="What the talk is about; the language "
                            "model writes a script of about the target length from it"),
    "llm_backend": EnumProperty(name="Writer", description="Language model backend (endpoint "
                                "and key in the add-on preferences)",
                                items=_dynamic("llm", _llm_names)),
    "duration": FloatProperty(name="Length", description="Target length of the written script",
                              default=ScriptSettings.duration, min=1.0, max=1800.0,
                              subtype="TIME_ABSOLUTE", unit="TIME_ABSOLUTE"),
    "audio_file": StringProperty(name="Recording", subtype="FILE_PATH",
                                 description="Optional: lip-sync this recording instead of "
                                 "synthesising speech (the script is its transcript)"),
    # Voice
    "speech_backend": EnumProperty(name="Backend", description="Speech synthesiser",
                                   items=_dynamic("speech", _speech_names, SpeechSettings.backend)),
    "voice": StringProperty(name="Voice", description="Voice name or id of the backend "
                            "(eSpeak: a language id such as en-us)", default="en-us"),
    "language": StringProperty(name="Language", description="Language id for multilingual "
                               "voices (empty: the voice's own)"),
    "rate": IntProperty(name="Rate", description="Words per minute",
                        default=SpeechSettings.rate, min=80, max=450),
    "pitch": IntProperty(name="Pitch", description="0..100, 50 is the voice's normal pitch",
                         default=SpeechSettings.pitch, min=0, max=100),
    "volume": FloatProperty(name="Volume", description="Gain after loudness normalisation",
                            default=SpeechSettings.volume, min=0.0, max=4.0),
    # Avatar
    "avatar_source": EnumProperty(name="Avatar", items=AVATAR_SOURCES, default="BUNDLED"),
    "smplx_model": StringProperty(name="SMPL-X Model", subtype="FILE_PATH",
                                  description="Your SMPL-X .npz (never bundled)"),
    "avatar_file": StringProperty(name="Avatar File", subtype="FILE_PATH",
                                  description="Humanoid avatar to import"),
    "bone_map": StringProperty(name="Bone Map", subtype="FILE_PATH",
                               description="Optional bone map TOML for rigs with unusual "
                               "bone names (docs/avatars.md)"),
    "root": EnumProperty(name="Root Motion", items=[
        ("in_place", "In Place", "Remove root drift"),
        ("keep", "Keep", "Keep the motion's root translation")], default="in_place"),
    # Performance
    "emotion": EnumProperty(name="Emotion", description="Base emotion (script tags override it)",
                            items=_dynamic("emotion", _emotions, "neutral")),
    "intensity": FloatProperty(name="Intensity", default=0.7, min=0.0, max=1.0,
                               description="Strength of the base emotion"),
    "face_backend": EnumProperty(name="Face", description="Face animation backend",
                                 items=_dynamic("face", _face_names, FaceSettings.backend)),
    "body_backend": EnumProperty(name="Body", description="Body motion backend",
                                 items=_dynamic("body", _body_names, BodySettings.backend)),
    "style": EnumProperty(name="Gesture Style", items=_items(BODY_STYLES),
                          default=BodySettings.style),
    "energy": FloatProperty(name="Gesture Energy", description="0 keeps still, 1 very animated",
                            default=BodySettings.energy, min=0.0, max=1.0),
    "gesture_rate": FloatProperty(name="Gesture Rate", default=BodySettings.gesture_rate,
                                  min=0.0, max=3.0,
                                  description="How many stressed words get a gesture"),
    "amplitude": FloatProperty(name="Amplitude", default=BodySettings.amplitude, min=0.0,
                               max=2.0, description="Gesture size"),
    "handedness": EnumProperty(name="Hand", items=_items(HANDEDNESS),
                               default=BodySettings.handedness),
    "seed": IntProperty(name="Seed", description="Same seed, same blinks, gaze and gestures",
                        default=0, min=0),
    "markers": EnumProperty(name="Markers", items=MARKERS, default="WORDS"),
    # Scene
    "lighting": EnumProperty(name="Lighting", items=_dynamic(
        "lighting", _presets("lighting", "LIGHTINGS"), "three_point")),
    "camera": EnumProperty(name="Camera", items=_dynamic(
        "camera", _presets("camera", "CAMERAS"), "medium")),
    "background": EnumProperty(name="Background", items=_dynamic(
        "background", _presets("background", "BACKGROUNDS"), "gradient")),
    "background_file": StringProperty(name="Background File", subtype="FILE_PATH",
                                      description="Image, video or HDRI for the backgrounds "
                                      "that take one"),
    "build_studio": BoolProperty(name="Build Studio", default=True, description="Light and "
                                 "frame the avatar with the presets (replaces the studio the "
                                 "add-on built before, never your own lights or cameras)"),
    # Render
    "engine": EnumProperty(name="Engine", items=_dynamic(
        "engine", _presets("render", "ENGINES"), "eevee")),
    "samples": IntProperty(name="Samples", description="0: the engine's fast default",
                           default=0, min=0, max=4096),
    "output": StringProperty(name="Output", description="MP4 file, or a folder for PNG frames",
                             subtype="FILE_PATH", default="//paksatalker.mp4"),
    # Export
    "export_format": EnumProperty(name="Format", items=EXPORT_FORMATS, default="npz"),
    "export_path": StringProperty(name="Export To", subtype="FILE_PATH",
                                  default="//paksatalker_export",
                                  description="File to write (the extension is added)"),
    # State (written by the operators)
    "performance": StringProperty(name="Performance", subtype="FILE_PATH",
                                  description="The last generated Performance (.npz)"),
    "status": StringProperty(name="Status"),
}


PAKSA_PG_scene = type("PAKSA_PG_scene", (bpy.types.PropertyGroup,), {
    "__annotations__": {**_ANNOTATIONS, **_face_sliders(), **_phenotype()},
    "__doc__": "PaksaTalker settings of a scene (3D View > Sidebar > PaksaTalker)",
})


classes = (PAKSA_PG_scene,)
_register, _unregister = bpy.utils.register_classes_factory(classes)


def register():
    _register()
    bpy.types.Scene.paksatalker = PointerProperty(type=PAKSA_PG_scene)


def unregister():
    del bpy.types.Scene.paksatalker
    _unregister()
