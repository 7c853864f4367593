# SPDX-License-Identifier: GPL-3.0-or-later
"""Node-tree building helpers shared by materials, worlds and shader node groups.

Socket access goes by index where Blender renamed sockets between 4.2 and 5.0 (``Fac`` became
``Factor`` on textures, ramps and mixes); Principled BSDF names are the same in both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import bpy

Color = Sequence[float]
Socket = bpy.types.NodeSocket
GROUP_TAG = "paksatalker_group"
GROUP_VERSION = 2
"""Bump when a group's nodes change: older groups in a saved .blend are then rebuilt."""


class TreeBuilder:
    """Terse shader node-tree builder (materials, worlds, node groups).

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

    def ramp(self, x: float, y: float, fac, stops: Sequence[tuple[float, Color]],
             interpolation: str = "LINEAR"):
        """Colour ramp driven by ``fac`` with ``(position, rgb)`` stops; returns its colour."""
        node = self.add("ShaderNodeValToRGB", x, y, {0: fac})
        node.color_ramp.interpolation = interpolation
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
        """A Principled BSDF wired to the tree's output (material or group)."""
        bsdf = self.add("ShaderNodeBsdfPrincipled", x, y, inputs)
        self.output(x + 400, y, bsdf.outputs[0])
        return bsdf

    def output(self, x: float, y: float, shader: Socket) -> None:
        """Wire ``shader`` to the Group Output if the tree is a group, else a Material Output."""
        group_out = next((n for n in self.nodes if n.bl_idname == "NodeGroupOutput"), None)
        if group_out is not None:
            self.links.new(shader, group_out.inputs[0])
        else:
            out = self.add("ShaderNodeOutputMaterial", x, y)
            self.links.new(shader, out.inputs[0])

    def object_coords(self, x: float, y: float) -> Socket:
        return self.add("ShaderNodeTexCoord", x, y).outputs["Object"]


Inputs = Sequence[tuple[str, str, object]]
"""Group inputs: ``(name, socket type, default)``, e.g. ``("Tone", "NodeSocketColor", rgb)``."""


def node_group(name: str, inputs: Inputs, build: Callable[[TreeBuilder, dict], None],
               outputs: Sequence[str] = ("Shader",)) -> bpy.types.ShaderNodeTree:
    """The shader node group ``name``, built once by ``build(builder, sockets)``.

    ``sockets`` maps each input name to the Group Input's socket. A group this module made at the
    current :data:`GROUP_VERSION` is reused; a user's group of the same name is left alone.
    """
    group = next((g for g in bpy.data.node_groups
                  if g.get(GROUP_TAG) == f"{name}:{GROUP_VERSION}" and g.library is None), None)
    if group is not None:
        return group
    group = bpy.data.node_groups.new(name, "ShaderNodeTree")
    group[GROUP_TAG] = f"{name}:{GROUP_VERSION}"
    for sock_name, kind, default in inputs:
        sock = group.interface.new_socket(sock_name, in_out="INPUT", socket_type=kind)
        if default is not None:
            sock.default_value = (*default, 1.0) if kind == "NodeSocketColor" else default
    for out_name in outputs:
        group.interface.new_socket(out_name, in_out="OUTPUT", socket_type="NodeSocketShader")
    t = TreeBuilder(group)
    entry = t.add("NodeGroupInput", -1800, 0)
    t.add("NodeGroupOutput", 800, 0)
    build(t, {s.name: s for s in entry.outputs if s.name})
    return group


def tagged_material(name: str, tag: str) -> bpy.types.Material:
    """The local material whose custom property ``tag`` is ``name`` (made if missing), with an
    empty node tree, so rebuilding a look reuses its material instead of adding copies."""
    mat = next((m for m in bpy.data.materials if m.get(tag) == name and m.library is None), None)
    if mat is None:
        mat = bpy.data.materials.new(name)
        mat[tag] = name
    if bpy.app.version < (5, 0, 0):
        mat.use_nodes = True
    mat.node_tree.nodes.clear()
    return mat
