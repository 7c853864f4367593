# SPDX-License-Identifier: GPL-3.0-or-later
"""Small synthetic SMPL-X and FLAME model files for tests (never real model data).

Both files are well-formed ``.npz`` archives with the keys the ``smplx`` package reads
(``v_template, f, shapedirs, posedirs, J_regressor, weights, kintree_table`` plus the landmark
embedding ``lmk_faces_idx, lmk_bary_coords, dynamic_lmk_faces_idx, dynamic_lmk_bary_coords``;
SMPL-X adds the hand PCA arrays). Units are metres, Y up, the face looks along +Z, the subject's
left is +X (the SMPL-X/FLAME conventions).

The head is a lat-long ellipsoid with a nose, eye sockets and a real mouth slit (the lip edge
vertices are duplicated, so the upper and lower lips can meet or part); the iBUG-68 landmarks sit
on brows, eyes, nose, lips and jaw line. ``shapedirs`` holds 300 shape + 100 expression columns
(FLAME-2020 / SMPL-X v1.1 layout): expression columns are random mixes of localised semantic
fields (lips apart, smile, pucker, brows, blinks...) with decaying variance, like a PCA basis.
Everything is deterministic from ``seed``.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

N_SHAPE, N_EXPR = 300, 100
LAT0, LAT1, N_LAT, N_LON = 4.0, 160.0, 49, 72
"""Head grid: latitude (degrees from the crown) from LAT0 to LAT1 in N_LAT rows, N_LON columns."""
MOUTH_LAT, MOUTH_HALF = 112.0, 5
"""Mouth slit row (degrees) and half width in grid columns (5 degrees each)."""
HEAD_RADII = (0.078, 0.105, 0.095)
LIP_GAP = 0.003
"""Neutral inner-lip gap at the mouth centre (metres)."""

SMPLX_REST: dict[str, tuple[float, float, float]] = {
    "pelvis": (0, 0.95, 0), "left_hip": (0.09, 0.87, 0), "right_hip": (-0.09, 0.87, 0),
    "spine1": (0, 1.05, -0.01), "left_knee": (0.1, 0.5, 0), "right_knee": (-0.1, 0.5, 0),
    "spine2": (0, 1.18, 0), "left_ankle": (0.1, 0.09, -0.02), "right_ankle": (-0.1, 0.09, -0.02),
    "spine3": (0, 1.26, 0.01), "left_foot": (0.11, 0.03, 0.1), "right_foot": (-0.11, 0.03, 0.1),
    "neck": (0, 1.5, -0.01), "left_collar": (0.07, 1.42, 0), "right_collar": (-0.07, 1.42, 0),
    "head": (0, 1.58, 0.0), "left_shoulder": (0.17, 1.44, -0.01),
    "right_shoulder": (-0.17, 1.44, -0.01), "left_elbow": (0.43, 1.44, -0.02),
    "right_elbow": (-0.43, 1.44, -0.02), "left_wrist": (0.68, 1.44, -0.01),
    "right_wrist": (-0.68, 1.44, -0.01),
}
HEAD_CENTRE_SMPLX = np.array([0.0, 1.66, 0.02])
_FINGERS = {"index": (0.09, 0.03), "middle": (0.095, 0.01), "pinky": (0.08, -0.035),
            "ring": (0.09, -0.012), "thumb": (0.03, 0.05)}


class _Mesh:
    """Accumulates vertices, triangles and per-vertex joint weights."""

    def __init__(self, n_joints: int) -> None:
        self.v: list[np.ndarray] = []
        self.f: list[np.ndarray] = []
        self.w: list[np.ndarray] = []
        self.nj = n_joints
        self.n = 0
        self.beads: dict[int, np.ndarray] = {}

    def add(self, v: np.ndarray, f: np.ndarray, w: np.ndarray) -> int:
        off = self.n
        self.v.append(np.asarray(v, float))
        self.f.append(np.asarray(f, np.int64) + off)
        self.w.append(w)
        self.n += len(v)
        return off

    def bead(self, joint: int, centre, radius: float, parent: int | None = None) -> None:
        """A small UV sphere around ``centre`` whose vertex mean is exactly ``centre``."""
        v, f = _uv_sphere(6, 8)
        w = np.zeros((len(v), self.nj))
        w[:, joint] = 1.0
        off = self.add(v * radius + np.asarray(centre), f, w)
        self.beads[joint] = np.arange(off, off + len(v))

    def limb(self, a, b, ja: int, jb: int, radius: float) -> None:
        """An open cylinder from ``a`` to ``b`` skinned from joint ``ja`` to ``jb``."""
        a, b = np.asarray(a, float), np.asarray(b, float)
        axis = b - a
        length = float(np.linalg.norm(axis))
        if length < 1e-6:
            return
        d = axis / length
        u = np.cross(d, [0, 0, 1.0] if abs(d[2]) < 0.9 else [1.0, 0, 0])
        u /= np.linalg.norm(u)
        s = np.cross(d, u)
        n_ring, n_len = 10, 8
        t = np.linspace(0.15, 0.85, n_len)
        ang = np.linspace(0, 2 * np.pi, n_ring, endpoint=False)
        ring = radius * (np.cos(ang)[:, None] * u + np.sin(ang)[:, None] * s)
        v = (a + t[:, None, None] * axis + ring[None]).reshape(-1, 3)
        f = _grid_faces(n_len, n_ring, wrap=True)
        w = np.zeros((len(v), self.nj))
        tt = np.repeat(t, n_ring)
        w[:, ja] += 1 - tt
        w[:, jb] += tt
        self.add(v, f, w)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.concatenate(self.v), np.concatenate(self.f), np.concatenate(self.w)


def _uv_sphere(n_lat: int, n_lon: int) -> tuple[np.ndarray, np.ndarray]:
    th = np.linspace(0, np.pi, n_lat + 2)[1:-1]
    ph = np.linspace(0, 2 * np.pi, n_lon, endpoint=False)
    ring = np.stack([np.sin(th)[:, None] * np.cos(ph), np.cos(th)[:, None] * np.ones_like(ph),
                     np.sin(th)[:, None] * np.sin(ph)], -1).reshape(-1, 3)
    v = np.concatenate([ring, [[0, 1, 0], [0, -1, 0]]])
    f = list(_grid_faces(n_lat, n_lon, wrap=True))
    top, bot = len(ring), len(ring) + 1
    for j in range(n_lon):
        k = (j + 1) % n_lon
        f.append([top, k, j])
        f.append([bot, (n_lat - 1) * n_lon + j, (n_lat - 1) * n_lon + k])
    return v, np.array(f)


def _grid_faces(rows: int, cols: int, wrap: bool) -> np.ndarray:
    f = []
    for i in range(rows - 1):
        for j in range(cols if wrap else cols - 1):
            a, b = i * cols + j, i * cols + (j + 1) % cols
            c, d = a + cols, b + cols
            f += [[a, c, b], [b, c, d]]
    return np.array(f, np.int64)


def _bump(th, ph, th0, ph0, s_th, s_ph):
    return np.exp(-(((th - th0) / s_th) ** 2) - ((ph - ph0) / s_ph) ** 2)


def _head(rng: np.random.Generator):
    """Head surface: vertices (local, centre at origin), faces, (theta, phi, side) per vertex,
    static and contour landmark vertex ids, and the ids of the upper/lower lip edge."""
    th = np.linspace(LAT0, LAT1, N_LAT)
    ph = (np.arange(N_LON) - N_LON // 2) * (360.0 / N_LON)  # 0 at the front
    T, P = np.meshgrid(th, ph, indexing="ij")
    i_m = int(np.argmin(np.abs(th - MOUTH_LAT)))
    j0 = N_LON // 2
    grid = T.ravel(), P.ravel()
    faces = _grid_faces(N_LAT, N_LON, wrap=True)
    # duplicate the interior of the mouth row: faces below the slit use the copies
    interior = [i_m * N_LON + j0 + k for k in range(-MOUTH_HALF + 1, MOUTH_HALF)]
    dup = {v: N_LAT * N_LON + n for n, v in enumerate(interior)}
    for fi, tri in enumerate(faces):
        rows = tri // N_LON
        if rows.max() > i_m:  # a face between the mouth row and the row below
            faces[fi] = [dup.get(int(x), int(x)) if x // N_LON == i_m else x for x in tri]
    t_all = np.concatenate([grid[0], T.ravel()[interior]])
    p_all = np.concatenate([grid[1], P.ravel()[interior]])
    side = np.sign(MOUTH_LAT - t_all + 1e-9)  # +1 above the slit, -1 below
    side[interior] = 1.0
    side[len(grid[0]):] = -1.0
    tr, pr = np.radians(t_all), np.radians(p_all)
    n = np.stack([np.sin(tr) * np.sin(pr), np.cos(tr), np.sin(tr) * np.cos(pr)], -1)
    v = n * np.array(HEAD_RADII)
    front = np.clip(np.cos(pr), 0, None)
    bump = (0.02 * _bump(t_all, p_all, 92, 0, 9, 9)  # nose
            + 0.006 * _bump(t_all, p_all, MOUTH_LAT, 0, 7, 22)  # lips
            - 0.006 * _bump(t_all, p_all, 72, 24, 5, 7)  # eye sockets
            - 0.006 * _bump(t_all, p_all, 72, -24, 5, 7)
            + 0.004 * _bump(t_all, p_all, 62, 0, 4, 40))  # brow ridge
    v += n * (bump * front)[:, None]
    # open the slit: the lip edges part by LIP_GAP at the centre, meeting at the corners
    k = (p_all / (5.0 * MOUTH_HALF)) ** 2
    edge = np.zeros(len(v))
    edge[interior] = 1.0
    edge[len(grid[0]):] = -1.0
    v[:, 1] += 0.5 * LIP_GAP * edge * np.clip(1 - k, 0, None)
    v += rng.normal(0, 2e-4, v.shape)  # a little skin irregularity

    def at(t, p, lower=False):
        i = int(np.argmin(np.abs(th - t)))
        j = int(np.argmin(np.abs(((ph - p + 180) % 360) - 180)))
        vid = i * N_LON + j
        return dup.get(vid, vid) if lower else vid

    brow = [at(61 + abs(x) / 12, x) for x in (-40, -32, -24, -17, -10, 10, 17, 24, 32, 40)]
    nose = [at(t, 0) for t in (72, 79, 86, 94)] + [at(99, x) for x in (-10, -5, 0, 5, 10)]

    def eye(c):
        s = np.sign(c)
        return [at(72, c - 10 * s), at(69, c - 4), at(69, c + 4), at(72, c + 10 * s),
                at(75, c + 4), at(75, c - 4)]

    eyes = eye(-24) + eye(24)
    eyes[0:6] = [eyes[3], eyes[1], eyes[2], eyes[0], eyes[4], eyes[5]]  # right eye: outer first
    m, hw = MOUTH_LAT, 5.0 * MOUTH_HALF
    up, lo = m - 5, m + 7
    outer = ([at(m, -hw - 5), at(up, -15), at(up - 1, -7), at(up - 1, 0), at(up - 1, 7), at(up, 15),
              at(m, hw + 5), at(lo, 15), at(lo + 1, 7), at(lo + 1, 0), at(lo + 1, -7), at(lo, -15)])
    inner = ([at(m, -hw), at(m, -10), at(m, 0), at(m, 10), at(m, hw),
              at(m, 10, True), at(m, 0, True), at(m, -10, True)])
    static = brow + nose + eyes + outer + inner

    def contour(yaw):
        return [at(100 + 42 * np.cos(np.radians(a)), a - yaw) for a in np.linspace(-88, 88, 17)]

    yaws = list(range(0, 40)) + [-a for a in range(1, 40)]
    lips = np.array([at(m, 0), at(m, 0, True)])
    return v, faces, (t_all, p_all, side), static, [contour(y) for y in yaws], lips


def _embed(faces: np.ndarray, vids: list[int], exact: bool) -> tuple[np.ndarray, np.ndarray]:
    """Face index and barycentric weights that put each landmark on (or next to) its vertex."""
    fi, bc = [], []
    for vid in vids:
        f = int(np.argmax((faces == vid).any(1)))
        pos = int(np.argmax(faces[f] == vid))
        w = np.full(3, 0.0 if exact else 0.15)
        w[pos] = 1.0 if exact else 0.7
        fi.append(f)
        bc.append(w)
    return np.array(fi, np.int64), np.array(bc)


def _semantic_fields(tps, v_local: np.ndarray) -> np.ndarray:
    """(F, V, 3) localised displacement fields (metres per unit) on the head vertices."""
    t, p, side = tps
    up, lo = side > 0, side < 0
    hw = 5.0 * MOUTH_HALF
    mouth = _bump(t, p, MOUTH_LAT, 0, 10, 28)
    upper, lower = mouth * up, mouth * lo
    f = []

    def vec(w, d):
        return w[:, None] * np.asarray(d, float)[None]

    f.append(vec(lower, (0, -0.006, 0)))  # lower lip down
    f.append(vec(upper, (0, 0.004, 0)))  # upper lip up
    for s in (1, -1):
        c = _bump(t, p, MOUTH_LAT, s * hw, 7, 10)
        f.append(vec(c, (s * 0.004, 0.005, -0.002)))  # smile
        f.append(vec(c, (s * 0.005, -0.001, 0)))  # stretch
        f.append(vec(c, (0, -0.004, 0)))  # frown
    f.append(vec(mouth, (0, 0, 0.006)) + vec(mouth * np.sign(p) * np.abs(p) / hw, (-0.003, 0, 0)))
    f.append(vec(_bump(t, p, MOUTH_LAT, 0, 3, 25) * up, (0, -0.003, 0))
             + vec(_bump(t, p, MOUTH_LAT, 0, 3, 25) * lo, (0, 0.003, 0)))  # press together
    for s in (1, -1):
        f.append(vec(_bump(t, p, 61, s * 28, 5, 14), (0, 0.006, 0)))  # brow raise
        f.append(vec(_bump(t, p, 68, s * 24, 3, 9), (0, -0.005, 0.001)))  # upper lid down
        f.append(vec(_bump(t, p, 100, s * 45, 12, 15), (s * 0.005, 0, 0.003)))  # cheek
        f.append(vec(_bump(t, p, 92, s * 8, 6, 8), (0, 0.003, 0)))  # sneer
    f.append(vec(_bump(t, p, 62, 0, 5, 12), (0, -0.004, 0)))  # brows in/down
    f.append(vec(mouth, (0.004, 0, 0)))  # mouth sideways
    f.append(vec(_bump(t, p, 135, 0, 25, 40) * lo, (0.003, 0, 0.001)))  # chin sideways/forward
    return np.stack(f)


def _expr_dirs(rng, tps, v_local: np.ndarray) -> np.ndarray:
    """(V, 3, N_EXPR): random mixes of the semantic fields with decaying variance."""
    sem = _semantic_fields(tps, v_local)
    mix = rng.normal(size=(N_EXPR, len(sem)))
    scale = 1.0 / (1.0 + np.arange(N_EXPR) / 6.0)
    dirs = np.einsum("kf,fvc->vck", mix * scale[:, None], sem) * 0.5
    t, p, _ = tps
    for k in range(N_EXPR):  # plus one smooth random bump per column
        b = _bump(t, p, rng.uniform(60, 140), rng.uniform(-70, 70), 8, 12)
        dirs[:, :, k] += b[:, None] * rng.normal(0, 0.001, 3) * scale[k]
    return dirs


def _shape_dirs(rng, v: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """(V, 3, N_SHAPE): 10 smooth global fields (size, width, depth, ...), the rest zero."""
    d = np.zeros((len(v), 3, N_SHAPE))
    rel = v - centre
    d[:, 1, 0] = 0.03 * rel[:, 1]
    d[:, 0, 1] = 0.05 * rel[:, 0]
    d[:, 2, 2] = 0.05 * rel[:, 2]
    for k in range(3, 10):
        c = v[rng.integers(len(v))]
        w = np.exp(-np.sum((v - c) ** 2, 1) / (2 * 0.05**2))
        d[:, :, k] = w[:, None] * rng.normal(0, 0.004, 3)
    return d


def _pose_dirs(rng, weights: np.ndarray) -> np.ndarray:
    """(V, 3, 9 (J - 1)): small correctives on the vertices each joint moves most."""
    nv, nj = weights.shape
    pd = np.zeros((nv, 3, 9 * (nj - 1)))
    for j in range(1, nj):
        w = weights[:, j] * (weights[:, j] > 0.3)
        pd[:, :, 9 * (j - 1): 9 * j] = w[:, None, None] * rng.normal(0, 0.002, (1, 3, 9))
    return pd


def _add_head(mesh: _Mesh, rng, centre, head: int, jaw: int) -> tuple:
    hv, hf, tps, static, dyn, lips = _head(rng)
    t, p, side = tps
    jaw_w = (side < 0) * np.clip(1.6 * np.cos(np.radians(p)), 0, 1)
    w = np.zeros((len(hv), mesh.nj))
    w[:, jaw] = jaw_w
    w[:, head] = 1 - jaw_w
    off = mesh.add(hv + centre, hf, w)
    return off, len(hv), tps, static, dyn, lips, hf


def _finish(mesh: _Mesh, rng, head_info, centre, parents, rest, kind: str) -> dict:
    off, nh, tps, static, dyn, lips, hf = head_info
    v, f, w = mesh.arrays()
    w = w / w.sum(1, keepdims=True)
    nj = len(parents)
    jreg = np.zeros((nj, len(v)))
    for j, ids in mesh.beads.items():
        jreg[j, ids] = 1.0 / len(ids)
    expr = np.zeros((len(v), 3, N_EXPR))
    expr[off:off + nh] = _expr_dirs(rng, tps, v[off:off + nh] - centre)
    shape = _shape_dirs(rng, v, centre)
    lf, lb = _embed(f, [x + off for x in static], exact=False)
    exact_inner = [x + off for x in static[-8:]]
    lf[-8:], lb[-8:] = _embed(f, exact_inner, exact=True)
    dyn_f, dyn_b = zip(*[_embed(f, [x + off for x in c], exact=False) for c in dyn])
    data = {
        "v_template": v.astype(np.float64), "f": f.astype(np.int64),
        "shapedirs": np.concatenate([shape, expr], -1).astype(np.float32),
        "posedirs": _pose_dirs(rng, w).astype(np.float32),
        "J_regressor": jreg.astype(np.float32), "weights": w.astype(np.float32),
        "kintree_table": np.stack([np.array(parents, np.int64), np.arange(nj)]),
        "lmk_faces_idx": lf, "lmk_bary_coords": lb.astype(np.float32),
        "dynamic_lmk_faces_idx": np.stack(dyn_f), "dynamic_lmk_bary_coords":
            np.stack(dyn_b).astype(np.float32),
        "synthetic_lip_vertices": (lips + off).astype(np.int64),
    }
    if kind == "smplx":
        for s in "lr":
            q, _ = np.linalg.qr(rng.normal(size=(45, 45)))
            data[f"hands_components{s}"] = q.astype(np.float32)
            data[f"hands_mean{s}"] = rng.normal(0, 0.05, 45).astype(np.float32)
    return data


def _save(path, data: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **data)
    tmp.replace(path)
    return path


def synthetic_smplx_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """The arrays of :func:`write_synthetic_smplx` (>= 9930 vertices, 55 joints)."""
    from paksatalker.core.names import SMPLX_JOINTS, SMPLX_PARENTS

    rng = np.random.default_rng(seed)
    rest = {n: np.array(p, float) for n, p in SMPLX_REST.items()}
    c = HEAD_CENTRE_SMPLX
    rest["jaw"] = c + (0, -0.04, -0.02)
    for s, x in (("left", 1), ("right", -1)):
        rest[f"{s}_eye_smplhf"] = c + (x * 0.031, 0.025, 0.07)
        wrist = rest[f"{s}_wrist"]
        for fng, (reach, dz) in _FINGERS.items():
            step = np.array([x, -0.6 if fng == "thumb" else 0.0, 0.7 if fng == "thumb" else 0.0])
            step /= np.linalg.norm(step)
            base = wrist + (x * reach, -0.005, dz)
            for i, d in enumerate((0.0, 0.035, 0.065)):
                rest[f"{s}_{fng}{i + 1}"] = base + step * d
    pos = np.array([rest[n] for n in SMPLX_JOINTS])
    mesh = _Mesh(len(SMPLX_JOINTS))
    for j, name in enumerate(SMPLX_JOINTS):
        small = "eye" in name or any(f in name for f in _FINGERS)
        mesh.bead(j, pos[j], 0.012 if small else 0.03)
        pj = SMPLX_PARENTS[j]
        if pj >= 0 and name not in ("jaw",) and "eye" not in name:
            mesh.limb(pos[pj], pos[j], pj, j, 0.012 if small else 0.045)
    mesh.limb(pos[0] + (0, 0, 0), pos[9], 0, 9, 0.12)  # torso
    head = _add_head(mesh, rng, c, SMPLX_JOINTS.index("head"), SMPLX_JOINTS.index("jaw"))
    return _finish(mesh, rng, head, c, list(SMPLX_PARENTS), pos, "smplx")


def synthetic_flame_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """The arrays of :func:`write_synthetic_flame` (5 joints: global, neck, jaw, eyes)."""
    rng = np.random.default_rng(seed)
    c = np.zeros(3)
    pos = np.array([[0, -0.11, -0.02], [0, -0.07, -0.02], [0, -0.04, -0.02],
                    [0.031, 0.025, 0.07], [-0.031, 0.025, 0.07]])
    mesh = _Mesh(5)
    for j in range(5):
        mesh.bead(j, pos[j], 0.012 if j >= 3 else 0.02)
    mesh.limb(pos[0] + (0, -0.04, 0), pos[1], 0, 1, 0.05)  # neck
    head = _add_head(mesh, rng, c, 1, 2)
    return _finish(mesh, rng, head, c, [-1, 0, 1, 1, 1], pos, "flame")


def write_synthetic_smplx(path, seed: int = 0) -> Path:
    """Write a synthetic SMPL-X ``.npz`` (loads with ``smplx.SMPLX``; ``smplx.create`` also
    needs the file to be named like ``SMPLX_NEUTRAL.npz``)."""
    return _save(path, synthetic_smplx_arrays(seed))


def write_synthetic_flame(path, seed: int = 0) -> Path:
    """Write a synthetic FLAME ``.npz`` (FLAME-2020 layout: 300 shape + 100 expression columns,
    landmark embedding included)."""
    return _save(path, synthetic_flame_arrays(seed))


def smplx_package_flame_dir(flame_npz, folder) -> Path:
    """Lay a synthetic FLAME file out the way ``smplx.FLAME`` expects (``FLAME_NEUTRAL.npz`` plus
    its pickled ``flame_static_embedding.pkl``); test-only, for cross-checks with that package."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with np.load(flame_npz, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    np.savez(folder / "FLAME_NEUTRAL.npz", **data)
    with open(folder / "flame_static_embedding.pkl", "wb") as fh:
        pickle.dump({"lmk_face_idx": data["lmk_faces_idx"],
                     "lmk_b_coords": data["lmk_bary_coords"]}, fh)
    return folder
