# SPDX-License-Identifier: GPL-3.0-or-later
"""A portrait studio around a character: area lights, a framed camera with depth of field, and a
gradient background.

Conventions: the character stands on z=0 and faces -Y; the camera looks at it from -Y. Sizes and
distances scale with the character, and light powers scale with distance squared, so a child, an
adult and a giant are lit alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import bpy
from mathutils import Vector

from ..core.errors import InputError
from ..shaders.materials import TreeBuilder

LIGHTINGS = ("three_point", "soft")
CAMERAS = ("close_up", "medium", "full_body")
BACKGROUNDS = ("gradient", "transparent")

ROLE = "paksatalker_role"
COLLECTION = "PT_Studio"
WORLD = "PT_Studio_World"

# 16:9 crop of a full-frame sensor: focal lengths read as 35 mm equivalents.
SENSOR_W, SENSOR_H = 36.0, 20.25
HUMAN = 1.7
"""Reference character height (m) for light distances and sizes."""

# Irradiance per unit power of an area light seen face-on at distance r is 1 / (pi r^2): a key
# irradiance of KEY_IRRADIANCE gives a well exposed face under AgX at exposure 0.
KEY_IRRADIANCE = 3.0


@dataclass(frozen=True)
class SceneSettings:
    """How the studio looks; validated on creation (:class:`InputError` with the choices)."""

    lighting: str = "three_point"
    """``three_point`` (key, fill, rim) or ``soft`` (two large boxes, faint rim)."""
    camera: str = "medium"
    """``close_up`` (head and shoulders), ``medium`` (head to waist), ``full_body``."""
    background: str = "gradient"
    """``gradient`` (seen by the camera) or ``transparent`` (film alpha; gradient still lights)."""
    dof: bool = True
    fstop: float = 2.8
    bg_top: tuple[float, float, float] = (0.045, 0.055, 0.075)
    """Linear RGB at the top of the frame."""
    bg_bottom: tuple[float, float, float] = (0.16, 0.17, 0.19)
    """Linear RGB at the bottom of the frame."""

    def __post_init__(self) -> None:
        for field, value, allowed in (
            ("lighting", self.lighting, LIGHTINGS),
            ("camera", self.camera, CAMERAS),
            ("background", self.background, BACKGROUNDS),
        ):
            if value not in allowed:
                raise InputError(f"unknown {field} {value!r}; choose one of {', '.join(allowed)}")
        if not 0.5 <= self.fstop <= 64:
            raise InputError(f"f-stop must be 0.5..64, got {self.fstop}")
        for field, rgb in (("bg_top", self.bg_top), ("bg_bottom", self.bg_bottom)):
            if len(rgb) != 3 or not all(0.0 <= c <= 1.0 for c in rgb):
                raise InputError(f"{field} must be three numbers 0..1, got {rgb!r}")
            object.__setattr__(self, field, tuple(float(c) for c in rgb))


@dataclass(frozen=True)
class _Light:
    role: str
    azimuth: float
    """Degrees around the character from the camera side; negative is camera-left (-X)."""
    elevation: float
    """Degrees above the target (the eyes; mid-body for a full-body shot)."""
    distance: float
    """Metres for a HUMAN-tall character."""
    size: float
    """Edge of the square light (m) for a HUMAN-tall character."""
    irradiance: float
    """At the target, as a fraction of KEY_IRRADIANCE."""
    color: tuple[float, float, float]


_RIGS = {
    "three_point": (
        _Light("key", -45, 35, 1.7, 1.0, 1.0, (1.0, 0.95, 0.88)),
        _Light("fill", 55, 5, 2.0, 1.6, 0.12, (0.88, 0.94, 1.0)),
        _Light("rim", 140, 30, 1.6, 0.6, 3.0, (1.0, 0.98, 0.95)),
    ),
    "soft": (
        _Light("key", -30, 20, 1.8, 2.0, 0.9, (1.0, 0.96, 0.9)),
        _Light("fill", 35, 5, 1.8, 2.0, 0.5, (0.92, 0.95, 1.0)),
        _Light("rim", 160, 35, 1.8, 1.0, 0.4, (1.0, 1.0, 1.0)),
    ),
}

# Focal length (mm, 35 mm equivalent) per framing: longer lenses flatter faces in close-ups.
_LENS = {"close_up": 85.0, "medium": 70.0, "full_body": 50.0}


def _frame_span(camera: str, focus, bounds) -> tuple[float, float, float]:
    """Vertical framing at the focus plane: ``(centre_x, centre_z, height)`` in metres.

    Close-up and medium shots put the eyes a third from the top of the frame and keep the crown
    inside; the medium shot reaches down to about the waist. Full body fits the whole box.
    """
    (x0, _, z0), (x1, _, z1) = bounds
    height = z1 - z0
    eye = focus[2]
    crown = max(z1 - eye, 0.03 * height)
    if camera == "full_body":
        span = max(1.16 * height, 1.15 * (x1 - x0) * SENSOR_H / SENSOR_W)
        return focus[0], z0 + 0.52 * height, span
    if camera == "close_up":
        span = 4.5 * crown
    else:
        waist = z0 + 0.58 * height
        span = max(1.5 * (eye - waist), 6.0 * crown)
    # The crown stays 5 % of the frame below the top edge.
    span = max(span, crown / (1.0 / 3.0 - 0.05))
    return focus[0], eye - span / 6.0, span


def _check_geometry(focus, bounds) -> None:
    try:
        lo, hi = (Vector(b) for b in bounds)
        eye = Vector(focus)
    except (TypeError, ValueError) as err:
        raise InputError(f"bounds must be two (x, y, z) points and focus one: {err}") from err
    if len(lo) != 3 or len(eye) != 3 or not all(h > low for h, low in zip(hi, lo, strict=True)):
        raise InputError(f"bounds must be (min xyz, max xyz) with max > min, got {bounds!r}")
    if not lo.z <= eye.z <= hi.z:
        raise InputError(f"focus height {eye.z:.3f} is outside the bounds {lo.z:.3f}..{hi.z:.3f}")


def _collection(scene: bpy.types.Scene) -> bpy.types.Collection:
    """Our studio collection in ``scene``, emptied of the objects a previous build made."""
    coll = bpy.data.collections.get(COLLECTION)
    if coll is None or coll.get(ROLE) != COLLECTION:
        coll = bpy.data.collections.new(COLLECTION)
        coll[ROLE] = COLLECTION
    if coll.name not in scene.collection.children:
        scene.collection.children.link(coll)
    for obj in list(coll.objects):
        if obj.get(ROLE):
            data = obj.data
            bpy.data.objects.remove(obj)
            if data is not None and data.users == 0:
                if isinstance(data, bpy.types.Light):
                    bpy.data.lights.remove(data)
                elif isinstance(data, bpy.types.Camera):
                    bpy.data.cameras.remove(data)
    return coll


def _add(coll, role: str, data) -> bpy.types.Object:
    obj = bpy.data.objects.new(f"PT_{role.title()}", data)
    obj[ROLE] = role
    coll.objects.link(obj)
    return obj


def _aim(obj: bpy.types.Object, target: Vector) -> None:
    """Point the object's -Z axis (lights, cameras) at ``target`` with +Y up."""
    obj.rotation_euler = (target - obj.location).to_track_quat("-Z", "Y").to_euler()


