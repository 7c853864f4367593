# SPDX-License-Identifier: GPL-3.0-or-later
"""Procedural materials for the avatar: shader node groups built by code, one per kind.

Every function returns a ``bpy.types.Material`` holding one instance of a shared node group
(``PT_SkinShader``, ``PT_EyeShader``, ...) whose inputs carry the material's colours, plus a
matching viewport colour for Workbench; they render in Cycles and EEVEE. A material is reused (and
rebuilt with the new arguments) only if this module made it: it is tagged with the custom property
``paksatalker_material`` holding the requested name, so a user's own material of the same name is
never touched. :mod:`.toon` offers a cel-shaded alternative.
"""

from __future__ import annotations

import math

import bpy

from .nodes import Color, TreeBuilder, node_group, tagged_material

__all__ = ["TAG", "TreeBuilder", "cloth_material", "eye_material", "hair_material",
           "mouth_material", "skin_material", "teeth_material"]

TAG = "paksatalker_material"
C, F = "NodeSocketColor", "NodeSocketFloat"


def _material(name: str) -> bpy.types.Material:
    """Return our material made for ``name`` with an empty node tree (new or reused)."""
    return tagged_material(name, TAG)


def _instance(mat: bpy.types.Material, group: bpy.types.ShaderNodeTree, values: dict):
    """Put one ``group`` node in ``mat`` with ``values`` on its inputs, wired to the output."""
    t = TreeBuilder(mat.node_tree)
    node = t.add("ShaderNodeGroup", 0, 0)
    node.node_tree = group
    for key, value in values.items():
        t.set(node.inputs[key], value)
    out = t.add("ShaderNodeOutputMaterial", 300, 0)
    t.links.new(node.outputs[0], out.inputs[0])
    return node


def _viewport(mat: bpy.types.Material, rgb: Color, roughness: float) -> None:
    """Colour and roughness Workbench and the solid viewport show."""
    mat.diffuse_color = (*rgb[:3], 1.0)
    mat.roughness = roughness
    mat.metallic = 0.0


# Skin ------------------------------------------------------------------------------------------


def _skin(t: TreeBuilder, g: dict) -> None:
    coords = t.object_coords(-1400, 0)
    blotch = t.noise(-1200, 150, coords, scale=14.0, detail=4.0, rough=0.55)
    freckle = t.noise(-1200, -100, coords, scale=90.0, detail=2.0, rough=0.5)
    pores = t.noise(-1200, -350, coords, scale=900.0, detail=1.0)
    # Blotches tint the tone: a little redder and darker in places.
    tint = t.ramp(-950, 250, blotch, [(0.3, (0.93, 0.84, 0.84)), (0.7, (1.04, 1.03, 1.02))])
    base = t.mix(-700, 250, 1.0, g["Tone"], tint, blend="MULTIPLY")
    spots = t.ramp(-950, 0, freckle, [(0.55, (1.0, 1.0, 1.0)), (0.8, (0.9, 0.9, 0.9))])
    color = t.mix(-450, 150, 1.0, base, spots, blend="MULTIPLY")
    rough = t.math(-450, -100, "MULTIPLY_ADD", blotch, -0.14, 0.52)
    bump = t.add("ShaderNodeBump", -450, -350,
                 {"Strength": 0.06, "Distance": 0.0004, "Height": pores})
    t.principled(-150, 100, {
        "Base Color": color,
        "Roughness": rough,
        "IOR": 1.4,
        "Subsurface Weight": 1.0,
        "Subsurface Radius": (1.0, 0.2, 0.1),  # red scatters furthest
        "Subsurface Scale": g["Subsurface Scale"],
        "Sheen Weight": 0.08,
        "Sheen Roughness": 0.35,
        "Normal": bump.outputs[0],
    })


def skin_material(name: str = "PT_Skin", tone: Color = (0.8, 0.6, 0.5)) -> bpy.types.Material:
    """Human skin: subsurface scattering at human scale, blotchy tone and roughness, fine pores.

    ``tone`` is a linear RGB base colour. The subsurface radius (red scatters furthest) is scaled
    for a character modelled in metres (``Subsurface Scale`` 8 mm).
    """
    mat = _material(name)
    group = node_group("PT_SkinShader", [("Tone", C, (0.8, 0.6, 0.5)),
                                         ("Subsurface Scale", F, 0.008)], _skin)
    _instance(mat, group, {"Tone": tuple(tone[:3])})
    _viewport(mat, tone, 0.45)
    return mat


# Eyes ------------------------------------------------------------------------------------------

