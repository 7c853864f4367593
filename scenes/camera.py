# SPDX-License-Identifier: GPL-3.0-or-later
"""Camera presets framed from the character's eyes and box, for any character size and aspect.

Conventions: the character stands on z=0 and faces -Y; the camera looks along +Y, level (no
tilt, so verticals stay vertical), and the framing comes from its height. Lenses are 35 mm
equivalents: each aspect uses a sensor with a full-frame diagonal.
"""

from __future__ import annotations

import math
import random

import bpy
from mathutils import Vector

CAMERAS = ("close_up", "medium", "medium_wide", "full_body")
ASPECTS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}

_DIAGONAL = math.hypot(36.0, 24.0)
# Focal length (mm) per framing: longer lenses flatter faces in close-ups.
LENS = {"close_up": 85.0, "medium": 70.0, "medium_wide": 50.0, "full_body": 45.0}
# Lowest point in frame as a fraction of the character's height (feet at 0).
_BOTTOM = {"medium": 0.58, "medium_wide": 0.40}


def sensor(aspect: str) -> tuple[float, float]:
    """Sensor width and height (mm) for ``aspect``, with the diagonal of a full-frame sensor."""
    w, h = ASPECTS[aspect]
    k = _DIAGONAL / math.hypot(w, h)
    return w * k, h * k


def frame_span(camera: str, focus, bounds, aspect: str = "16:9") -> tuple[float, float, float]:
    """Vertical framing at the focus plane: ``(centre_x, centre_z, height)`` in metres.

    Close-up, medium and medium-wide shots put the eyes a third from the top and keep the crown
    inside (5 % margin); medium reaches to about the waist, medium-wide to mid-thigh. Full body fits
    the whole box. Narrow frames (9:16) widen the span so the shoulders still fit.
    """
    (x0, _, z0), (x1, _, z1) = bounds
    w, h = ASPECTS[aspect]
    height = z1 - z0
    eye = focus[2]
    crown = max(z1 - eye, 0.03 * height)
    if camera == "full_body":
        span = max(1.16 * height, 1.15 * (x1 - x0) * h / w)
        return focus[0], z0 + 0.52 * height, span
    if camera == "close_up":
        span = 4.5 * crown
        shoulders = 0.0
    else:
        span = max(1.5 * (eye - (z0 + _BOTTOM[camera] * height)), 6.0 * crown)
        shoulders = 1.1 * min(x1 - x0, 0.3 * height)
    span = max(span, crown / (1.0 / 3.0 - 0.05), shoulders * h / w)
    return focus[0], eye - span / 6.0, span


def build_camera(add, camera: str, aspect: str, focus: Vector, bounds) -> bpy.types.Object:
    """A level camera framing the character for ``camera`` (a preset of :data:`CAMERAS`)."""
    cx, cz, span = frame_span(camera, focus, bounds, aspect)
    cam = bpy.data.cameras.new("PT_Camera")
    cam.lens = LENS[camera]
    cam.sensor_fit = "VERTICAL"
    cam.sensor_width, cam.sensor_height = sensor(aspect)
    # The focus plane holds `span` metres vertically: distance = span * lens / sensor height.
    distance = span * cam.lens / cam.sensor_height
    cam.clip_start = max(0.01, 0.05 * distance)
    cam.clip_end = 20.0 * distance
    obj = add("camera", cam)
    obj.location = (cx, focus.y - distance, cz)
    obj.rotation_euler = (math.pi / 2, 0.0, 0.0)
    obj["paksatalker_span"] = span
    return obj


def depth_of_field(cam_obj, add, focus: Vector, span: float, on: bool, fstop: float):
    """Focus on an empty at the eyes (parent it to the head bone to follow it)."""
    target = add("focus", None)
    target.empty_display_size = 0.05 * span
    target.location = focus
    dof = cam_obj.data.dof
    dof.use_dof = on
    dof.focus_object = target
    dof.aperture_fstop = fstop
    return target


def follow_bone(obj: bpy.types.Object, armature: bpy.types.Object, bone: str) -> None:
    """Parent ``obj`` to ``armature``'s ``bone`` keeping its world position (e.g. focus on eyes).

    Does nothing when the armature has no such bone (an imported rig without a head bone).
    """
    if bone not in armature.data.bones:
        return
    world = obj.matrix_world.copy()
    obj.parent = armature
    obj.parent_type = "BONE"
    obj.parent_bone = bone
    bpy.context.view_layer.update()
    obj.matrix_world = world


def motion_blur(scene: bpy.types.Scene, on: bool, shutter: float) -> None:
    """Motion blur over ``shutter`` of a frame (0.5 is a 180 degree shutter)."""
    scene.render.use_motion_blur = on
    scene.render.motion_blur_shutter = shutter


def handheld(cam_obj: bpy.types.Object, amount: float, seed: int, span: float) -> None:
    """Gentle seeded drift: smooth noise on the camera's position and aim (no keys to write).

    ``amount`` 1 moves the frame by about 1 % of its height and turns it by about 0.3 degrees,
    over periods of a few seconds. The same seed gives the same drift.
    """
    if amount <= 0:
        return
    from bpy_extras import anim_utils

    rng = random.Random(seed)
    channels = (
        ("location", 0, 0.006 * span),
        ("location", 2, 0.006 * span),
        ("rotation_euler", 0, math.radians(0.25)),
        ("rotation_euler", 2, math.radians(0.3)),
    )
    for path, index, _ in channels:
        cam_obj.keyframe_insert(data_path=path, index=index, frame=1)
    action = cam_obj.animation_data.action
    bag = anim_utils.action_ensure_channelbag_for_slot(action, cam_obj.animation_data.action_slot)
    for path, index, size in channels:
        curve = bag.fcurves.find(path, index=index)
        noise = curve.modifiers.new("NOISE")
        noise.scale = rng.uniform(60.0, 110.0)  # frames per wobble
        noise.strength = 2.0 * size * amount
        noise.phase = rng.uniform(0.0, 1000.0)
        noise.depth = 1
