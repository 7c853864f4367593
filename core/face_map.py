# SPDX-License-Identifier: GPL-3.0-or-later
"""Face curves for any avatar's shape keys: ARKit, visemes, Rocketbox, FLAME, emotions (numpy).

A :class:`~.types.FaceTrack` carries ARKit-52 weights, Oculus-15 visemes and optionally FLAME
expression coefficients. :func:`face_curves` turns it into one (T,) curve per shape key that an
avatar has, by the key's name:

``arkit``     ARKit names, any case, after a dotted prefix (``jawOpen``, ``blendShape1.JawOpen``);
``viseme``    Oculus / Ready Player Me ``viseme_sil .. viseme_U`` (also ``viseme_ih/oh/ou``);
``rocketbox`` the Rocketbox/VALID morphs, named ``h_expressions.AE_AA_h`` on the head and
              ``t_AE_AA_h`` on the teeth: visemes (``AE_AA, AO_a, Ax_E, TD_I, UH_OO, UW_U, H_EST,
              FV, S, SH_CH, MPB_Up, MPB_Down, KG``) from the Oculus visemes, the rest (blinks,
              brows, smiles, squints...) from ARKit;
``flame``     ``Exp000 .. Exp099`` from ``FaceTrack.expressions`` (when present);
``emotion``   whole-face emotion morphs (``Angry``, ``Surprised``, ``Sad``, ``Happy``...), from
              emotion levels estimated out of the ARKit curves (:func:`emotion_levels`).

Viseme-style targets are used instead of ARKit mouth keys: when an avatar has both, only one
set drives the mouth (see :func:`plan_face`), so the mouth never opens twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .face.arkit import EMOTION_OFFSETS, MOUTH
from .names import ARKIT_52, ARKIT_INDEX, EMOTIONS, VISEME_INDEX, VISEMES
from .types import FaceTrack

_ARKIT_LOWER = {n.lower(): n for n in ARKIT_52}
_RPM_VISEMES = {"i": "ih", "o": "oh", "u": "ou"}

Recipe = tuple[tuple[str, str, float], ...]
"""(source, name, weight) terms summed into one curve; source is "arkit", "viseme",
"flame" or "emotion"."""


def _v(*pairs: tuple[str, float]) -> Recipe:
    return tuple(("viseme", n, w) for n, w in pairs)


def _a(*pairs: tuple[str, float]) -> Recipe:
    return tuple(("arkit", n, w) for n, w in pairs)


ROCKETBOX: dict[str, Recipe] = {
    # visemes (Rocketbox: AE_AA "cat/father", AO_a "law", Ax_E "the/bed", TD_I "tea/it",
    # UH_OO "book", UW_U "blue", H_EST "h/est", FV, S, SH_CH, MPB, KG)
    "AE_AA": _v(("aa", 1.0)),
    "AO_a": _v(("oh", 0.8)),
    "Ax_E": _v(("E", 1.0)),
    "TD_I": _v(("DD", 0.8), ("ih", 1.0), ("nn", 0.7), ("TH", 0.6)),
    "UH_OO": _v(("RR", 0.6), ("oh", 0.3)),
    "UW_U": _v(("ou", 1.0)),
    "H_EST": _v(("SS", 0.2), ("E", 0.2)),
    "FV": _v(("FF", 1.0)),
    "S": _v(("SS", 1.0)),
    "SH_CH": _v(("CH", 1.0)),
    "MPB_Up": _v(("PP", 1.0)),
    "MPB_Down": _v(("PP", 1.0)),
    "MPB": _v(("PP", 1.0)),
    "KG": _v(("kk", 1.0)),
    # the rest of the face from ARKit
    "LeyeClose": _a(("eyeBlinkLeft", 1.0)),
    "ReyeClose": _a(("eyeBlinkRight", 1.0)),
    "LeyeOpen": _a(("eyeWideLeft", 1.0)),
    "ReyeOpen": _a(("eyeWideRight", 1.0)),
    "Lsquint": _a(("eyeSquintLeft", 1.0)),
    "Rsquint": _a(("eyeSquintRight", 1.0)),
    "LbrowUp": _a(("browInnerUp", 1.0)),
    "RbrowUp": _a(("browInnerUp", 1.0)),
    "LLbrowUp": _a(("browOuterUpLeft", 1.0)),
    "RRbrowUp": _a(("browOuterUpRight", 1.0)),
    "LbrowDown": _a(("browDownLeft", 1.0)),
    "RbrowDown": _a(("browDownRight", 1.0)),
    "LLbrowDown": _a(("browDownLeft", 0.5)),
    "RRbrowDown": _a(("browDownRight", 0.5)),
    "LsmileClose": _a(("mouthSmileLeft", 1.0)),
    "RsmileClose": _a(("mouthSmileRight", 1.0)),
    "LmouthSad": _a(("mouthFrownLeft", 1.0)),
    "RmouthSad": _a(("mouthFrownRight", 1.0)),
    "Ldisgust": _a(("noseSneerLeft", 1.0)),
    "Rdisgust": _a(("noseSneerRight", 1.0)),
    "Kiss": _a(("mouthPucker", 0.5)),
    "Lblow": _a(("cheekPuff", 1.0)),
    "Rblow": _a(("cheekPuff", 1.0)),
    "JawFront": _a(("jawForward", 1.0)),
    "Ljaw": _a(("jawLeft", 1.0)),
    "Rjaw": _a(("jawRight", 1.0)),
}
"""Rocketbox morph (prefix/suffix removed) -> recipe. Mouth shapes that are not visemes
(``MouthOpen``, ``Shout``, lip corners...) are left alone: the visemes already open the mouth."""

ROCKETBOX_VISEMES = frozenset(
    k for k, r in ROCKETBOX.items() if all(src == "viseme" for src, _, _ in r))

EMOTION_NAMES: dict[str, str] = {
    "happy": "happy", "joy": "happy", "smile": "happy", "sad": "sad", "sadness": "sad",
    "angry": "angry", "anger": "angry", "mad": "angry", "surprised": "surprised",
    "surprise": "surprised", "fear": "fearful", "fearful": "fearful", "scared": "fearful",
    "disgust": "disgusted", "disgusted": "disgusted",
}
"""Whole-face morph name (lower case) -> emotion of :data:`~.names.EMOTIONS`."""


def rocketbox_key(name: str) -> str | None:
    """``h_expressions.AE_AA_h`` / ``t_MPB_h`` / ``h_teeth.t_KG_h`` -> ``AE_AA`` / ``MPB`` /
    ``KG``; None when the name is not a Rocketbox morph."""
    base = name.rsplit(".", 1)[-1]
    base = re.sub(r"_h$", "", base)
    base = re.sub(r"^t_", "", base)
    return base if base in ROCKETBOX else None


def classify(name: str) -> tuple[str, Recipe] | None:
    """(convention, recipe) for one shape key name, or None when nothing drives it."""
    base = name.rsplit(".", 1)[-1]
    low = base.lower()
    if low in _ARKIT_LOWER:
        return "arkit", (("arkit", _ARKIT_LOWER[low], 1.0),)
    m = re.fullmatch(r"viseme_(\w+)", base, flags=re.IGNORECASE)
    if m:
        v = m.group(1)
        v = _RPM_VISEMES.get(v.lower(), v)
        hit = next((x for x in VISEMES if x.lower() == v.lower()), None)
        return ("viseme", (("viseme", hit, 1.0),)) if hit else None
    rb = rocketbox_key(name)
    if rb is not None:
        return "rocketbox", ROCKETBOX[rb]
    m = re.fullmatch(r"exp_?(\d{1,3})", low)
    if m and int(m.group(1)) < 100:
        return "flame", (("flame", str(int(m.group(1))), 1.0),)
    if low in EMOTION_NAMES:
        return "emotion", (("emotion", EMOTION_NAMES[low], 1.0),)
    return None


@dataclass(frozen=True)
class FacePlan:
    """What drives each shape key. recipes: key name -> recipe; conventions: key name ->
    convention; mouth: the convention that moves the mouth ("" when none does)."""

    recipes: dict[str, Recipe]
    conventions: dict[str, str]
    mouth: str


def plan_face(names: Sequence[str], *, has_expressions: bool = False) -> FacePlan:
    """Pick recipes for the shape keys ``names`` of one avatar.

    Mouth priority: FLAME ``Exp###`` (only when the track has expressions), then Rocketbox or
    Oculus visemes, then ARKit. Keys of a lower-priority mouth set are left alone, except
    their non-mouth channels (blinks, brows) which still follow ARKit.
    """
    found = {n: c for n in names if (c := classify(n)) is not None}
    kinds = {conv for conv, _ in found.values()}
    if not has_expressions:
        found = {n: c for n, c in found.items() if c[0] != "flame"}
        kinds.discard("flame")
    rocketbox_mouth = any(rocketbox_key(n) in ROCKETBOX_VISEMES for n in found)
    order = ("flame", "rocketbox" if rocketbox_mouth else "", "viseme", "arkit")
    mouth = next((k for k in order if k and k in kinds and _moves_mouth(k, found)), "")
    recipes, conventions = {}, {}
    for name, (conv, recipe) in found.items():
        if conv == "arkit" and mouth not in ("arkit", "") and MOUTH[ARKIT_INDEX[recipe[0][1]]]:
            continue
        if conv in ("viseme", "rocketbox") and mouth not in (conv, "") and _is_mouth(recipe):
            continue
        recipes[name], conventions[name] = recipe, conv
    return FacePlan(recipes, conventions, mouth)


def _is_mouth(recipe: Recipe) -> bool:
    return any(src == "viseme" for src, _, _ in recipe)


def _moves_mouth(kind: str, found: dict[str, tuple[str, Recipe]]) -> bool:
    if kind == "flame":
        return True
    for conv, recipe in found.values():
        if conv != kind:
            continue
        if kind == "arkit" and recipe[0][1] == "jawOpen":
            return True
        if kind in ("viseme", "rocketbox") and _is_mouth(recipe):
            return True
    return False


def emotion_levels(arkit: np.ndarray) -> np.ndarray:
    """Emotion levels (T,7) in 0..1 (order :data:`~.names.EMOTIONS`; neutral = 1 - the rest)
    estimated from ARKit weights (T,52): a non-negative fit of the emotion offsets of
    :mod:`.face.arkit` to the non-mouth channels (speech moves the mouth, not the mood)."""
    a = np.asarray(arkit, dtype=np.float64)[:, ~MOUTH]
    basis = EMOTION_OFFSETS[1:, ~MOUTH]  # (6,K) without neutral
    norms = np.sum(basis * basis, axis=1)
    x = np.zeros((a.shape[0], basis.shape[0]))
    for _ in range(60):  # coordinate descent for the small non-negative least squares
        for e in range(basis.shape[0]):
            r = a - x @ basis
            x[:, e] = np.maximum(0.0, x[:, e] + r @ basis[e] / norms[e])
    x = np.clip(x, 0.0, 1.0)
    neutral = np.clip(1.0 - x.sum(axis=1, keepdims=True), 0.0, 1.0)
    return np.concatenate([neutral, x], axis=1)


def face_curves(plan: FacePlan, face: FaceTrack) -> dict[str, np.ndarray]:
    """(T,) curve in 0..1 for every key of ``plan``."""
    emotions = None
    out = {}
    for name, recipe in plan.recipes.items():
        curve = np.zeros(face.frames)
        for src, what, w in recipe:
            if src == "arkit":
                curve += w * face.arkit[:, ARKIT_INDEX[what]]
            elif src == "viseme":
                curve += w * face.visemes[:, VISEME_INDEX[what]]
            elif src == "flame" and face.expressions is not None:
                curve += w * face.expressions[:, int(what)]
            elif src == "emotion":
                if emotions is None:
                    emotions = emotion_levels(face.arkit)
                curve += w * emotions[:, EMOTIONS.index(what)]
        out[name] = curve if src == "flame" else np.clip(curve, 0.0, 1.0)
    return out
