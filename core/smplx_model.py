# SPDX-License-Identifier: GPL-3.0-or-later
"""SMPL-X and FLAME model files: safe loading, a numpy linear-blend-skinning forward, landmarks.

Only ``.npz`` files are read, with ``np.load(allow_pickle=False)``: the ``.pkl`` releases need a
one-off conversion (docs/smplx_flame.md) because unpickling runs arbitrary code. The model files
are the user's own download (https://smpl-x.is.tue.mpg.de, https://flame.is.tue.mpg.de); nothing
here ships or embeds them.

Conventions (those of the files): metres, Y up, the face looks along +Z, the subject's left is +X.
Shapes below: V vertices, J joints, F faces, L landmarks, B betas, E expression coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError, InputError
from .names import SMPLX_JOINTS

FLAME_JOINTS: tuple[str, ...] = ("global", "neck", "jaw", "left_eye", "right_eye")
"""FLAME's 5 joints in pose-vector order."""

SMPLX_URL = "https://smpl-x.is.tue.mpg.de"
FLAME_URL = "https://flame.is.tue.mpg.de"
REQUIRED = ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table")
_LANDMARK_KEYS = ("lmk_faces_idx", "lmk_bary_coords", "dynamic_lmk_faces_idx",
                  "dynamic_lmk_bary_coords")
_FOLDER_NAMES = ("SMPLX_NEUTRAL.npz", "FLAME_NEUTRAL.npz", "SMPLX_FEMALE.npz", "SMPLX_MALE.npz",
                 "FLAME_FEMALE.npz", "FLAME_MALE.npz", "generic_model.npz")


@dataclass(frozen=True)
class ModelOutput:
    """One posed model: ``vertices`` (V,3) and ``joints`` (J,3), metres, model axes."""

    vertices: np.ndarray
    joints: np.ndarray