# Eye zones as the angle from the gaze axis (-Y) over pi, for an eyeball of radius r whose iris
# is about r/2 across: pupil edge ~0.17 rad, iris edge ~0.5 rad.
_PUPIL, _IRIS_IN, _IRIS_OUT, _LIMBUS, _SCLERA = 0.048, 0.058, 0.140, 0.152, 0.172
_SCLERA_RGB = (0.84, 0.80, 0.76)


def _eye(t: TreeBuilder, g: dict) -> None:
    coords = t.object_coords(-1600, 0)
    unit = t.add("ShaderNodeVectorMath", -1400, 0, {0: coords}, operation="NORMALIZE")
    xyz = t.add("ShaderNodeSeparateXYZ", -1200, 0, {0: unit.outputs[0]})
    # theta / pi, the angle from -Y as a 0..1 factor.
    cos_theta = t.math(-1000, 100, "MULTIPLY", xyz.outputs[1], -1.0)
    theta = t.math(-850, 100, "ARCCOSINE", cos_theta)
    zone = t.math(-700, 100, "DIVIDE", theta, math.pi)
    # Direction around the gaze axis as a continuous unit vector, so the streaks have no seam.
    around = t.add("ShaderNodeCombineXYZ", -1000, -150, {0: xyz.outputs[0], 2: xyz.outputs[2]})
    radial = t.add("ShaderNodeVectorMath", -850, -150, {0: around.outputs[0]},
                   operation="NORMALIZE")
    spokes = t.add("ShaderNodeVectorMath", -700, -150, {0: radial.outputs[0], "Scale": 9.0},
                   operation="SCALE")
    outward = t.math(-850, -350, "MULTIPLY", zone, 40.0)
    radius = t.add("ShaderNodeCombineXYZ", -700, -350, {2: outward})
    streak_vec = t.add("ShaderNodeVectorMath", -550, -250,
                       {0: spokes.outputs[0], 1: radius.outputs[0]})
    streaks = t.noise(-400, -250, streak_vec.outputs[0], scale=1.0, detail=6.0, rough=0.65)
    # Iris: radial streaks of the iris colour, darker towards the pupil and at the limbal ring.
    shade = t.ramp(-200, -250, streaks, [(0.3, (0.45,) * 3), (0.55, (1.0,) * 3),
                                          (0.75, (1.7, 1.6, 1.4))])
    rings = t.ramp(-200, -450, zone, [(_IRIS_IN, (0.6,) * 3), (0.1, (1.0,) * 3),
                                       (_IRIS_OUT, (0.8,) * 3), (_LIMBUS, (0.18,) * 3)])
    iris = t.mix(0, -300, 1.0, g["Iris Color"], shade, blend="MULTIPLY")
    iris = t.mix(150, -300, 1.0, iris, rings, blend="MULTIPLY")
    sclera = t.ramp(-450, 250, zone, [(0.4, _SCLERA_RGB), (0.55, (0.80, 0.62, 0.58))])
    iris_mask = t.ramp(-450, 0, zone, [(_PUPIL, (0, 0, 0)), (_IRIS_IN, (1, 1, 1)),
                                       (_IRIS_OUT, (1, 1, 1)), (_SCLERA, (0, 0, 0))])
    pupil = t.ramp(-450, -150, zone, [(_PUPIL, (1, 1, 1)), (_IRIS_IN, (0, 0, 0))])
    color = t.mix(300, 100, iris_mask, sclera, iris)
    color = t.mix(450, 100, pupil, color, (0.004, 0.004, 0.004))
    # Cornea: a clear wet coat with water's IOR over the whole eye gives the sharp highlight.
    t.principled(600, 100, {
        "Base Color": color,
        "Roughness": 0.35,
        "Coat Weight": 1.0,
        "Coat Roughness": g["Wetness Roughness"],
        "Coat IOR": 1.376,
    })


def eye_material(name: str = "PT_Eye", iris_color: Color = (0.25, 0.4, 0.55)) -> bpy.types.Material:
    """Eyeball: sclera, radially streaked iris with a dark limbal ring, black pupil, and a
    glossy cornea coat (the wet highlight).

    The eyeball's origin must be its centre and its gaze the object's local -Y axis: the zones are
    the angle between the normalised Object coordinate and -Y.
    """
    mat = _material(name)
    group = node_group("PT_EyeShader", [("Iris Color", C, (0.25, 0.4, 0.55)),
                                        ("Wetness Roughness", F, 0.02)], _eye)
    _instance(mat, group, {"Iris Color": tuple(iris_color[:3])})
    _viewport(mat, _SCLERA_RGB, 0.1)
    return mat


# Cloth, hair, teeth, mouth ---------------------------------------------------------------------


