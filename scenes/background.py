# SPDX-License-Identifier: GPL-3.0-or-later
"""Backgrounds: what the camera sees behind the character, and what lights it from around.

Two families:

- world backgrounds, rendered by the engine: ``solid``, ``gradient``, ``studio_room`` (a floor
  and a curved cyclorama wall, built as geometry), ``hdri`` (an equirectangular image file; a sky
  when no file is given) and ``sky``;
- plates, laid behind the rendered character in the compositor (film transparent, exact pixels
  of the file): ``image``, ``video``, ``blurred_image``, ``chroma_key`` (a user's green-screen
  plate, keyed, over the gradient colour), ``green_screen`` (pure green for keying elsewhere) and
  ``transparent`` (alpha, for PNG/EXR/ProRes 4444 output).

Plates keep a soft gradient world for lighting. The compositor side lives in :mod:`.post`.
"""

from __future__ import annotations

import math
from pathlib import Path

import bmesh
import bpy
from mathutils import Vector

from ..core.errors import InputError
from ..shaders.nodes import TreeBuilder

WORLD_KINDS = ("gradient", "solid", "studio_room", "hdri", "sky")
PLATE_KINDS = ("image", "video", "blurred_image", "chroma_key", "green_screen", "transparent")
BACKGROUNDS = WORLD_KINDS + PLATE_KINDS
NEEDS_FILE = ("image", "video", "blurred_image", "chroma_key")
WORLD = "PT_Studio_World"
ROLE = "paksatalker_role"


def check_file(kind: str, path: Path | None) -> None:
    """InputError unless ``kind`` has the file it needs (and a file is only given where used)."""
    if kind in NEEDS_FILE and path is None:
        raise InputError(f"background {kind!r} needs a file: give --background-file PATH")
    if path is not None:
        if kind not in NEEDS_FILE + ("hdri",):
            raise InputError(f"background {kind!r} takes no file; use image, video or hdri")
        if not Path(path).is_file():
            raise InputError(f"background file not found: {path}")


def _world(scene: bpy.types.Scene) -> tuple[bpy.types.World, TreeBuilder]:
    world = next((w for w in bpy.data.worlds if w.get(ROLE) == WORLD), None)
    if world is None:
        world = bpy.data.worlds.new(WORLD)
        world[ROLE] = WORLD
    if bpy.app.version < (5, 0, 0):
        world.use_nodes = True
    world.node_tree.nodes.clear()
    scene.world = world
    return world, TreeBuilder(world.node_tree)


def _camera_or_light(t: TreeBuilder, seen, lit, x: float = 250) -> None:
    """Camera rays see ``seen``; every other ray (lighting) sees ``lit``."""
    camera_ray = t.add("ShaderNodeLightPath", x - 450, 350).outputs["Is Camera Ray"]
    mix = t.add("ShaderNodeMixShader", x, 0, {0: camera_ray, 1: lit})
    t.set(mix.inputs[2], seen)
    out = t.add("ShaderNodeOutputWorld", x + 200, 0)
    t.set(out.inputs["Surface"], mix.outputs[0])


def gradient_world(scene, top, bottom, *, pool: bool = True) -> None:
    """Screen-space gradient for camera rays; a dim average of it lights the scene."""
    world, t = _world(scene)
    top, bottom = Vector(top), Vector(bottom)
    ambient = 0.5 * (top + bottom)
    world.color = ambient  # Workbench shows this.
    window = t.add("ShaderNodeTexCoord", -1000, 0).outputs["Window"]
    xyz = t.add("ShaderNodeSeparateXYZ", -800, 0, {0: window})
    gradient = t.ramp(-550, 150, xyz.outputs[1], [(0.0, bottom), (1.0, top)])
    strength = 1.0
    if pool:  # a soft pool of light on the backdrop behind the head
        centre = t.add("ShaderNodeCombineXYZ", -800, -250, {0: 0.5, 1: 0.62})
        dist = t.add("ShaderNodeVectorMath", -600, -150, {0: window, 1: centre.outputs[0]})
        dist.operation = "DISTANCE"
        spot = t.add("ShaderNodeMapRange", -400, -150, {0: dist.outputs["Value"], 1: 0.6, 2: 0.0})
        spot.interpolation_type = "SMOOTHSTEP"
        strength = t.math(-200, -150, "MULTIPLY_ADD", spot.outputs[0], 0.9, 1.0)
    seen = t.add("ShaderNodeBackground", 0, 150, {"Color": gradient, "Strength": strength})
    lit = t.add("ShaderNodeBackground", 0, -100, {"Color": ambient, "Strength": 0.4})
    _camera_or_light(t, seen.outputs[0], lit.outputs[0])


