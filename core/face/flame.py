# SPDX-License-Identifier: GPL-3.0-or-later
"""ARKit-52 face weights -> FLAME expression coefficients + jaw pose, through the model's landmarks.

Each ARKit shape is given a *landmark displacement target* on the iBUG-68 landmarks (jaw line,
brows, nose, eyelids, outer/inner lips) in a normalised face frame: model axes (X = the subject's
left, Y up, Z forward) scaled by the outer-eye-corner distance (IOD). For one model the targets
are scaled to metres and a regularised, weighted linear least squares on the landmark rows of the
expression basis is solved once::

    c = argmin ||W^(1/2) (A c - r)||^2 + lam ||c||^2     ->   c = P r

where ``A`` (3L, E) holds how each expression coefficient moves the landmarks and ``r`` is the
wanted displacement after the jaw rotation (the jaw comes from ``jawOpen``/the track's jaw and
moves the lower face through the model's own skinning). Per frame the fit is then a matrix product
with ``P @ D`` (E, 52). Lip closure survives: when mouthClose (or the PP viseme) is high the inner
lip targets are pulled to their common midpoint, and the inner lip rows carry the largest weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ..names import ARKIT_INDEX, VISEME_INDEX
from ..smplx_model import BodyModel
from .procedural import JAW_RADIANS

_MIRROR = dict(
    [(i, 16 - i) for i in range(17)] + [(17 + i, 26 - i) for i in range(10)]
    + [(i, i) for i in range(27, 31)] + [(31, 35), (32, 34), (33, 33), (34, 32), (35, 31)]
    + [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]
    + [(45, 36), (44, 37), (43, 38), (42, 39), (47, 40), (46, 41)]
    + [(48, 54), (49, 53), (50, 52), (51, 51), (52, 50), (53, 49), (54, 48)]
    + [(55, 59), (56, 58), (57, 57), (58, 56), (59, 55)]
    + [(60, 64), (61, 63), (62, 62), (63, 61), (64, 60), (65, 67), (66, 66), (67, 65)]
)
"""iBUG-68 left/right mirror map."""

UPPER_INNER, LOWER_INNER = (61, 62, 63), (67, 66, 65)
UPPER_OUTER, LOWER_OUTER = (50, 51, 52), (58, 57, 56)

# Targets of the subject's LEFT (+X) side, in IOD units: shape -> [(landmarks, (dx, dy, dz))].
# Sided shapes are written for "...Left" and mirrored for "...Right".
_T = dict[str, list[tuple[tuple[int, ...], tuple[float, float, float]]]]
_SIDED: _T = {
    "eyeBlink": [((43, 44), (0, -0.09, 0.005)), ((46, 47), (0, 0.015, 0))],
    "eyeSquint": [((46, 47), (0, 0.03, 0)), ((43, 44), (0, -0.015, 0))],
    "eyeWide": [((43, 44), (0, 0.035, 0)), ((46, 47), (0, -0.01, 0))],
    "mouthSmile": [((54, 64), (0.05, 0.06, -0.02)), ((53, 55, 63, 65), (0.025, 0.03, -0.01)),
                   ((46, 47), (0, 0.01, 0))],
    "mouthFrown": [((54, 64), (0.005, -0.05, 0)), ((55, 65), (0, -0.02, 0))],
    "mouthDimple": [((54, 64), (0.02, 0.0, -0.035))],
    "mouthStretch": [((54, 64), (0.05, -0.02, -0.01)), ((55, 56, 65), (0.015, -0.015, 0))],
    "mouthPress": [((52, 53, 63), (0, -0.012, 0)), ((55, 56, 65), (0, 0.012, 0)),
                   ((54, 64), (0.01, 0, 0))],
    "mouthLowerDown": [((55, 56, 65), (0, -0.055, 0.005)), ((57, 66), (0, -0.03, 0.005))],
    "mouthUpperUp": [((52, 53, 63), (0, 0.05, 0.005)), ((51, 62), (0, 0.025, 0.005))],
    "browDown": [((22, 23), (-0.02, -0.05, 0)), ((24, 25, 26), (0, -0.04, 0))],
    "browOuterUp": [((25, 26), (0, 0.06, 0)), ((24,), (0, 0.03, 0))],
    "cheekSquint": [((46, 47), (0, 0.025, 0)), ((54,), (0, 0.01, 0))],
    "noseSneer": [((35,), (0, 0.03, 0)), ((34,), (0, 0.015, 0)), ((22,), (0, -0.02, 0)),
                  ((52, 53), (0, 0.01, 0))],
}
_LOWER = (5, 6, 7, 8, 9, 10, 11, 55, 56, 57, 58, 59, 65, 66, 67)
_MOUTH = tuple(range(48, 68))
_CENTRED: _T = {
    "jawForward": [(_LOWER, (0, 0, 0.04))],
    "jawLeft": [(_LOWER, (0.05, 0, 0))],
    "mouthFunnel": [(_MOUTH, (0, 0, 0.05)), ((61, 62, 63), (0, 0.02, 0)),
                    ((65, 66, 67), (0, -0.02, 0)), ((48, 60), (0.03, 0, 0)),
                    ((54, 64), (-0.03, 0, 0))],
    "mouthPucker": [(_MOUTH, (0, 0, 0.06)), ((48, 60), (0.08, 0, 0)), ((54, 64), (-0.08, 0, 0)),
                    ((49, 59), (0.03, 0, 0)), ((53, 55), (-0.03, 0, 0))],
    "mouthLeft": [(_MOUTH, (0.06, 0, 0))],
    "mouthRollLower": [((56, 57, 58), (0, 0.02, -0.03)), ((65, 66, 67), (0, 0, -0.02))],
    "mouthRollUpper": [((50, 51, 52), (0, -0.02, -0.03)), ((61, 62, 63), (0, 0, -0.02))],
    "mouthShrugLower": [((55, 56, 57, 58, 59, 65, 66, 67), (0, 0.03, 0.02))],
    "mouthShrugUpper": [((49, 50, 51, 52, 53, 61, 62, 63), (0, 0.02, 0.01))],
    "browInnerUp": [((21, 22), (0, 0.07, 0)), ((20, 23), (0, 0.04, 0))],
    "cheekPuff": [((3, 4, 5), (-0.03, 0, 0.01)), ((11, 12, 13), (0.03, 0, 0.01)),
                  ((48,), (-0.01, 0, 0)), ((54,), (0.01, 0, 0))],
}
LANDMARK_WEIGHT = {**{i: 0.5 for i in range(17)}, **{i: 1.0 for i in range(17, 27)},
                    **{i: 0.5 for i in range(27, 36)}, **{i: 1.5 for i in range(36, 48)},
                    **{i: 2.0 for i in range(48, 60)}, **{i: 4.0 for i in range(60, 68)}}


def arkit_landmark_targets() -> np.ndarray:
    """(52, 68, 3) displacement of each landmark per unit ARKit weight, in IOD units."""
    d = np.zeros((52, 68, 3))

    def put(name: str, rows, mirror: bool) -> None:
        for ids, vec in rows:
            v = np.array(vec, float)
            for i in ids:
                if mirror:
                    d[ARKIT_INDEX[name], _MIRROR[i]] += v * (-1, 1, 1)
                else:
                    d[ARKIT_INDEX[name], i] += v

    for base, rows in _SIDED.items():
        put(base + "Left", rows, False)
        put(base + "Right", rows, True)
    for name, rows in _CENTRED.items():
        put(name, rows, False)
    d[ARKIT_INDEX["jawRight"]] = d[ARKIT_INDEX["jawLeft"]] * (-1, 1, 1)
    d[ARKIT_INDEX["mouthRight"]] = d[ARKIT_INDEX["mouthLeft"]] * (-1, 1, 1)
    return d


def closure_signal(arkit: np.ndarray) -> np.ndarray:
    """(T,) 0..1: how firmly the lips are sealed. Either mouthClose is high on its own (this
    project's p/b/m pose: mouthClose 0.7, jaw shut) or, ARKit style, mouthClose matches jawOpen
    (lips held together while the jaw drops)."""
    close = arkit[:, ARKIT_INDEX["mouthClose"]]
    jaw = arkit[:, ARKIT_INDEX["jawOpen"]]
    alone = np.clip((close - 0.3) / 0.4, 0, 1)
    ratio = np.where(jaw > 0.1, np.clip(2 * close / np.maximum(jaw, 1e-6) - 1, 0, 1), 0.0)
    return np.maximum(alone, ratio)


@dataclass(frozen=True)
class FlameFit:
    """``expressions`` (T,100) FLAME coefficients (zeros past the model's own E); ``jaw`` (T,3)
    axis-angle of the jaw joint (radians, model axes)."""

    expressions: np.ndarray
    jaw: np.ndarray


class ArkitToFlame:
    """Precomputed ARKit -> expression map for one SMPL-X or FLAME model (see module doc)."""

    max_coefficient = 5.0
    """Fitted coefficients are clipped to +-5 (the bases are scaled to unit standard deviation,
    so larger values only come from targets a model cannot reach)."""

    def __init__(self, model: BodyModel, regularization: float = 1e-3) -> None:
        if not model.has_landmarks():
            raise DataError(f"{model.path.name} has no landmark embedding; FLAME fitting needs "
                            "lmk_faces_idx and lmk_bary_coords (docs/smplx_flame.md)")
        self.name = model.path.name  # the model itself is not kept (it can be ~100 MB)
        self.count = 68 if model.dyn_lmk_faces_idx is not None else 51
        self.ids68 = np.arange(68 - self.count, 68)
        self.vid, self.bary = model.landmark_embedding(self.count)
        rest = model.shaped()
        self.rest_lmk = np.einsum("lk,lkc->lc", self.bary, rest[self.vid])
        self.iod = float(np.linalg.norm(self._lm(self.rest_lmk, 45) - self._lm(self.rest_lmk, 36)))
        if not self.iod > 0:
            raise DataError(f"{model.path.name}: degenerate landmarks (eye corners coincide)")
        # A: (3L, E) landmark displacement per expression coefficient
        a = np.einsum("lk,lkce->lce", self.bary, model.exprdirs[self.vid].astype(np.float64))
        self.A = a.reshape(-1, a.shape[-1])
        w = np.repeat([LANDMARK_WEIGHT[int(i)] for i in self.ids68], 3)
        ata = self.A.T @ (w[:, None] * self.A)
        lam = regularization * np.trace(ata) / max(len(ata), 1)
        self.P = np.linalg.solve(ata + lam * np.eye(len(ata)), self.A.T * w[None])
        self.D = arkit_landmark_targets()[:, self.ids68].reshape(52, -1).T * self.iod  # (3L, 52)
        self.PD = self.P @ self.D
        # jaw skinning of the landmark vertices (other joints stay at rest)
        j = model.jaw_index
        self.jaw_joint = (model.J_regressor.astype(np.float64) @ rest)[j]
        self.jaw_w = model.weights[self.vid, j].astype(np.float64)  # (L,3)
        self.jaw_pd = model.posedirs[self.vid][..., 9 * (j - 1): 9 * j].astype(np.float64)
        self.rest_v = rest[self.vid]  # (L,3,3)

    def _lm(self, lmk: np.ndarray, i68: int) -> np.ndarray:
        return lmk[..., i68 - (68 - self.count), :]

    def jaw_displacement(self, jaw: np.ndarray) -> np.ndarray:
        """(T,3L) landmark displacement caused by jaw rotations ``jaw`` (T,3) alone."""
        from ..smplx_model import rodrigues

        r = rodrigues(jaw)  # (T,3,3)
        n, nl = len(r), len(self.rest_v)
        feat = (r - np.eye(3)).reshape(n, 9)
        corr = (feat @ self.jaw_pd.reshape(-1, 9).T).reshape(n, nl, 3, 3)
        posed = self.rest_v + corr  # (T,L,3,3) with the jaw's pose correctives
        rel = (posed - self.jaw_joint).reshape(n, -1, 3)
        rotated = (rel @ r.transpose(0, 2, 1)).reshape(n, nl, 3, 3) + self.jaw_joint
        moved = posed + self.jaw_w[None, ..., None] * (rotated - posed)
        lmk = (moved * self.bary[None, ..., None]).sum(2)
        return (lmk - self.rest_lmk).reshape(len(r), -1)

    def targets(self, arkit: np.ndarray, jaw: np.ndarray, closure: np.ndarray,
                jaw_disp: np.ndarray | None = None) -> np.ndarray:
        """(T,3L) wanted landmark displacement: ARKit targets + jaw, inner lips sealed by
        ``closure`` (T,) in 0..1. ``jaw_disp`` is :meth:`jaw_displacement` if already known."""
        t = arkit @ self.D.T + (self.jaw_displacement(jaw) if jaw_disp is None else jaw_disp)
        if not closure.any():
            return t
        pos = (self.rest_lmk.reshape(-1) + t).reshape(len(t), -1, 3)
        off = 68 - self.count
        for ui, li, uo, lo in zip(UPPER_INNER, LOWER_INNER, UPPER_OUTER, LOWER_OUTER):
            mid = 0.5 * (pos[:, ui - off] + pos[:, li - off])
            du = closure[:, None] * (mid - pos[:, ui - off])
            dl = closure[:, None] * (mid - pos[:, li - off])
            for i, dv in ((ui, du), (uo, du), (li, dl), (lo, dl)):
                pos[:, i - off] += dv
        return (pos - self.rest_lmk).reshape(len(t), -1)

    def fit(self, arkit: np.ndarray, jaw: np.ndarray | None = None,
            visemes: np.ndarray | None = None) -> FlameFit:
        """ARKit weights (T,52) -> :class:`FlameFit`. ``jaw`` (T,3) defaults to a rotation of
        ``JAW_RADIANS * jawOpen`` about X; ``visemes`` (T,15) adds PP to the closure signal."""
        arkit = np.asarray(arkit, np.float64)
        if jaw is None:
            jaw = np.zeros((len(arkit), 3))
            jaw[:, 0] = JAW_RADIANS * arkit[:, ARKIT_INDEX["jawOpen"]]
        closure = closure_signal(arkit)
        if visemes is not None:
            pp = np.clip((np.asarray(visemes)[:, VISEME_INDEX["PP"]] - 0.3) / 0.4, 0, 1)
            closure = np.maximum(closure, pp)
        jaw_only = self.jaw_displacement(jaw)
        r = self.targets(arkit, jaw, closure, jaw_only) - jaw_only
        coeffs = np.clip(r @ self.P.T, -self.max_coefficient, self.max_coefficient)
        out = np.zeros((len(arkit), 100))
        out[:, : coeffs.shape[1]] = coeffs[:, :100]
        return FlameFit(out, np.asarray(jaw, np.float64).copy())

    def fit_landmarks(self, displacement: np.ndarray) -> np.ndarray:
        """(T,L,3) landmark displacements (metres) -> (T,E) coefficients (the bare solve)."""
        d = np.asarray(displacement, np.float64).reshape(len(displacement), -1)
        return d @ self.P.T