def _lights(coll, rig: str, target: Vector, scale: float) -> dict[str, bpy.types.Object]:
    """Area lights placed around and aimed at ``target``, powered for their irradiance there."""
    lights = {}
    for spec in _RIGS[rig]:
        az, el = math.radians(spec.azimuth), math.radians(spec.elevation)
        r = spec.distance * scale
        light = bpy.data.lights.new(f"PT_{spec.role.title()}", "AREA")
        light.shape = "SQUARE"
        light.size = spec.size * scale
        light.color = spec.color
        light.energy = spec.irradiance * KEY_IRRADIANCE * math.pi * r * r
        light.use_shadow = True
        obj = _add(coll, spec.role, light)
        offset = Vector((math.sin(az) * math.cos(el), -math.cos(az) * math.cos(el), math.sin(el)))
        obj.location = target + r * offset
        _aim(obj, target)
        obj.visible_camera = False
        lights[spec.role] = obj
    return lights


def _camera(coll, settings: SceneSettings, focus: Vector, bounds) -> dict[str, bpy.types.Object]:
    cx, cz, span = _frame_span(settings.camera, focus, bounds)
    cam = bpy.data.cameras.new("PT_Camera")
    cam.lens = _LENS[settings.camera]
    cam.sensor_fit = "VERTICAL"
    cam.sensor_width, cam.sensor_height = SENSOR_W, SENSOR_H
    # The focus plane holds `span` metres vertically: distance = span/2 * lens / (sensor/2).
    distance = span * cam.lens / SENSOR_H
    cam.clip_start = max(0.01, 0.05 * distance)
    cam.clip_end = 10.0 * distance
    obj = _add(coll, "camera", cam)
    # Level camera (no tilt) so verticals stay vertical; framing comes from its height.
    obj.location = (cx, focus.y - distance, cz)
    obj.rotation_euler = (math.pi / 2, 0.0, 0.0)
    target = _add(coll, "focus", None)
    target.empty_display_size = 0.05 * span
    target.location = focus
    cam.dof.use_dof = settings.dof
    cam.dof.focus_object = target
    cam.dof.aperture_fstop = settings.fstop
    return {"camera": obj, "focus": target}


