# SPDX-License-Identifier: GPL-3.0-or-later
"""The fast Cycles path for a static camera and background.

1. The background (everything but the character) is rendered once, full frame, to a linear
   half-float EXR; it is cached next to the frames under a key of everything that shapes it, so a
   resumed or sharded render reuses it.
2. Each frame renders only the character, inside the box it projects to on screen (render
   border, not cropped: the rest of the frame stays transparent), with the studio floor as a
   shadow catcher and the backdrop left out; the compositor lays it over the EXR in linear
   light, before the view transform (as a full render would be).

Measured on 2 CPU cores (ENVIRONMENT.md): 2.4x faster than the full frame with floor shadows,
4.9x without; ``bench/render_bench.py`` measures it on the bundled avatar.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import bpy
import numpy as np

from .post import insert_layers

ROLE = "paksatalker_role"
MARGIN = 0.03
"""Extra border around the character's screen box, as a fraction of the frame."""


def character_objects(scene: bpy.types.Scene) -> list[bpy.types.Object]:
    """Renderable meshes that are not part of the studio (the character and its clothes)."""
    return [o for o in scene.objects if o.type == "MESH" and not o.get(ROLE) and not o.hide_render]


def background_key(scene: bpy.types.Scene) -> str:
    """A digest of what the background render depends on: camera, lights, world, size, samples."""
    parts = [bpy.app.version_string, scene.render.engine, str(scene.cycles.samples),
             f"{scene.render.resolution_x}x{scene.render.resolution_y}"]
    for obj in sorted(scene.objects, key=lambda o: o.name):
        if obj.get(ROLE):
            parts.append(obj.name + str([round(v, 5) for row in obj.matrix_world for v in row]))
            if obj.type == "LIGHT":
                parts.append(f"{obj.data.energy:.5f}{tuple(obj.data.color)}"
                             f"{getattr(obj.data, 'temperature', '')}")
            if obj.type == "CAMERA":
                parts.append(f"{obj.data.lens}{obj.data.dof.use_dof}{obj.data.dof.aperture_fstop}")
    if scene.world is not None:
        parts.append(scene.world.name + str(len(scene.world.node_tree.nodes)))
        for node in scene.world.node_tree.nodes:
            parts.extend(str(tuple(i.default_value)) if hasattr(i.default_value, "__len__")
                         else str(i.default_value) for i in node.inputs
                         if hasattr(i, "default_value"))
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def render_background(scene: bpy.types.Scene, path: Path) -> Path:
    """Render the scene without the character to a linear RGBA EXR at ``path`` (atomic)."""
    hidden = character_objects(scene)
    r = scene.render
    saved = (r.filepath, r.use_compositing, r.image_settings.file_format,
             r.image_settings.color_mode, r.image_settings.color_depth)
    for obj in hidden:
        obj.hide_render = True
    partial = path.with_name(f".{path.stem}.partial.exr")
    try:
        r.use_compositing = False
        r.image_settings.file_format = "OPEN_EXR"
        r.image_settings.color_mode = "RGBA"
        r.image_settings.color_depth = "16"
        r.filepath = str(partial)
        bpy.ops.render.render(write_still=True, scene=scene.name)
        os.replace(partial, path)
    finally:
        for obj in hidden:
            obj.hide_render = False
        (r.filepath, r.use_compositing, r.image_settings.file_format,
         r.image_settings.color_mode, r.image_settings.color_depth) = saved
    return path


def _world_points(objects, depsgraph) -> np.ndarray:
    """Evaluated (deformed) vertex positions of ``objects`` in world space, (N, 3)."""
    chunks = []
    for obj in objects:
        ev = obj.evaluated_get(depsgraph)
        mesh = ev.to_mesh()
        try:
            co = np.empty(3 * len(mesh.vertices), dtype=np.float64)
            mesh.vertices.foreach_get("co", co)
        finally:
            ev.to_mesh_clear()
        m = np.array(ev.matrix_world)
        chunks.append(co.reshape(-1, 3) @ m[:3, :3].T + m[:3, 3])
    return np.concatenate(chunks) if chunks else np.zeros((0, 3))


def _project(scene: bpy.types.Scene, points: np.ndarray) -> np.ndarray:
    """Frame coordinates (x, y in 0..1, y up) of world points in front of a perspective camera."""
    cam = scene.camera
    to_cam = np.array(cam.matrix_world.inverted())
    p = points @ to_cam[:3, :3].T + to_cam[:3, 3]
    p = p[p[:, 2] < -1e-6]
    frame = [tuple(v) for v in cam.data.view_frame(scene=scene)]
    xs, ys, z = [v[0] for v in frame], [v[1] for v in frame], frame[0][2]
    x = p[:, 0] * z / p[:, 2]
    y = p[:, 1] * z / p[:, 2]
    return np.stack([(x - min(xs)) / (max(xs) - min(xs)), (y - min(ys)) / (max(ys) - min(ys))], 1)


