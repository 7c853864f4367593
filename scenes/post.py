# SPDX-License-Identifier: GPL-3.0-or-later
"""Post: colour management looks, grading presets and a compositor built by code.

The compositor (Blender 5.0: ``scene.compositing_node_group`` ending in a Group Output) runs, in
order: background layer (the fast path's once-rendered EXR, in linear light) -> denoise -> plate
backgrounds (composited in display space) -> lens distortion and chromatic aberration -> bloom ->
sharpen -> grade -> vignette -> film grain. Steps that are off add no nodes; with nothing to do
the compositor is switched off.

Plates (image, video, green screen) are display-referred pixels: the render is converted to the
display with the chosen view transform first, the plate goes behind it untouched, and the scene
then outputs with the ``Raw`` view so nothing is converted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy

from ..core.errors import InputError

VIEWS = {"agx": "AgX", "filmic": "Filmic", "standard": "Standard"}
LOOKS = ("none", "punchy", "very_high_contrast", "high_contrast", "medium_high_contrast",
         "base_contrast", "medium_low_contrast", "low_contrast", "very_low_contrast")
# Grades: (lift rgb, gamma rgb, gain rgb, saturation, contrast).
GRADES: dict[str, tuple] = {
    "neutral": ((1, 1, 1), (1, 1, 1), (1, 1, 1), 1.0, 0.0),
    "warm": ((1.0, 0.99, 0.97), (1.02, 1.0, 0.96), (1.08, 1.0, 0.9), 1.05, 0.0),
    "cool": ((0.97, 0.99, 1.02), (0.97, 1.0, 1.03), (0.92, 0.99, 1.1), 0.97, 0.0),
    "teal_orange": ((0.95, 1.0, 1.04), (1.0, 1.0, 1.0), (1.1, 1.0, 0.86), 1.1, 5.0),
    "vivid": ((1, 1, 1), (1, 1, 1), (1.02, 1.02, 1.02), 1.3, 8.0),
    "vintage": ((1.05, 1.03, 0.98), (1.05, 1.0, 0.92), (0.96, 0.94, 0.85), 0.75, -6.0),
    "noir": ((1, 1, 1), (1, 1, 1), (1.05, 1.05, 1.05), 0.0, 12.0),
}


@dataclass(frozen=True)
class PostSettings:
    """Colour management and compositor effects; validated on creation (:class:`InputError`)."""

    view: str = "agx"
    """``agx``, ``filmic`` or ``standard``."""
    look: str = "none"
    """Contrast look of the view (``punchy`` only for AgX)."""
    grade: str = "neutral"
    exposure: float = 0.0
    """Stops."""
    denoise: bool = False
    """Compositor OpenImageDenoise (for EEVEE/Workbench; Cycles denoises while rendering)."""
    sharpen: float = 0.0
    """0..1."""
    bloom: float = 0.0
    """0..1: glow around highlights."""
    vignette: float = 0.0
    """0..1: darkening towards the corners."""
    grain: float = 0.0
    """0..1: film grain, different every frame."""
    lens_distortion: float = 0.0
    """-1..1 (barrel < 0 < pincushion, as Blender's Lens Distortion node)."""
    chromatic_aberration: float = 0.0
    """0..1: colour fringes towards the edges."""

    def __post_init__(self) -> None:
        if self.view not in VIEWS:
            raise InputError(f"unknown view {self.view!r}; choose one of {', '.join(VIEWS)}")
        if self.look not in LOOKS or (self.look == "punchy" and self.view != "agx"):
            raise InputError(f"look {self.look!r} does not suit view {self.view!r}; choose one "
                             f"of {', '.join(LOOKS)} (punchy only with agx)")
        if self.grade not in GRADES:
            raise InputError(f"unknown grade {self.grade!r}; choose one of {', '.join(GRADES)}")
        for name in ("sharpen", "bloom", "vignette", "grain", "chromatic_aberration"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"{name} must be 0..1, got {getattr(self, name)}")
        if not -1.0 <= self.lens_distortion <= 1.0:
            raise InputError(f"lens_distortion must be -1..1, got {self.lens_distortion}")
        if not -10.0 <= self.exposure <= 10.0:
            raise InputError(f"exposure must be -10..10 stops, got {self.exposure}")

    @property
    def effects(self) -> bool:
        """True when a compositor step is needed for the effects alone."""
        return bool(self.denoise or self.sharpen or self.bloom or self.vignette or self.grain
                    or self.lens_distortion or self.chromatic_aberration
                    or self.grade != "neutral")


def _look_name(view: str, look: str) -> str:
    if look == "none":
        return "None"
    words = look.replace("_", " ").title()
    return f"AgX - {words}" if view == "agx" else words


def color_management(scene: bpy.types.Scene, post: PostSettings) -> None:
    vs = scene.view_settings
    vs.view_transform = VIEWS[post.view]
    vs.look = _look_name(post.view, post.look)
    vs.exposure = post.exposure
    vs.gamma = 1.0


@dataclass(frozen=True)
class Plate:
    """What goes behind the character in the compositor (display space)."""

    kind: str
    """``image``, ``video``, ``blurred_image``, ``chroma_key``, ``green_screen``."""
    path: Path | None = None
    blur: float = 0.04
    """Blur radius as a fraction of the frame width (blurred_image)."""
    color: tuple[float, float, float] = (0.0, 1.0, 0.0)
    """Display colour: the green screen, or what shows through a keyed plate."""


class _Graph:
    def __init__(self, tree: bpy.types.NodeTree) -> None:
        self.tree, self.x = tree, 0

    def add(self, kind: str, inputs: dict | None = None, **props) -> bpy.types.Node:
        node = self.tree.nodes.new(kind)
        self.x += 220
        node.location = (self.x, 0)
        for key, value in props.items():
            setattr(node, key, value)
        for key, value in (inputs or {}).items():
            sock = node.inputs[key]
            if isinstance(value, bpy.types.NodeSocket):
                self.tree.links.new(value, sock)
            else:
                sock.default_value = value
        return node


def _image(path: Path, colorspace: str) -> bpy.types.Image:
    try:
        image = bpy.data.images.load(str(Path(path).absolute()), check_existing=True)
    except RuntimeError as err:
        raise InputError(f"cannot read {path}: {err}") from err
    image.colorspace_settings.name = colorspace
    return image


def _plate(g: _Graph, plate: Plate):
    """The plate's display-space colour, filling the frame (cropped to cover), or a colour."""
    if plate.kind == "green_screen":
        rgb = g.add("CompositorNodeRGB")
        rgb.outputs[0].default_value = (*plate.color, 1.0)
        return rgb.outputs[0]
    node = g.add("CompositorNodeImage")
    node.image = _image(plate.path, "Non-Color")  # display pixels, untouched
    if plate.kind == "video":
        node.image.source = "MOVIE"
        node.frame_duration = max(1, node.image.frame_duration)
        node.use_cyclic = True
        node.use_auto_refresh = True
    img = g.add("CompositorNodeScale", {"Image": node.outputs[0], "Type": "Render Size",
                                         "Frame Type": "Crop"}).outputs[0]
    if plate.kind == "blurred_image":
        width = bpy.context.scene.render.resolution_x
        r = max(1.0, plate.blur * width)
        img = g.add("CompositorNodeBlur", {"Image": img, "Size": (r, r)}).outputs[0]
    if plate.kind == "chroma_key":
        key = g.add("CompositorNodeKeying", {"Image": img, "Key Color": (0.0, 1.0, 0.0, 1.0)})
        base = g.add("CompositorNodeRGB")
        base.outputs[0].default_value = (*plate.color, 1.0)
        img = g.add("CompositorNodeAlphaOver",
                    {"Background": base.outputs[0], "Foreground": key.outputs["Image"]}).outputs[0]
    return img


def _output(tree: bpy.types.NodeTree, g: _Graph, img) -> None:
    if not any(s.in_out == "OUTPUT" for s in tree.interface.items_tree):
        tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
    out = g.add("NodeGroupOutput")
    tree.links.new(img, out.inputs[0])


def build_compositor(scene: bpy.types.Scene, post: PostSettings, *,
                     plate: Plate | None = None) -> bool:
    """(Re)build the scene's compositor for ``post`` and ``plate``; return whether it is in use.

    The render passes go in at one Render Layers node; :func:`insert_layers` adds the fast path's
    background and the separate character layer in front of whatever this built.
    """
    color_management(scene, post)
    old = scene.compositing_node_group
    if old is not None and old.get("paksatalker"):
        bpy.data.node_groups.remove(old)
    scene.compositing_node_group = None
    needed = post.effects or plate is not None
    scene.render.use_compositing = bool(needed)
    if not needed:
        return False
    tree = bpy.data.node_groups.new("PT_Compositor", "CompositorNodeTree")
    tree["paksatalker"] = True
    scene.compositing_node_group = tree
    g = _Graph(tree)
    layers = g.add("CompositorNodeRLayers")
    layers.scene = scene
    img = layers.outputs["Image"]
    if post.denoise:
        img = g.add("CompositorNodeDenoise", {"Image": img, "HDR": True}).outputs[0]
    if plate is not None:
        shown = g.add("CompositorNodeConvertToDisplay", {"Image": img})
        shown.view_settings.view_transform = scene.view_settings.view_transform
        shown.view_settings.look = scene.view_settings.look
        back = _plate(g, plate)
        img = g.add("CompositorNodeAlphaOver",
                    {"Background": back, "Foreground": shown.outputs[0]}).outputs[0]
        scene.view_settings.view_transform = "Raw"
        scene.view_settings.look = "None"
        scene.view_settings.exposure = 0.0
    img = _effects(g, post, img)
    _output(tree, g, img)
    return True


def _effects(g: _Graph, post: PostSettings, img):
    if post.lens_distortion or post.chromatic_aberration:
        img = g.add("CompositorNodeLensdist", {
            "Image": img, "Distortion": post.lens_distortion,
            "Dispersion": 0.1 * post.chromatic_aberration, "Fit": post.lens_distortion < 0,
        }).outputs[0]
    if post.bloom:
        img = g.add("CompositorNodeGlare", {
            "Image": img, "Type": "Bloom", "Threshold": 1.0 - 0.6 * post.bloom,
            "Smoothness": 0.3, "Strength": post.bloom,
            "Size": 0.5,
        }).outputs[0]
    if post.sharpen:
        img = g.add("CompositorNodeFilter", {"Image": img, "Type": "Box Sharpen",
                                              "Factor": 0.5 * post.sharpen}).outputs[0]
    if post.grade != "neutral":
        lift, gamma, gain, saturation, contrast = GRADES[post.grade]
        bal = g.add("CompositorNodeColorBalance", {"Image": img})
        for name, value in (("Lift", lift), ("Gamma", gamma), ("Gain", gain)):
            next(s for s in bal.inputs if s.name == name and s.type == "RGBA").default_value = (
                *value, 1.0)
        img = bal.outputs[0]
        img = g.add("CompositorNodeHueSat", {"Image": img, "Saturation": saturation}).outputs[0]
        if contrast:
            img = g.add("CompositorNodeBrightContrast",
                        {"Image": img, "Contrast": contrast}).outputs[0]
    if post.vignette:
        # Distance from the centre in normalised frame coordinates (0..1 each way).
        uv = g.add("CompositorNodeImageCoordinates", {"Image": img}).outputs["Normalized"]
        dist = g.add("ShaderNodeVectorMath", {0: uv, 1: (0.5, 0.5, 0.0)}, operation="DISTANCE")
        dark = g.add("ShaderNodeMapRange", {"Value": dist.outputs["Value"], "From Min": 0.3,
                                            "From Max": 0.75, "To Min": 1.0,
                                            "To Max": 1.0 - post.vignette},
                     interpolation_type="SMOOTHSTEP")
        img = _mix(g, "MULTIPLY", 1.0, img, dark.outputs[0])
    if post.grain:
        coords = g.add("CompositorNodeImageCoordinates", {"Image": img}).outputs["Pixel"]
        frame = g.add("CompositorNodeSceneTime").outputs["Frame"]
        noise = g.add("ShaderNodeTexWhiteNoise", {"Vector": coords, "W": frame},
                      noise_dimensions="4D")
        centred = g.add("ShaderNodeMapRange", {"Value": noise.outputs["Value"],
                                               "To Min": -0.08 * post.grain,
                                               "To Max": 0.08 * post.grain})
        img = _mix(g, "ADD", 1.0, img, centred.outputs[0])
    return img


def _mix(g: _Graph, blend: str, fac, a, b):
    node = g.add("ShaderNodeMix", data_type="RGBA", blend_type=blend)
    sockets = {s.identifier: s for s in node.inputs}
    for ident, value in (("Factor_Float", fac), ("A_Color", a), ("B_Color", b)):
        if isinstance(value, bpy.types.NodeSocket):
            g.tree.links.new(value, sockets[ident])
        else:
            sockets[ident].default_value = value
    return next(s for s in node.outputs if s.identifier == "Result_Color")


def insert_layers(scene: bpy.types.Scene, *, background_exr: Path | None = None,
                  layer_dir: Path | None = None) -> None:
    """Put a background EXR behind the render (in linear light, before every other step) and/or
    write the render alone per frame to ``layer_dir/avatar_NNNNNN.png`` (RGBA).

    Works on the scene's compositor as built (or a new pass-through one). Call it on a copy you
    can drop afterwards (see :mod:`.fast`).
    """
    tree = scene.compositing_node_group
    if tree is None:
        tree = bpy.data.node_groups.new("PT_Compositor", "CompositorNodeTree")
        tree["paksatalker"] = True
        scene.compositing_node_group = tree
        g = _Graph(tree)
        layers = g.add("CompositorNodeRLayers")
        layers.scene = scene
        _output(tree, g, layers.outputs["Image"])
    scene.render.use_compositing = True
    g = _Graph(tree)
    g.x = -600
    layers = next(n for n in tree.nodes if n.bl_idname == "CompositorNodeRLayers")
    source = layers.outputs["Image"]
    if background_exr is not None:
        consumers = [link.to_socket for link in tree.links if link.from_socket == source]
        bg = g.add("CompositorNodeImage")
        bg.image = _image(background_exr, "Linear Rec.709")
        over = g.add("CompositorNodeAlphaOver", {"Background": bg.outputs[0],
                                                  "Foreground": source})
        for socket in consumers:
            tree.links.new(over.outputs[0], socket)
    if layer_dir is not None:  # after the background, so it takes the character alone
        _layer_output(g, source, layer_dir)


def _layer_output(g: _Graph, img, folder: Path) -> None:
    node = g.add("CompositorNodeOutputFile")
    node.directory = str(Path(folder).absolute()) + "/"
    node.file_name = "avatar_######"  # the frame number, six digits
    if hasattr(node.format, "media_type"):
        node.format.media_type = "IMAGE"
    node.format.file_format = "PNG"
    node.format.color_mode = "RGBA"
    node.file_output_items.new("RGBA", "")
    g.tree.links.new(img, node.inputs[0])
