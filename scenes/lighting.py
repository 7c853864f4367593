# SPDX-License-Identifier: GPL-3.0-or-later
"""Lighting presets: named rigs of area and sun lights aimed at the character.

Each light is placed by azimuth/elevation around a target (the eyes), at a distance and size that
scale with the character, powered for a chosen irradiance at the target (so every preset exposes a
face alike under AgX at exposure 0) and coloured by a black-body temperature in Kelvin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import bpy
from mathutils import Vector

LIGHTINGS = (
    "three_point",
    "soft_studio",
    "window_daylight",
    "sunset",
    "dramatic",
    "news_desk",
)
ALIASES = {"soft": "soft_studio"}
"""Older names still accepted."""

KEY_IRRADIANCE = 3.0
"""W/m^2 at the eyes from the key (power of an area light seen face-on at r: E * pi * r^2)."""
SUN_STRENGTH = 3.0
"""Sun strength (W/m^2) for a relative irradiance of 1."""


@dataclass(frozen=True)
class LightSpec:
    """One light of a preset, for a 1.7 m character."""

    role: str
    azimuth: float
    """Degrees around the character from the camera side; negative is camera-left (-X)."""
    elevation: float
    """Degrees above the target."""
    distance: float
    """Metres (ignored by suns)."""
    size: float
    """Edge of the square area light (m), or a sun's angular diameter (degrees)."""
    irradiance: float
    """At the target, relative to KEY_IRRADIANCE."""
    kelvin: float
    """Colour temperature."""
    kind: str = "AREA"


_L = LightSpec
PRESETS: dict[str, tuple[LightSpec, ...]] = {
    "three_point": (
        _L("key", -45, 35, 1.7, 1.0, 1.0, 5200),
        _L("fill", 55, 5, 2.0, 1.6, 0.12, 6500),
        _L("rim", 140, 30, 1.6, 0.6, 3.0, 5600),
    ),
    "soft_studio": (
        _L("key", -30, 20, 1.8, 2.4, 0.9, 5400),
        _L("fill", 35, 5, 1.8, 2.4, 0.5, 6000),
        _L("rim", 160, 35, 1.8, 1.2, 0.4, 5600),
    ),
    "window_daylight": (
        _L("key", -80, 10, 1.5, 2.5, 1.1, 6800),  # a big window to camera-left
        _L("fill", 60, 0, 2.5, 3.0, 0.08, 4200),  # warm room bounce
        _L("sky", 0, 70, 0, 8.0, 0.15, 9000, "SUN"),
    ),
    "sunset": (
        _L("key", -70, 6, 0, 2.0, 1.1, 2600, "SUN"),  # low orange sun
        _L("fill", 40, 30, 2.2, 2.5, 0.15, 9500),  # blue sky fill
        _L("rim", 150, 10, 1.6, 0.8, 1.5, 2900),
    ),
    "dramatic": (
        _L("key", -95, 25, 1.4, 0.5, 1.2, 4800),  # hard side light, no fill
        _L("rim", 150, 40, 1.6, 0.4, 2.5, 7000),
    ),
    "news_desk": (
        _L("key", -20, 25, 2.2, 1.8, 1.0, 5600),  # bright, even, frontal
        _L("fill", 25, 20, 2.2, 1.8, 0.8, 5600),
        _L("rim", 180, 45, 1.8, 1.0, 1.2, 5600),
        _L("under", 0, -15, 2.0, 1.5, 0.2, 5600),
    ),
}


def resolve(name: str) -> str:
    """Canonical preset name (aliases mapped); unknown names pass through for validation."""
    return ALIASES.get(name, name)


def kelvin_rgb(kelvin: float) -> tuple[float, float, float]:
    """Approximate linear-RGB colour of a black body at ``kelvin`` (1000..40000), max channel 1.

    Planck's law integrated against rough Gaussian fits of the sRGB primaries' sensitivities: good
    enough to tint a light when the engine has no temperature option (Blender 5.0 has one).
    """
    k = min(max(kelvin, 1000.0), 40000.0)
    c2 = 1.4388e-2  # m*K
    out = []
    for centre, width in ((600e-9, 45e-9), (550e-9, 40e-9), (455e-9, 30e-9)):
        total = 0.0
        for i in range(-3, 4):
            lam = centre + i * width / 2
            weight = math.exp(-0.5 * (i / 2) ** 2)
            total += weight * lam**-5 / math.expm1(c2 / (lam * k))
        out.append(total)
    ref = max(out)
    return tuple(v / ref for v in out)


def _set_temperature(light: bpy.types.Light, kelvin: float) -> None:
    if hasattr(light, "use_temperature"):
        light.use_temperature = True
        light.temperature = kelvin
        light.color = (1.0, 1.0, 1.0)
    else:
        light.color = kelvin_rgb(kelvin)


def _aim(obj: bpy.types.Object, target: Vector) -> None:
    """Point the object's -Z axis at ``target`` with +Y up."""
    obj.rotation_euler = (target - obj.location).to_track_quat("-Z", "Y").to_euler()


def build_lights(
    add,
    preset: str,
    target: Vector,
    scale: float,
    *,
    intensity: float = 1.0,
    softness: float = 1.0,
    temperature: float | None = None,
) -> dict[str, bpy.types.Object]:
    """Create the lights of ``preset`` around ``target``; return them by role.

    ``add(role, data)`` links a new object (the studio's collection helper). ``scale`` is the
    character's height / 1.7 m. ``intensity`` multiplies every light, ``softness`` their sizes
    (bigger lights, softer shadows), ``temperature`` overrides the key's Kelvin.
    """
    lights = {}
    for spec in PRESETS[resolve(preset)]:
        az, el = math.radians(spec.azimuth), math.radians(spec.elevation)
        ce = math.cos(el)
        direction = Vector((math.sin(az) * ce, -math.cos(az) * ce, math.sin(el)))
        light = bpy.data.lights.new(f"PT_{spec.role.title()}", spec.kind)
        if spec.kind == "SUN":
            light.energy = spec.irradiance * SUN_STRENGTH * intensity
            light.angle = math.radians(min(180.0, spec.size * softness))
            r = 3.0 * scale  # suns only need a direction; keep them near for the viewport
        else:
            r = spec.distance * scale
            light.shape = "SQUARE"
            light.size = spec.size * scale * softness
            light.energy = spec.irradiance * KEY_IRRADIANCE * math.pi * r * r * intensity
        kelvin = temperature if (temperature and spec.role == "key") else spec.kelvin
        _set_temperature(light, kelvin)
        light.use_shadow = True
        obj = add(spec.role, light)
        obj.location = target + r * direction
        _aim(obj, target)
        obj.visible_camera = False
        lights[spec.role] = obj
    return lights


def ambient_occlusion(scene: bpy.types.Scene, on: bool, scale: float) -> None:
    """Contact shadows where the engine has them: EEVEE's horizon scan, Workbench cavity.

    Cycles traces real occlusion; its AO distance (for the AO pass) is set to the character's
    scale. ``scale`` is the character's height / 1.7 m.
    """
    if hasattr(scene.eevee, "use_fast_gi"):
        scene.eevee.use_fast_gi = on
        scene.eevee.fast_gi_distance = 0.5 * scale
    shading = scene.display.shading
    shading.show_cavity = on
    shading.cavity_type = "WORLD"
    if scene.world is not None:
        scene.world.light_settings.distance = 0.5 * scale