def _world(scene: bpy.types.Scene, settings: SceneSettings) -> None:
    """Gradient in screen space for camera rays; a dim average of it lights the scene."""
    world = next((w for w in bpy.data.worlds if w.get(ROLE) == WORLD), None)
    if world is None:
        world = bpy.data.worlds.new(WORLD)
        world[ROLE] = WORLD
    if bpy.app.version < (5, 0, 0):
        world.use_nodes = True
    top, bottom = Vector(settings.bg_top), Vector(settings.bg_bottom)
    ambient = 0.5 * (top + bottom)
    world.color = ambient  # Workbench shows this.
    world.node_tree.nodes.clear()
    t = TreeBuilder(world.node_tree)
    window = t.add("ShaderNodeTexCoord", -1000, 0).outputs["Window"]
    xyz = t.add("ShaderNodeSeparateXYZ", -800, 0, {0: window})
    gradient = t.ramp(-550, 150, xyz.outputs[1], [(0.0, bottom), (1.0, top)])
    # A soft pool of light on the backdrop behind the head.
    centre = t.add("ShaderNodeCombineXYZ", -800, -250, {0: 0.5, 1: 0.62})
    dist = t.add("ShaderNodeVectorMath", -600, -150, {0: window, 1: centre.outputs[0]})
    dist.operation = "DISTANCE"
    pool = t.add("ShaderNodeMapRange", -400, -150, {0: dist.outputs["Value"], 1: 0.6, 2: 0.0})
    pool.interpolation_type = "SMOOTHSTEP"
    strength = t.math(-200, -150, "MULTIPLY_ADD", pool.outputs[0], 0.9, 1.0)
    seen = t.add("ShaderNodeBackground", 0, 150, {"Color": gradient, "Strength": strength})
    lit = t.add("ShaderNodeBackground", 0, -100, {"Color": ambient, "Strength": 0.4})
    camera_ray = t.add("ShaderNodeLightPath", -200, 350).outputs["Is Camera Ray"]
    mix = t.add("ShaderNodeMixShader", 250, 0, {0: camera_ray, 1: lit.outputs[0]})
    t.set(mix.inputs[2], seen.outputs[0])
    out = t.add("ShaderNodeOutputWorld", 450, 0)
    t.set(out.inputs["Surface"], mix.outputs[0])
    scene.world = world
    scene.render.film_transparent = settings.background == "transparent"


def build_scene(
    scene: bpy.types.Scene,
    *,
    focus: tuple[float, float, float],
    bounds: tuple[tuple, tuple],
    settings: SceneSettings = SceneSettings(),  # noqa: B008 - frozen, so sharing is safe
) -> dict[str, bpy.types.Object]:
    """Light and frame the character in ``scene``; return the new objects by role.

    ``focus`` is the midpoint between the eyes; ``bounds`` the character's world box
    ``((min x, y, z), (max x, y, z))`` with the feet at min z. Roles: ``camera``, ``focus`` (the
    empty the depth of field follows: parent it to the head to keep focus when it moves),
    ``key``, ``fill``, ``rim``. Building again replaces what an earlier build made.
    """
    _check_geometry(focus, bounds)
    eye = Vector(focus)
    height = bounds[1][2] - bounds[0][2]
    target = eye.copy()
    if settings.camera == "full_body":
        target.z = bounds[0][2] + 0.55 * height
    coll = _collection(scene)
    objects = _camera(coll, settings, eye, bounds)
    objects.update(_lights(coll, settings.lighting, target, height / HUMAN))
    scene.camera = objects["camera"]
    _world(scene, settings)
    for layer in scene.view_layers:
        layer.update()  # so that matrix_world is current for the caller
    return objects
