# SPDX-License-Identifier: GPL-3.0-or-later
"""Procedural materials for the avatar, built as node trees by code.

Every function returns a ``bpy.types.Material`` that renders in Cycles and EEVEE and carries a
matching viewport colour for Workbench. A material is reused (and rebuilt with the new arguments)
only if this module made it: it is tagged with the custom property ``paksatalker_material`` holding
the requested name, so a user's own material of the same name is never touched.

Socket access goes by index where Blender renamed sockets between 4.2 and 5.0 (``Fac`` became
``Factor`` on textures, ramps and mixes); Principled BSDF names are the same in both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import bpy

TAG = "paksatalker_material"

Color = Sequence[float]
Socket = bpy.types.NodeSocket


def _material(name: str) -> bpy.types.Material:
    """Return our material made for ``name`` with an empty node tree (new or reused)."""
    mat = next((m for m in bpy.data.materials if m.get(TAG) == name and m.library is None), None)
    if mat is None:
        mat = bpy.data.materials.new(name)
        mat[TAG] = name
    if bpy.app.version < (5, 0, 0):
        mat.use_nodes = True
    mat.node_tree.nodes.clear()
    return mat


class TreeBuilder:
    """Terse shader node-tree builder (materials and worlds).

    ``add`` creates a node and sets or links its inputs, keyed by socket name or index.
    """

    def __init__(self, tree: bpy.types.NodeTree) -> None:
        self.nodes = tree.nodes
        self.links = tree.links

    def add(self, kind: str, x: float, y: float, inputs=None, **props) -> bpy.types.Node:
        node = self.nodes.new(kind)
        node.location = (x, y)
        for key, value in props.items():
            setattr(node, key, value)
        for key, value in (inputs or {}).items():
            self.set(node.inputs[key], value)
        return node

    def set(self, socket: Socket, value) -> None:
        if isinstance(value, bpy.types.NodeSocket):
            self.links.new(value, socket)
        elif not isinstance(value, int | float) and len(value) == 3 and socket.type == "RGBA":
            socket.default_value = (*value, 1.0)
        else:
            socket.default_value = value

    def ramp(self, x: float, y: float, fac, stops: Sequence[tuple[float, Color]]):
        """Colour ramp driven by ``fac`` with ``(position, rgb)`` stops; returns its colour."""
        node = self.add("ShaderNodeValToRGB", x, y, {0: fac})
        elements = node.color_ramp.elements  # a new ramp: one stop at 0, one at 1
        stops = sorted(stops, key=lambda stop: stop[0])
        while len(elements) < len(stops):
            elements.new(1.0)
        # Blender keeps the stops sorted: moving them left in ascending order keeps each index.
        for i, (pos, _) in enumerate(stops):
            elements[i].position = pos
        for i, (_, rgb) in enumerate(stops):
            elements[i].color = (*rgb[:3], 1.0)
        return node.outputs[0]

    def mix(self, x: float, y: float, fac, a, b, blend: str = "MIX") -> Socket:
        """Colour mix that works with the 4.2 and 5.0 Mix node (sockets found by identifier)."""
        node = self.add("ShaderNodeMix", x, y, data_type="RGBA", blend_type=blend)
        sockets = {s.identifier: s for s in node.inputs}
        self.set(sockets["Factor_Float"], fac)
        self.set(sockets["A_Color"], a)
        self.set(sockets["B_Color"], b)
        return next(s for s in node.outputs if s.identifier == "Result_Color")

    def math(self, x: float, y: float, op: str, a, b=0.0, c=0.0) -> Socket:
        return self.add("ShaderNodeMath", x, y, {0: a, 1: b, 2: c}, operation=op).outputs[0]

    def noise(self, x: float, y: float, vector, scale: float, detail: float, rough: float = 0.5):
        node = self.add(
            "ShaderNodeTexNoise",
            x,
            y,
            {"Vector": vector, "Scale": scale, "Detail": detail, "Roughness": rough},
        )
        return node.outputs[0]

    def principled(self, x: float, y: float, inputs: dict) -> bpy.types.Node:
        bsdf = self.add("ShaderNodeBsdfPrincipled", x, y, inputs)
        out = self.add("ShaderNodeOutputMaterial", x + 400, y)
        self.links.new(bsdf.outputs[0], out.inputs[0])
        return bsdf

    def object_coords(self, x: float, y: float) -> Socket:
        return self.add("ShaderNodeTexCoord", x, y).outputs["Object"]


def _scaled(rgb: Color, k: Sequence[float] | float) -> tuple[float, float, float]:
    ks = (k, k, k) if isinstance(k, int | float) else tuple(k)
    return tuple(min(1.0, c * f) for c, f in zip(rgb[:3], ks, strict=True))


def _viewport(mat: bpy.types.Material, rgb: Color, roughness: float) -> None:
    """Colour and roughness Workbench and the solid viewport show."""
    mat.diffuse_color = (*rgb[:3], 1.0)
    mat.roughness = roughness
    mat.metallic = 0.0


def skin_material(name: str = "PT_Skin", tone: Color = (0.8, 0.6, 0.5)) -> bpy.types.Material:
    """Human skin: subsurface scattering at human scale, blotchy tone and roughness, fine pores.

    ``tone`` is a linear RGB base colour. The subsurface radius (red scatters furthest) is scaled
    for a character modelled in metres.
    """
    mat = _material(name)
    t = TreeBuilder(mat.node_tree)
    coords = t.object_coords(-1200, 0)
    blotch = t.noise(-1000, 150, coords, scale=14.0, detail=4.0, rough=0.55)
    freckle = t.noise(-1000, -100, coords, scale=90.0, detail=2.0, rough=0.5)
    pores = t.noise(-1000, -350, coords, scale=900.0, detail=1.0)
    base = t.ramp(
        -750,
        250,
        blotch,
        [(0.3, _scaled(tone, (0.93, 0.84, 0.84))), (0.7, _scaled(tone, (1.04, 1.03, 1.02)))],
    )
    spots = t.ramp(-750, 0, freckle, [(0.55, (1.0, 1.0, 1.0)), (0.8, _scaled((1, 1, 1), 0.9))])
    color = t.mix(-450, 150, 1.0, base, spots, blend="MULTIPLY")
    rough = t.math(-450, -100, "MULTIPLY_ADD", blotch, -0.14, 0.52)
    bump = t.add(
        "ShaderNodeBump", -450, -350, {"Strength": 0.06, "Distance": 0.0004, "Height": pores}
    )
    t.principled(
        -150,
        100,
        {
            "Base Color": color,
            "Roughness": rough,
            "IOR": 1.4,
            "Subsurface Weight": 1.0,
            "Subsurface Radius": (1.0, 0.2, 0.1),
            "Subsurface Scale": 0.008,
            "Sheen Weight": 0.08,
            "Sheen Roughness": 0.35,
            "Normal": bump.outputs[0],
        },
    )
    _viewport(mat, tone, 0.45)
    return mat


# Eye zones as the angle from the gaze axis (-Y) over pi, for an eyeball of radius r whose iris
# is about r/2 across: pupil edge ~0.17 rad, iris edge ~0.5 rad.
_PUPIL, _IRIS_IN, _IRIS_OUT, _LIMBUS, _SCLERA = 0.048, 0.058, 0.140, 0.152, 0.172


def eye_material(name: str = "PT_Eye", iris_color: Color = (0.25, 0.4, 0.55)) -> bpy.types.Material:
    """Eyeball: sclera, radially streaked iris, black pupil and a glossy wet coat.

    The eyeball's origin must be its centre and its gaze the object's local -Y axis: the zones are
    the angle between the normalised Object coordinate and -Y.
    """
    mat = _material(name)
    t = TreeBuilder(mat.node_tree)
    coords = t.object_coords(-1600, 0)
    unit = t.add("ShaderNodeVectorMath", -1400, 0, {0: coords}, operation="NORMALIZE")
    xyz = t.add("ShaderNodeSeparateXYZ", -1200, 0, {0: unit.outputs[0]})
    # theta / pi, the angle from -Y as a 0..1 factor.
    cos_theta = t.math(-1000, 100, "MULTIPLY", xyz.outputs[1], -1.0)
    theta = t.math(-850, 100, "ARCCOSINE", cos_theta)
    zone = t.math(-700, 100, "DIVIDE", theta, math.pi)
    # Direction around the gaze axis as a continuous unit vector, so the streaks have no seam.
    around = t.add("ShaderNodeCombineXYZ", -1000, -150, {0: xyz.outputs[0], 2: xyz.outputs[2]})
    radial = t.add(
        "ShaderNodeVectorMath", -850, -150, {0: around.outputs[0]}, operation="NORMALIZE"
    )
    spokes = t.add(
        "ShaderNodeVectorMath",
        -700,
        -150,
        {0: radial.outputs[0], "Scale": 9.0},
        operation="SCALE",
    )
    outward = t.math(-850, -350, "MULTIPLY", zone, 40.0)
    radius = t.add("ShaderNodeCombineXYZ", -700, -350, {2: outward})
    streak_vec = t.add(
        "ShaderNodeVectorMath", -550, -250, {0: spokes.outputs[0], 1: radius.outputs[0]}
    )
    streaks = t.noise(-400, -250, streak_vec.outputs[0], scale=1.0, detail=6.0, rough=0.65)
    iris = t.ramp(
        -200,
        -250,
        streaks,
        [
            (0.3, _scaled(iris_color, 0.45)),
            (0.55, tuple(iris_color[:3])),
            (0.75, _scaled(iris_color, (1.7, 1.6, 1.4))),
        ],
    )
    sclera = (0.84, 0.80, 0.76)
    base = t.ramp(
        -450,
        250,
        zone,
        [
            (_PUPIL, (0.004, 0.004, 0.004)),
            (_IRIS_IN, _scaled(iris_color, 0.5)),
            (_IRIS_OUT, _scaled(iris_color, 0.5)),
            (_LIMBUS, _scaled(iris_color, 0.18)),
            (_SCLERA, sclera),
            (0.4, sclera),
            (0.55, (0.80, 0.62, 0.58)),
        ],
    )
    iris_mask = t.ramp(
        -450,
        0,
        zone,
        [(_PUPIL, (0, 0, 0)), (_IRIS_IN, (1, 1, 1)), (_IRIS_OUT, (1, 1, 1)), (_LIMBUS, (0, 0, 0))],
    )
    color = t.mix(0, 100, iris_mask, base, iris)
    t.principled(
        250,
        100,
        {
            "Base Color": color,
            "Roughness": 0.35,
            "Coat Weight": 1.0,
            "Coat Roughness": 0.02,
            "Coat IOR": 1.376,
        },
    )
    _viewport(mat, sclera, 0.1)
    return mat


def cloth_material(name: str, color: Color, roughness: float = 0.8) -> bpy.types.Material:
    """Fabric: soft sheen at grazing angles, slight dye variation and a fine weave bump."""
    mat = _material(name)
    t = TreeBuilder(mat.node_tree)
    coords = t.object_coords(-1000, 0)
    dye = t.noise(-800, 150, coords, scale=5.0, detail=3.0)
    weave = t.noise(-800, -150, coords, scale=320.0, detail=2.0, rough=0.6)
    base = t.ramp(-550, 150, dye, [(0.3, _scaled(color, 0.88)), (0.7, _scaled(color, 1.04))])
    bump = t.add(
        "ShaderNodeBump", -550, -150, {"Strength": 0.25, "Distance": 0.001, "Height": weave}
    )
    t.principled(
        -200,
        100,
        {
            "Base Color": base,
            "Roughness": roughness,
            "Specular IOR Level": 0.3,
            "Sheen Weight": 0.6,
            "Sheen Roughness": 0.5,
            "Normal": bump.outputs[0],
        },
    )
    _viewport(mat, color, roughness)
    return mat


def hair_material(name: str, color: Color) -> bpy.types.Material:
    """Hair on a mesh cap: fine vertical strands of varying shade, a soft sheen and glossy tips.

    The strand noise is stretched along the object's Z axis, which suits hair that falls down.
    """
    mat = _material(name)
    t = TreeBuilder(mat.node_tree)
    coords = t.object_coords(-1100, 0)
    stretch = t.add("ShaderNodeMapping", -900, 0, {"Vector": coords, "Scale": (90.0, 90.0, 4.0)})
    strands = t.noise(-700, 0, stretch.outputs[0], scale=1.0, detail=5.0, rough=0.6)
    base = t.ramp(
        -450,
        150,
        strands,
        [(0.25, _scaled(color, 0.45)), (0.5, tuple(color[:3])), (0.8, _scaled(color, 1.35))],
    )
    bump = t.add(
        "ShaderNodeBump", -450, -150, {"Strength": 0.35, "Distance": 0.002, "Height": strands}
    )
    t.principled(
        -150,
        100,
        {
            "Base Color": base,
            "Roughness": 0.38,
            "Specular Tint": (*_scaled(color, 1.6), 1.0),
            "Sheen Weight": 0.3,
            "Sheen Roughness": 0.4,
            "Normal": bump.outputs[0],
        },
    )
    _viewport(mat, color, 0.4)
    return mat


def teeth_material(name: str = "PT_Teeth") -> bpy.types.Material:
    """Teeth: warm off-white enamel with a little translucency and a wet coat."""
    mat = _material(name)
    enamel = (0.80, 0.76, 0.66)
    TreeBuilder(mat.node_tree).principled(
        0,
        0,
        {
            "Base Color": enamel,
            "Roughness": 0.25,
            "Subsurface Weight": 0.3,
            "Subsurface Radius": (1.0, 0.8, 0.6),
            "Subsurface Scale": 0.002,
            "Coat Weight": 0.5,
            "Coat Roughness": 0.05,
        },
    )
    _viewport(mat, enamel, 0.25)
    return mat


def mouth_material(name: str = "PT_Mouth") -> bpy.types.Material:
    """Inside of the mouth (gums, tongue, cavity): dark wet red that reads as depth."""
    mat = _material(name)
    flesh = (0.16, 0.035, 0.035)
    TreeBuilder(mat.node_tree).principled(
        0,
        0,
        {
            "Base Color": flesh,
            "Roughness": 0.35,
            "Subsurface Weight": 0.4,
            "Subsurface Radius": (1.0, 0.3, 0.2),
            "Subsurface Scale": 0.003,
            "Coat Weight": 0.4,
            "Coat Roughness": 0.1,
        },
    )
    _viewport(mat, flesh, 0.35)
    return mat