def _cloth(t: TreeBuilder, g: dict) -> None:
    coords = t.object_coords(-1000, 0)
    dye = t.noise(-800, 150, coords, scale=5.0, detail=3.0)
    weave = t.noise(-800, -150, coords, scale=320.0, detail=2.0, rough=0.6)
    tint = t.ramp(-550, 250, dye, [(0.3, (0.88,) * 3), (0.7, (1.04,) * 3)])
    base = t.mix(-350, 150, 1.0, g["Color"], tint, blend="MULTIPLY")
    bump = t.add("ShaderNodeBump", -550, -150,
                 {"Strength": 0.25, "Distance": 0.001, "Height": weave})
    t.principled(-150, 100, {
        "Base Color": base,
        "Roughness": g["Roughness"],
        "Specular IOR Level": 0.3,
        "Sheen Weight": 0.6,
        "Sheen Roughness": 0.5,
        "Normal": bump.outputs[0],
    })


def cloth_material(name: str, color: Color, roughness: float = 0.8) -> bpy.types.Material:
    """Fabric: soft sheen at grazing angles, slight dye variation and a fine weave bump."""
    mat = _material(name)
    group = node_group("PT_ClothShader", [("Color", C, (0.2, 0.2, 0.2)),
                                          ("Roughness", F, 0.8)], _cloth)
    _instance(mat, group, {"Color": tuple(color[:3]), "Roughness": roughness})
    _viewport(mat, color, roughness)
    return mat


def _hair(t: TreeBuilder, g: dict) -> None:
    coords = t.object_coords(-1100, 0)
    stretch = t.add("ShaderNodeMapping", -900, 0, {"Vector": coords, "Scale": (90.0, 90.0, 4.0)})
    strands = t.noise(-700, 0, stretch.outputs[0], scale=1.0, detail=5.0, rough=0.6)
    shade = t.ramp(-450, 250, strands, [(0.25, (0.45,) * 3), (0.5, (1.0,) * 3),
                                        (0.8, (1.35,) * 3)])
    base = t.mix(-250, 150, 1.0, g["Color"], shade, blend="MULTIPLY")
    tint = t.mix(-250, -50, 1.0, g["Color"], (1.6, 1.6, 1.6), blend="MULTIPLY")
    bump = t.add("ShaderNodeBump", -450, -150,
                 {"Strength": 0.35, "Distance": 0.002, "Height": strands})
    t.principled(-50, 100, {
        "Base Color": base,
        "Roughness": 0.38,
        "Specular Tint": tint,
        "Sheen Weight": 0.3,
        "Sheen Roughness": 0.4,
        "Normal": bump.outputs[0],
    })


def hair_material(name: str, color: Color) -> bpy.types.Material:
    """Hair on a mesh cap: fine vertical strands of varying shade, a soft sheen and glossy tips.

    The strand noise is stretched along the object's Z axis, which suits hair that falls down.
    """
    mat = _material(name)
    group = node_group("PT_HairShader", [("Color", C, (0.05, 0.03, 0.02))], _hair)
    _instance(mat, group, {"Color": tuple(color[:3])})
    _viewport(mat, color, 0.4)
    return mat


def _wet(t: TreeBuilder, g: dict, sss: float, radius, scale: float, rough: float, coat: float):
    t.principled(0, 0, {
        "Base Color": g["Color"],
        "Roughness": rough,
        "Subsurface Weight": sss,
        "Subsurface Radius": radius,
        "Subsurface Scale": scale,
        "Coat Weight": coat,
        "Coat Roughness": 0.05,
    })


def teeth_material(name: str = "PT_Teeth") -> bpy.types.Material:
    """Teeth: warm off-white enamel with a little translucency and a wet coat."""
    mat = _material(name)
    enamel = (0.80, 0.76, 0.66)
    group = node_group("PT_TeethShader", [("Color", C, enamel)],
                       lambda t, g: _wet(t, g, 0.3, (1.0, 0.8, 0.6), 0.002, 0.25, 0.5))
    _instance(mat, group, {"Color": enamel})
    _viewport(mat, enamel, 0.25)
    return mat


def mouth_material(name: str = "PT_Mouth") -> bpy.types.Material:
    """Inside of the mouth (gums, tongue, cavity): dark wet red that reads as depth."""
    mat = _material(name)
    flesh = (0.16, 0.035, 0.035)
    group = node_group("PT_MouthShader", [("Color", C, flesh)],
                       lambda t, g: _wet(t, g, 0.4, (1.0, 0.3, 0.2), 0.003, 0.35, 0.4))
    _instance(mat, group, {"Color": flesh})
    _viewport(mat, flesh, 0.35)
    return mat