@dataclass(frozen=True, eq=False)
class BodyModel:
    """An SMPL-X (55 joints) or FLAME (5 joints) model read from the user's ``.npz``.

    v_template (V,3); faces (F,3) int; shapedirs (V,3,B); exprdirs (V,3,E); posedirs (V,3,9(J-1));
    J_regressor (J,V); weights (V,J); parents (J,) with -1 at the root; lmk_faces_idx (51,) and
    lmk_bary_coords (51,3) for the static landmarks (iBUG 17..67); dyn_lmk_faces_idx (79,17) and
    dyn_lmk_bary_coords (79,17,3) for the yaw-dependent jaw line (row 0 = frontal), or None.
    """

    kind: str
    path: Path
    v_template: np.ndarray
    faces: np.ndarray
    shapedirs: np.ndarray
    exprdirs: np.ndarray
    posedirs: np.ndarray
    J_regressor: np.ndarray
    weights: np.ndarray
    parents: np.ndarray
    lmk_faces_idx: np.ndarray | None
    lmk_bary_coords: np.ndarray | None
    dyn_lmk_faces_idx: np.ndarray | None = None
    dyn_lmk_bary_coords: np.ndarray | None = None

    @property
    def joint_names(self) -> tuple[str, ...]:
        return SMPLX_JOINTS if self.kind == "smplx" else FLAME_JOINTS

    @property
    def num_betas(self) -> int:
        return self.shapedirs.shape[2]

    @property
    def num_expressions(self) -> int:
        return self.exprdirs.shape[2]

    @property
    def num_joints(self) -> int:
        return len(self.parents)

    @property
    def jaw_index(self) -> int:
        return self.joint_names.index("jaw")

    def shaped(self, betas=None, expression=None) -> np.ndarray:
        """(V,3) rest-pose vertices with ``betas`` (<= B,) and ``expression`` (<= E,) applied."""
        v = self.v_template.astype(np.float64)
        if betas is not None and len(betas):
            b = np.asarray(betas, np.float64)
            v = v + np.einsum("vck,k->vc", self.shapedirs[:, :, : len(b)], b)
        if expression is not None and len(expression):
            e = np.asarray(expression, np.float64)
            v = v + np.einsum("vck,k->vc", self.exprdirs[:, :, : len(e)], e)
        return v

    def rest_joints(self, betas=None) -> np.ndarray:
        """(J,3) joint positions regressed from the shaped rest mesh."""
        return self.J_regressor.astype(np.float64) @ self.shaped(betas)

    def forward(self, betas=None, expression=None, pose=None, transl=None) -> ModelOutput:
        """Linear blend skinning: ``pose`` (J,3) axis-angle per joint in pose-vector order
        (radians, parent-relative; hands absolute, i.e. smplx's ``flat_hand_mean=True``),
        ``transl`` (3,) metres. Mirrors the smplx package's ``lbs``."""
        v_shaped = self.shaped(betas, expression)
        joints = self.J_regressor.astype(np.float64) @ v_shaped
        nj = self.num_joints
        pose = np.zeros((nj, 3)) if pose is None else np.asarray(pose, np.float64).reshape(nj, 3)
        rots = rodrigues(pose)
        feat = (rots[1:] - np.eye(3)).reshape(-1)
        v_posed = v_shaped + np.einsum("vcp,p->vc", self.posedirs, feat)
        skin_j, posed_joints = rigid_transforms(rots, joints, self.parents)
        skin = np.einsum("vj,jab->vab", self.weights.astype(np.float64), skin_j[:, :3])
        verts = np.einsum("vab,vb->va", skin[:, :, :3], v_posed) + skin[:, :, 3]
        if transl is not None:
            t = np.asarray(transl, np.float64)
            verts, posed_joints = verts + t, posed_joints + t
        return ModelOutput(verts, posed_joints)

    def has_landmarks(self) -> bool:
        return self.lmk_faces_idx is not None and self.lmk_bary_coords is not None

    def landmark_embedding(self, count: int = 68) -> tuple[np.ndarray, np.ndarray]:
        """(L,3) vertex ids and (L,3) barycentric weights of the ``count`` = 68 (frontal jaw line
        + 51) or 51 iBUG landmarks, so that ``landmarks = (w[..., None] * V[ids]).sum(1)``."""
        if not self.has_landmarks():
            raise DataError(f"{self.path.name} has no landmark embedding (lmk_faces_idx, "
                            "lmk_bary_coords); add it as docs/smplx_flame.md explains")
        fi, bc = self.lmk_faces_idx, self.lmk_bary_coords
        if count == 68:
            if self.dyn_lmk_faces_idx is None or self.dyn_lmk_bary_coords is None:
                raise DataError(f"{self.path.name} has no jaw-line embedding "
                                "(dynamic_lmk_faces_idx); use 51 landmarks")
            fi = np.concatenate([self.dyn_lmk_faces_idx[0], fi])
            bc = np.concatenate([self.dyn_lmk_bary_coords[0], bc])
        elif count != 51:
            raise InputError(f"landmark count must be 51 or 68, not {count}")
        return self.faces[fi.astype(np.int64)], bc.astype(np.float64)

    def landmarks(self, vertices: np.ndarray, count: int = 68) -> np.ndarray:
        """(L,3) landmark positions on ``vertices`` (V,3) (or (..., V, 3) -> (..., L, 3))."""
        ids, w = self.landmark_embedding(count)
        return np.einsum("lk,...lkc->...lc", w, np.asarray(vertices)[..., ids, :])


def rodrigues(aa: np.ndarray) -> np.ndarray:
    """(N,3) axis-angle (radians) -> (N,3,3) rotation matrices."""
    aa = np.asarray(aa, np.float64).reshape(-1, 3)
    angle = np.linalg.norm(aa + 1e-8, axis=1, keepdims=True)
    axis = aa / angle
    c, s = np.cos(angle)[:, :, None], np.sin(angle)[:, :, None]
    x, y, z = axis.T
    zero = np.zeros_like(x)
    k = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], 1).reshape(-1, 3, 3)
    return np.eye(3) + s * k + (1 - c) * (k @ k)


