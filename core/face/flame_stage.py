# SPDX-License-Identifier: GPL-3.0-or-later
"""Face-stage glue for FLAME: the post-step that adds FLAME-100 expressions to a FaceTrack, and
the BFM -> FLAME expression map used by the SadTalker backend."""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import DataError, InputError
from ..smplx_model import load_model, resolve_model_path
from ..types import FaceTrack
from .flame import LANDMARK_WEIGHT, ArkitToFlame


@lru_cache(maxsize=4)
def _fitter(path: str, mtime_ns: int) -> ArkitToFlame:
    return ArkitToFlame(load_model(path))


def fitter_for(model_path: str | Path) -> ArkitToFlame:
    """The (cached) ARKit -> FLAME fitter of the user's SMPL-X/FLAME ``.npz``."""
    p = resolve_model_path(model_path)
    return _fitter(str(p), p.stat().st_mtime_ns)


def add_flame(face: FaceTrack, model_path: str | Path) -> FaceTrack:
    """``face`` with ``expressions`` (T,100) fitted from its ARKit curves, jaw and PP viseme
    through the model's landmarks. A track that already carries expressions (e.g. SadTalker's,
    converted from BFM) is returned unchanged. The jaw stays the track's own (the fit uses it)."""
    if face.expressions is not None:
        return face
    fit = fitter_for(model_path).fit(face.arkit, face.jaw, face.visemes)
    return dataclasses.replace(face, expressions=fit.expressions)


def load_bfm(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The user's ``BFM_model_front.mat`` (SadTalker / Deep3DFaceRecon): ``meanshape`` (V,3),
    ``exBase`` (V,3,64) and the 68 ``keypoints`` (0-based vertex ids). Read with scipy's
    MATLAB reader (no pickle)."""
    from scipy.io import loadmat

    p = Path(str(path)).expanduser()
    if not str(path) or not p.is_file():
        raise InputError(f"BFM model not found: {p}; pass SadTalker's "
                         "checkpoints/BFM_Fitting/BFM_model_front.mat as --bfm-model")
    try:
        mat = loadmat(str(p))
    except (ValueError, NotImplementedError, OSError) as err:
        raise DataError(f"cannot read BFM model {p.name}: {err}") from err
    missing = [k for k in ("meanshape", "exBase", "keypoints") if k not in mat]
    if missing:
        raise DataError(f"{p.name} lacks {', '.join(missing)}: not a BFM_model_front.mat")
    mean = np.asarray(mat["meanshape"], np.float64).reshape(-1, 3)
    ex = np.asarray(mat["exBase"], np.float64).reshape(len(mean), 3, -1)
    kp = np.asarray(mat["keypoints"]).reshape(-1).astype(np.int64) - 1
    if len(kp) != 68 or kp.min() < 0 or kp.max() >= len(mean):
        raise DataError(f"{p.name}: keypoints must be 68 one-based vertex ids")
    return mean, ex, kp


def _similarity(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray]:
    """Scale s and rotation R minimising ||s R (src - mean) - (dst - mean)|| (Umeyama)."""
    a, b = src - src.mean(0), dst - dst.mean(0)
    u, sv, vt = np.linalg.svd(b.T @ a)
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ d @ vt
    return float((sv * np.diag(d)).sum() / (a**2).sum()), rot


class BfmToFlame:
    """Linear map BFM-64 expression -> FLAME expression + jaw, fitted through the 68 landmarks
    the two models share: BFM landmark displacements are aligned (similarity from the neutral
    landmarks) to the FLAME face and solved for expression coefficients and a jaw rotation
    about X (linearised at rest, not regularised, so the jaw explains the opening first)."""

    def __init__(self, mean: np.ndarray, ex_base: np.ndarray, keypoints: np.ndarray,
                 fitter: ArkitToFlame, regularization: float = 1e-3) -> None:
        ids = fitter.ids68
        lb = mean[keypoints[ids]]
        self.scale, self.rot = _similarity(lb, fitter.rest_lmk)
        d = np.einsum("ab,lbk->lak", self.scale * self.rot, ex_base[keypoints[ids]])
        self.landmark_rows = d.reshape(-1, ex_base.shape[2])  # (3L, 64) in FLAME metres
        eps = 1e-3
        jaw_col = fitter.jaw_displacement(np.array([[eps, 0.0, 0.0]]))[0] / eps
        a = np.concatenate([fitter.A, jaw_col[:, None]], 1)
        w = np.repeat([LANDMARK_WEIGHT[int(i)] for i in ids], 3)
        ata = a.T @ (w[:, None] * a)
        reg = np.full(len(ata), regularization * np.trace(ata[:-1, :-1]) / max(len(ata) - 1, 1))
        reg[-1] = 0.0
        self.M = np.linalg.solve(ata + np.diag(reg), a.T @ (w[:, None] * self.landmark_rows))
        self.n_expr = fitter.A.shape[1]

    def convert(self, bfm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(T,64) BFM expression -> ((T,100) FLAME expression, (T,3) jaw axis-angle)."""
        y = np.asarray(bfm, np.float64) @ self.M.T
        expr = np.zeros((len(y), 100))
        expr[:, : min(self.n_expr, 100)] = y[:, : min(self.n_expr, 100)]
        jaw = np.zeros((len(y), 3))
        jaw[:, 0] = np.clip(y[:, -1], -0.05, 0.6)
        return expr, jaw


@lru_cache(maxsize=2)
def _bfm_map(bfm: str, bfm_mtime: int, flame: str, flame_mtime: int) -> BfmToFlame:
    mean, ex, kp = load_bfm(bfm)
    return BfmToFlame(mean, ex, kp, _fitter(flame, flame_mtime))


def bfm_to_flame_for(bfm_path: str | Path, model_path: str | Path) -> BfmToFlame:
    """The (cached) BFM -> FLAME map between the user's BFM and SMPL-X/FLAME files."""
    b = Path(str(bfm_path)).expanduser()
    if not str(bfm_path) or not b.is_file():
        load_bfm(b)  # raises the InputError that says what to pass
    p = resolve_model_path(model_path)
    return _bfm_map(str(b), b.stat().st_mtime_ns, str(p), p.stat().st_mtime_ns)
