# SPDX-License-Identifier: GPL-3.0-or-later
"""Scene settings of the panel: one PointerProperty, ``Scene.paksatalker``."""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import (
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from ..core.settings import BodySettings, FaceSettings, GenerateSettings, SpeechSettings

ENGINES = [
    ("eevee", "EEVEE", "Fast rasteriser"),
    ("cycles", "Cycles", "Path tracer (slow on CPU)"),
    ("workbench", "Workbench", "Fastest preview look"),
]


class PAKSA_PG_scene(bpy.types.PropertyGroup):
    text: StringProperty(name="Script", description="What the avatar says; markup like [happy] "
                         "and *nod* is allowed", default="Hello! I am your new avatar.")
    voice: StringProperty(name="Voice", description="eSpeak NG voice or language id",
                          default="en-us")
    rate: IntProperty(name="Rate", description="Words per minute", default=SpeechSettings.rate,
                      min=80, max=450)
    pitch: IntProperty(name="Pitch", default=SpeechSettings.pitch, min=0, max=100)
    seed: IntProperty(name="Seed", description="Same seed, same blinks, gaze and gestures",
                      default=0, min=0)
    energy: FloatProperty(name="Gesture Energy", default=BodySettings.energy, min=0.0, max=1.0)
    blink_rate: FloatProperty(name="Blinks / min", default=FaceSettings.blink_rate, min=0.0,
                              max=40.0)
    engine: EnumProperty(name="Engine", items=ENGINES, default="cycles")
    output: StringProperty(name="Output", description="MP4 file, or a folder for PNG frames",
                           subtype="FILE_PATH", default="//paksatalker.mp4")


def generate_settings(props: PAKSA_PG_scene, fps: float) -> GenerateSettings:
    """The one place panel values become core settings."""
    return GenerateSettings(
        fps=fps,
        speech=SpeechSettings(voice=props.voice, rate=props.rate, pitch=props.pitch),
        face=FaceSettings(seed=props.seed, blink_rate=props.blink_rate),
        body=BodySettings(seed=props.seed, energy=props.energy),
    )


def render_settings(props: PAKSA_PG_scene, scene):
    from ..scenes.render import RenderSettings

    r = scene.render
    fps = r.fps / r.fps_base
    return RenderSettings(engine=props.engine, resolution=(r.resolution_x, r.resolution_y),
                          fps=fps, output=Path(bpy.path.abspath(props.output)))


classes = (PAKSA_PG_scene,)
_register, _unregister = bpy.utils.register_classes_factory(classes)


def register():
    _register()
    bpy.types.Scene.paksatalker = PointerProperty(type=PAKSA_PG_scene)


def unregister():
    del bpy.types.Scene.paksatalker
    _unregister()