def rigid_transforms(
    rots: np.ndarray, joints: np.ndarray, parents: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Forward kinematics. ``rots`` (J,3,3) parent-relative rotations, ``joints`` (J,3) rest
    positions -> (J,4,4) skinning transforms (world transform with the rest position removed, so
    they act on rest-pose vertices) and (J,3) posed joint positions."""
    nj = len(parents)
    world = np.zeros((nj, 4, 4))
    for j in range(nj):
        local = np.eye(4)
        local[:3, :3] = rots[j]
        p = parents[j]
        local[:3, 3] = joints[j] - (joints[p] if p >= 0 else 0.0)
        world[j] = local if p < 0 else world[p] @ local
    posed = world[:, :3, 3].copy()
    skin = world.copy()
    skin[:, :3, 3] -= np.einsum("jab,jb->ja", world[:, :3, :3], joints)
    return skin, posed


def resolve_model_path(path: str | Path, kind: str = "SMPL-X or FLAME") -> Path:
    """The ``.npz`` named by ``path`` (a file or a folder holding e.g. ``SMPLX_NEUTRAL.npz``);
    InputError saying where to get one when missing, or how to convert a ``.pkl``."""
    url = FLAME_URL if kind.upper() == "FLAME" else f"{SMPLX_URL} (FLAME: {FLAME_URL})"
    p = Path(str(path)).expanduser()
    if not str(path):
        raise InputError(f"no {kind} model file given: download it from {url} and pass its .npz")
    if p.is_dir():
        found = [p / n for n in _FOLDER_NAMES if (p / n).is_file()]
        if not found:
            raise InputError(f"no SMPLX_*.npz / FLAME_*.npz in {p}: download the model from {url}")
        p = found[0]
    if not p.is_file():
        raise InputError(f"{kind} model file not found: {p}; download it from {url} "
                         "(see docs/smplx_flame.md)")
    if p.suffix.lower() in (".pkl", ".pickle"):
        raise InputError(f"{p.name} is a pickle, which is unsafe to load: convert it once to .npz "
                         "as docs/smplx_flame.md shows, then pass the .npz")
    if p.suffix.lower() != ".npz":
        raise InputError(f"{p.name}: expected an SMPL-X/FLAME .npz model file")
    return p


def load_model(path: str | Path) -> BodyModel:
    """Load an SMPL-X (55 joints) or FLAME (5 joints) ``.npz`` safely (no pickle).

    The 300+100 (2020 releases) or 10+10 column split of ``shapedirs`` into betas and expression
    follows the smplx package. DataError names any missing array."""
    p = resolve_model_path(path)
    data: dict[str, np.ndarray] = {}
    try:
        with np.load(p, allow_pickle=False) as z:
            for k in z.files:
                try:
                    data[k] = z[k]
                except ValueError as err:  # an object array (e.g. SMPL-X's joint2num dict)
                    if k in REQUIRED or k in _LANDMARK_KEYS:
                        raise DataError(f"{p.name}: {k} holds pickled objects; re-save it with "
                                        "plain arrays (docs/smplx_flame.md)") from err
    except (OSError, ValueError) as err:
        raise DataError(f"{p.name} is not a readable .npz: {err}") from err
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise DataError(f"{p.name} lacks {', '.join(missing)}: not an SMPL-X/FLAME model file")
    parents = np.asarray(data["kintree_table"][0]).astype(np.int64)
    parents[0] = -1
    nj = len(parents)
    kind = {55: "smplx", 5: "flame"}.get(nj)
    if kind is None:
        raise DataError(f"{p.name} has {nj} joints; expected 55 (SMPL-X) or 5 (FLAME)")
    sd = data["shapedirs"]
    if sd.ndim == 2:
        sd = sd[:, :, None]
    n = sd.shape[2]
    split = 300 if n >= 400 else min(10, n)
    shape, expr = sd[:, :, :split], sd[:, :, split: split + (100 if n >= 400 else 10)]
    nv = len(data["v_template"])
    posedirs = np.asarray(data["posedirs"]).reshape(nv, 3, -1)
    if posedirs.shape[2] != 9 * (nj - 1):
        raise DataError(f"{p.name}: posedirs has {posedirs.shape[2]} columns, "
                        f"expected {9 * (nj - 1)}")
    jr = data["J_regressor"]
    if hasattr(jr, "toarray"):
        jr = jr.toarray()
    return BodyModel(
        kind=kind, path=p, v_template=np.asarray(data["v_template"], np.float64),
        faces=np.asarray(data["f"]).astype(np.int64), shapedirs=shape, exprdirs=expr,
        posedirs=posedirs, J_regressor=np.asarray(jr), weights=np.asarray(data["weights"]),
        parents=parents, lmk_faces_idx=data.get("lmk_faces_idx"),
        lmk_bary_coords=data.get("lmk_bary_coords"),
        dyn_lmk_faces_idx=data.get("dynamic_lmk_faces_idx"),
        dyn_lmk_bary_coords=data.get("dynamic_lmk_bary_coords"),
    )
