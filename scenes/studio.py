# SPDX-License-Identifier: GPL-3.0-or-later
"""A studio around a character, from named presets: lights, a framed camera, a background and
post. :class:`SceneSettings` holds every choice; :func:`build_scene` builds it.

Conventions: the character stands on z=0 and faces -Y; the camera looks at it from -Y. Sizes,
distances and light powers scale with the character, so a child, an adult and a giant are lit and
framed alike. The pieces live in :mod:`.lighting`, :mod:`.camera`, :mod:`.background` and
:mod:`.post`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import bpy
from mathutils import Vector

from ..core.errors import InputError
from . import background as bg
from . import camera as cam
from . import lighting
from .background import BACKGROUNDS
from .camera import ASPECTS, CAMERAS
from .lighting import LIGHTINGS
from .post import Plate, PostSettings, build_compositor

__all__ = ["ASPECTS", "BACKGROUNDS", "CAMERAS", "LIGHTINGS", "SceneSettings", "build_scene"]

ROLE = "paksatalker_role"
COLLECTION = "PT_Studio"
HUMAN = 1.7
"""Reference character height (m) for light distances and sizes."""


def _rgb(name: str, rgb) -> tuple[float, float, float]:
    if len(rgb) != 3 or not all(0.0 <= c <= 1.0 for c in rgb):
        raise InputError(f"{name} must be three numbers 0..1, got {rgb!r}")
    return tuple(float(c) for c in rgb)


@dataclass(frozen=True)
class SceneSettings:
    """How the studio looks; validated on creation (:class:`InputError` with the choices)."""

    lighting: str = "three_point"
    """A preset of :data:`LIGHTINGS` (``soft`` is accepted for ``soft_studio``)."""
    intensity: float = 1.0
    """Multiplies every light."""
    temperature: float | None = None
    """Key light colour temperature in Kelvin (1000..20000); None keeps the preset's."""
    softness: float = 1.0
    """Light size multiplier: bigger is softer shadows."""
    ao: bool = True
    """Ambient occlusion where the engine has it (EEVEE horizon scan, Workbench cavity)."""
    camera: str = "medium"
    """``close_up`` (head and shoulders), ``medium`` (to the waist), ``medium_wide`` (to
    mid-thigh), ``full_body``."""
    aspect: str = "16:9"
    dof: bool = True
    fstop: float = 2.8
    motion_blur: bool = False
    shutter: float = 0.5
    """Frames the shutter stays open (0.5: 180 degrees)."""
    handheld: float = 0.0
    """0 (locked off) .. 1 (gentle drift)."""
    seed: int = 0
    """Seed of the handheld drift."""
    background: str = "gradient"
    """A kind of :data:`BACKGROUNDS`."""
    background_file: Path | None = None
    """Image, video or HDRI file for the backgrounds that take one."""
    bg_top: tuple[float, float, float] = (0.045, 0.055, 0.075)
    """Linear RGB at the top of the gradient."""
    bg_bottom: tuple[float, float, float] = (0.16, 0.17, 0.19)
    """Linear RGB at the bottom of the gradient; also the solid colour and the studio walls."""
    post: PostSettings = field(default_factory=PostSettings)
    toon: bool = False
    """Cel-shaded materials and outlines instead of the realistic ones."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "lighting", lighting.resolve(self.lighting))
        for name, value, allowed in (
            ("lighting", self.lighting, LIGHTINGS),
            ("camera", self.camera, CAMERAS),
            ("aspect", self.aspect, tuple(ASPECTS)),
            ("background", self.background, BACKGROUNDS),
        ):
            if value not in allowed:
                raise InputError(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")
        if not 0.5 <= self.fstop <= 64:
            raise InputError(f"f-stop must be 0.5..64, got {self.fstop}")
        if not 0.0 < self.intensity <= 100.0 or not 0.05 <= self.softness <= 20.0:
            raise InputError("intensity must be 0..100 and softness 0.05..20")
        if self.temperature is not None and not 1000 <= self.temperature <= 20000:
            raise InputError(f"temperature must be 1000..20000 K, got {self.temperature}")
        if not 0.0 <= self.handheld <= 1.0 or not 0.01 <= self.shutter <= 2.0:
            raise InputError("handheld must be 0..1 and shutter 0.01..2 frames")
        if self.background_file is not None:
            object.__setattr__(self, "background_file", Path(self.background_file))
        bg.check_file(self.background, self.background_file)
        object.__setattr__(self, "bg_top", _rgb("bg_top", self.bg_top))
        object.__setattr__(self, "bg_bottom", _rgb("bg_bottom", self.bg_bottom))

    @property
    def plate(self) -> Plate | None:
        """The compositor plate for this background, if it is one."""
        if self.background not in bg.PLATE_KINDS or self.background == "transparent":
            return None
        color = (0.0, 1.0, 0.0) if self.background == "green_screen" else self.bg_bottom
        return Plate(self.background, self.background_file, color=color)

    @property
    def static_camera(self) -> bool:
        return self.handheld == 0.0

    @property
    def static_background(self) -> bool:
        return self.background != "video"


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
                for kind, store in ((bpy.types.Light, bpy.data.lights),
                                    (bpy.types.Camera, bpy.data.cameras),
                                    (bpy.types.Mesh, bpy.data.meshes)):
                    if isinstance(data, kind):
                        store.remove(data)
    return coll


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


def _background(scene, add, settings: SceneSettings, scale: float, bounds) -> dict:
    kind = settings.background
    if kind == "solid":
        bg.solid_world(scene, settings.bg_bottom)
    elif kind == "hdri":
        bg.environment_world(scene, settings.background_file)
    elif kind == "sky":
        bg.environment_world(scene, None)
    else:
        bg.gradient_world(scene, settings.bg_top, settings.bg_bottom, pool=kind == "gradient")
    scene.render.film_transparent = kind in bg.PLATE_KINDS
    if kind == "studio_room":
        return bg.studio_room(add, scale, settings.bg_bottom, behind=bounds[1][1])
    return {}


def build_scene(
    scene: bpy.types.Scene,
    *,
    focus: tuple[float, float, float],
    bounds: tuple[tuple, tuple],
    settings: SceneSettings = SceneSettings(),  # noqa: B008 - frozen, so sharing is safe
) -> dict[str, bpy.types.Object]:
    """Light, frame and surround the character in ``scene``; return the new objects by role.

    ``focus`` is the midpoint between the eyes; ``bounds`` the character's world box
    ``((min x, y, z), (max x, y, z))`` with the feet at min z. Roles: ``camera``, ``focus`` (the
    empty the depth of field follows: parent it to the head to keep focus when it moves), the
    preset's lights (``key``, ``fill``, ``rim``, ...) and, for the studio room, ``floor`` and
    ``backdrop``. Building again replaces what an earlier build made.
    """
    _check_geometry(focus, bounds)
    eye = Vector(focus)
    height = bounds[1][2] - bounds[0][2]
    scale = height / HUMAN
    coll = _collection(scene)

    def add(role: str, data) -> bpy.types.Object:
        obj = bpy.data.objects.new(f"PT_{role.title()}", data)
        obj[ROLE] = role
        coll.objects.link(obj)
        return obj

    camera = cam.build_camera(add, settings.camera, settings.aspect, eye, bounds)
    span = camera["paksatalker_span"]
    objects = {"camera": camera}
    objects["focus"] = cam.depth_of_field(camera, add, eye, span, settings.dof, settings.fstop)
    cam.motion_blur(scene, settings.motion_blur, settings.shutter)
    cam.handheld(camera, settings.handheld, settings.seed, span)
    target = eye.copy()
    if settings.camera == "full_body":
        target.z = bounds[0][2] + 0.55 * height
    objects.update(lighting.build_lights(
        add, settings.lighting, target, scale, intensity=settings.intensity,
        softness=settings.softness, temperature=settings.temperature))
    scene.camera = camera
    objects.update(_background(scene, add, settings, scale, bounds))
    lighting.ambient_occlusion(scene, settings.ao, scale)
    build_compositor(scene, settings.post, plate=settings.plate)
    for layer in scene.view_layers:
        layer.update()  # so that matrix_world is current for the caller
    return objects