def screen_box(scene: bpy.types.Scene, objects, floor_z: float | None = None,
               shadow_reach: float = 0.0) -> tuple[float, float, float, float] | None:
    """The objects' deformed vertices on screen: ``(x0, x1, y0, y1)`` in 0..1, padded.

    With ``floor_z`` and the feet in frame, a square of ``shadow_reach`` metres around them on the
    floor is added (where the character's shadow falls). None when nothing is in view.
    """
    points = _world_points(objects, bpy.context.evaluated_depsgraph_get())
    if not len(points):
        return None
    xy = _project(scene, points)
    if not len(xy):
        return None
    if floor_z is not None and shadow_reach > 0 and xy[:, 1].min() > 0.0:
        lo, hi = points[:, :2].min(axis=0) - shadow_reach, points[:, :2].max(axis=0) + shadow_reach
        floor = np.array([(x, y, floor_z) for x in (lo[0], hi[0]) for y in (lo[1], hi[1])])
        xy = np.concatenate([xy, _project(scene, floor)])
    x0, y0 = np.clip(xy.min(axis=0) - MARGIN, 0.0, 1.0)
    x1, y1 = np.clip(xy.max(axis=0) + MARGIN, 0.0, 1.0)
    if x1 <= x0 or y1 <= y0:
        return None
    return float(x0), float(x1), float(y0), float(y1)


def prepare(scene: bpy.types.Scene, cache_dir: Path, *, layer_dir: Path | None = None,
            crop: bool = True) -> Callable[[int], None] | None:
    """Set up the character-only render over a cached background; return the per-frame hook.

    Call after :func:`configure` (engine, size, samples) and before rendering frames; call
    :func:`restore` after. The hook, called after ``frame_set``, sets the render border to the
    character's screen box. ``layer_dir``: also write the character alone per frame there.
    ``crop=False`` only adds that layer output (no cached background, no border; returns None).
    """
    studio = {o.get(ROLE): o for o in scene.objects if o.get(ROLE)}
    floor, backdrop = studio.get("floor"), studio.get("backdrop")
    exr = None
    if crop and not scene.render.film_transparent:  # a world/studio background: render it once
        exr = Path(cache_dir) / f".background-{background_key(scene)}.exr"
        if not exr.is_file():
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            render_background(scene, exr)
    # Work on a copy of the compositor, so restore() can put the original back.
    original = scene.compositing_node_group
    scene["paksatalker_fast"] = {
        "compositor": original.name if original else "",
        "use_compositing": scene.render.use_compositing,
        "film_transparent": scene.render.film_transparent,
    }
    if original is not None:
        scene.compositing_node_group = original.copy()
    insert_layers(scene, background_exr=exr, layer_dir=layer_dir)
    scene.compositing_node_group["paksatalker_fast_copy"] = True
    if exr is not None:
        scene.render.film_transparent = True
        if floor is not None:
            floor.is_shadow_catcher = True
        if backdrop is not None:
            backdrop.hide_render = True
    if not crop:
        return None
    people = [o for o in character_objects(scene) if o is not floor]
    height = max((o.dimensions.z for o in people), default=1.7)
    r = scene.render
    r.use_border = True
    r.use_crop_to_border = False

    def hook(frame: int) -> None:
        box = screen_box(scene, people, floor.location.z if floor else None, 0.25 * height)
        if box is None:  # nothing to render: an empty border still renders one pixel
            box = (0.0, 0.001, 0.0, 0.001)
        r.border_min_x, r.border_max_x, r.border_min_y, r.border_max_y = box

    return hook


def restore(scene: bpy.types.Scene) -> None:
    """Undo :func:`prepare`: border, floor, backdrop, film and the original compositor."""
    saved = scene.get("paksatalker_fast")
    scene.render.use_border = False
    for obj in scene.objects:
        if obj.get(ROLE) == "floor":
            obj.is_shadow_catcher = False
        if obj.get(ROLE) == "backdrop":
            obj.hide_render = False
    if saved is None:
        return
    copy = scene.compositing_node_group
    scene.compositing_node_group = bpy.data.node_groups.get(saved["compositor"]) if saved[
        "compositor"] else None
    if copy is not None and copy.get("paksatalker_fast_copy"):
        bpy.data.node_groups.remove(copy)
    scene.render.use_compositing = bool(saved["use_compositing"])
    scene.render.film_transparent = bool(saved["film_transparent"])
    del scene["paksatalker_fast"]
