# SPDX-License-Identifier: GPL-3.0-or-later
"""A toon / cel look: flat colour bands and ink outlines, as an alternative to the realistic
materials.

Each material becomes a ``PT_ToonShader`` group instance coloured from the original material's
viewport colour. The group has two outputs because the engines differ: EEVEE quantises real
lighting into bands (Shader to RGB -> constant ramp); Cycles, which has no Shader to RGB, uses
its Toon BSDF. Two Material Output nodes pick one per engine. Outlines are an inverted hull: a
Solidify modifier with flipped normals and an ink material that only its back faces show.
"""

from __future__ import annotations

import bpy

from .nodes import TreeBuilder, node_group, tagged_material

TOON_TAG = "paksatalker_toon"
OUTLINE = "PT_ToonOutline"


def _toon(t: TreeBuilder, g: dict) -> None:
    diffuse = t.add("ShaderNodeBsdfDiffuse", -900, 200, {"Color": (1.0, 1.0, 1.0)})
    light = t.add("ShaderNodeShaderToRGB", -700, 200, {0: diffuse.outputs[0]})
    bands = t.ramp(-500, 200, light.outputs[0],
                   [(0.0, (0.35,) * 3), (0.08, (0.7,) * 3), (0.45, (1.0,) * 3)],
                   interpolation="CONSTANT")
    color = t.mix(-200, 200, 1.0, g["Color"], bands, blend="MULTIPLY")
    emit = t.add("ShaderNodeEmission", 0, 200, {"Color": color, "Strength": 1.0})
    cel = t.add("ShaderNodeBsdfToon", -200, -150,
                {"Color": g["Color"], "Size": 0.6, "Smooth": 0.02})
    rim = t.add("ShaderNodeBsdfToon", -200, -350,
                {"Color": (1.0, 1.0, 1.0), "Size": 0.2, "Smooth": 0.05}, component="GLOSSY")
    cycles = t.add("ShaderNodeAddShader", 0, -200, {0: cel.outputs[0]})
    t.set(cycles.inputs[1], rim.outputs[0])
    out = next(n for n in t.nodes if n.bl_idname == "NodeGroupOutput")
    t.links.new(emit.outputs[0], out.inputs["EEVEE"])
    t.links.new(cycles.outputs[0], out.inputs["Cycles"])


def toon_material(source: bpy.types.Material) -> bpy.types.Material:
    """The toon version of ``source`` (reused if made before), in its viewport colour."""
    name = f"{source.name}_Toon"
    mat = tagged_material(name, TOON_TAG)
    group = node_group("PT_ToonShader", [("Color", "NodeSocketColor", (0.8, 0.8, 0.8))], _toon,
                       outputs=("EEVEE", "Cycles"))
    t = TreeBuilder(mat.node_tree)
    node = t.add("ShaderNodeGroup", 0, 0)
    node.node_tree = group
    node.inputs["Color"].default_value = tuple(source.diffuse_color)
    for target, socket in (("EEVEE", "EEVEE"), ("CYCLES", "Cycles")):
        out = t.add("ShaderNodeOutputMaterial", 300, 0 if target == "EEVEE" else -200,
                    target=target)
        t.links.new(node.outputs[socket], out.inputs[0])
    mat.diffuse_color = source.diffuse_color
    return mat


def outline_material() -> bpy.types.Material:
    """Ink for the inverted hull: black where the hull's back faces show, clear elsewhere."""
    mat = tagged_material(OUTLINE, TOON_TAG)
    t = TreeBuilder(mat.node_tree)
    back = t.add("ShaderNodeNewGeometry", -400, 200).outputs["Backfacing"]
    clear = t.add("ShaderNodeBsdfTransparent", -200, 100)
    ink = t.add("ShaderNodeEmission", -200, -100, {"Color": (0.01, 0.01, 0.01)})
    mix = t.add("ShaderNodeMixShader", 0, 0, {0: back, 1: clear.outputs[0]})
    t.set(mix.inputs[2], ink.outputs[0])
    t.output(200, 0, mix.outputs[0])
    mat.diffuse_color = (0.01, 0.01, 0.01, 1.0)
    mat.use_backface_culling = True
    return mat


def apply_toon(objects, outline: float = 0.004) -> int:
    """Give every mesh in ``objects`` toon materials and an ``outline`` metres thick hull.

    Returns how many material slots changed. Calling it again changes nothing more.
    """
    ink = outline_material()
    changed = 0
    for obj in objects:
        if obj.type != "MESH" or obj.get(TOON_TAG):
            continue
        slots = obj.data.materials
        for i, mat in enumerate(slots):
            if mat is not None and not mat.get(TOON_TAG):
                slots[i] = toon_material(mat)
                changed += 1
        if outline > 0 and len(slots):
            slots.append(ink)
            mod = obj.modifiers.new("PT_Outline", "SOLIDIFY")
            mod.thickness = outline
            mod.offset = 1.0
            mod.use_flip_normals = True
            mod.use_rim = False
            mod.material_offset = len(slots) - 1
        obj[TOON_TAG] = True
    return changed