def solid_world(scene, color) -> None:
    """One flat colour behind the character; a dim grey lights it."""
    world, t = _world(scene)
    world.color = tuple(color)
    seen = t.add("ShaderNodeBackground", 0, 150, {"Color": tuple(color), "Strength": 1.0})
    lit = t.add("ShaderNodeBackground", 0, -100, {"Color": (0.12, 0.12, 0.12), "Strength": 0.4})
    _camera_or_light(t, seen.outputs[0], lit.outputs[0])


def environment_world(scene, hdri: Path | None, strength: float = 1.0, rotation: float = 0.0):
    """An equirectangular HDRI seen and lighting all around; a physical sky when none is given.

    The sky's sun sits 25 degrees high, behind the camera's left shoulder.
    """
    world, t = _world(scene)
    if hdri is not None:
        try:
            image = bpy.data.images.load(str(Path(hdri).absolute()), check_existing=True)
        except RuntimeError as err:
            raise InputError(f"cannot read HDRI {hdri}: {err}") from err
        coords = t.add("ShaderNodeTexCoord", -800, 0).outputs["Generated"]
        mapping = t.add("ShaderNodeMapping", -600, 0, {"Vector": coords})
        mapping.inputs["Rotation"].default_value = (0.0, 0.0, rotation)
        tex = t.add("ShaderNodeTexEnvironment", -350, 0, {"Vector": mapping.outputs[0]})
        tex.image = image
        color = tex.outputs["Color"]
        world.color = (0.2, 0.2, 0.2)
    else:
        tex = t.add("ShaderNodeTexSky", -350, 0)
        tex.sky_type = "MULTIPLE_SCATTERING" if bpy.app.version >= (5, 0, 0) else "NISHITA"
        tex.sun_elevation = math.radians(25.0)
        tex.sun_rotation = math.radians(215.0)
        color = tex.outputs["Color"]
        strength *= 0.08  # a physical sky is very bright; keep the face exposed like the studio
        world.color = (0.35, 0.45, 0.6)
    bg = t.add("ShaderNodeBackground", 0, 0, {"Color": color, "Strength": strength})
    out = t.add("ShaderNodeOutputWorld", 250, 0)
    t.set(out.inputs["Surface"], bg.outputs[0])


def _room_material(color) -> bpy.types.Material:
    mat = bpy.data.materials.get("PT_Cyclorama") or bpy.data.materials.new("PT_Cyclorama")
    if bpy.app.version < (5, 0, 0):
        mat.use_nodes = True
    mat.node_tree.nodes.clear()
    TreeBuilder(mat.node_tree).principled(0, 0, {"Base Color": tuple(color), "Roughness": 0.9})
    mat.diffuse_color = (*color, 1.0)
    return mat


def _sheet(name: str, profile: list[tuple[float, float]], half_width: float, material):
    """A mesh swept along X from a (y, z) profile: quads between consecutive profile points."""
    mesh = bpy.data.meshes.new(name)
    bm = bmesh.new()
    rows = [[bm.verts.new((x, y, z)) for (y, z) in profile] for x in (-half_width, half_width)]
    for i in range(len(profile) - 1):
        bm.faces.new((rows[0][i], rows[1][i], rows[1][i + 1], rows[0][i + 1]))
    bm.normal_update()
    bm.to_mesh(mesh)
    bm.free()
    for poly in mesh.polygons:
        poly.use_smooth = True
    mesh.materials.append(material)
    return mesh


def studio_room(add, scale: float, color, behind: float) -> dict[str, bpy.types.Object]:
    """A floor and a cyclorama wall that curves up from it, behind the character (+Y).

    ``behind`` is the character's back (max y); ``scale`` its height / 1.7 m. Returns objects
    ``floor`` (flat, under the character: the fast path's shadow catcher) and ``backdrop``.
    """
    mat = _room_material(color)
    start, radius, width = behind + 0.9 * scale, 1.2 * scale, 8.0 * scale
    floor = _sheet("PT_Floor", [(-6.0 * scale, 0.0), (start, 0.0)], width, mat)
    curve = [
        (start + radius * math.sin(a), radius * (1.0 - math.cos(a)))
        for a in (i * math.pi / 2 / 12 for i in range(13))
    ]
    curve.append((start + radius, 6.0 * scale))
    backdrop = _sheet("PT_Backdrop", curve, width, mat)
    return {"floor": add("floor", floor), "backdrop": add("backdrop", backdrop)}
