# SPDX-License-Identifier: GPL-3.0-or-later
"""ARKit-52 tables: a mouth pose per Oculus viseme and a face offset per emotion.

Poses and offsets are (52,) weight vectors in :data:`~..names.ARKIT_52` order. Names ending in
``L/R`` pairs are written once here without the side (``mouthStretch``) and set on both sides.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..names import ARKIT_52, ARKIT_INDEX, EMOTIONS, VISEMES
from .visemes import VISEME_OPENNESS

_SIDED = (
    "eyeSquint", "eyeWide", "mouthSmile", "mouthFrown", "mouthDimple", "mouthStretch",
    "mouthPress", "mouthLowerDown", "mouthUpperUp", "browDown", "browOuterUp", "cheekSquint",
    "noseSneer",
)


def _vector(**weights: float) -> np.ndarray:
    """(52,) vector from ARKit names; a sided name without Left/Right sets both sides."""
    out = np.zeros(len(ARKIT_52))
    for name, w in weights.items():
        names = (name + "Left", name + "Right") if name in _SIDED else (name,)
        for n in names:
            out[ARKIT_INDEX[n]] = w
    return out


_LIPS: dict[str, dict[str, float]] = {
    "sil": {},
    "PP": dict(mouthClose=0.7, mouthPress=0.6, mouthRollLower=0.2, mouthRollUpper=0.1),
    "FF": dict(mouthRollLower=0.6, mouthUpperUp=0.2, mouthPress=0.1, mouthStretch=0.1,
               mouthShrugUpper=0.1),
    "TH": dict(tongueOut=0.25, mouthLowerDown=0.15, mouthUpperUp=0.1, mouthStretch=0.1),
    "DD": dict(mouthStretch=0.2, mouthLowerDown=0.15, mouthUpperUp=0.1, mouthShrugUpper=0.05),
    "kk": dict(mouthStretch=0.2, mouthLowerDown=0.2, mouthUpperUp=0.1),
    "CH": dict(mouthFunnel=0.5, mouthPucker=0.2, mouthShrugUpper=0.2, mouthShrugLower=0.2,
               mouthUpperUp=0.2, mouthLowerDown=0.2),
    "SS": dict(mouthStretch=0.4, mouthSmile=0.15, mouthUpperUp=0.15, mouthLowerDown=0.15),
    "nn": dict(mouthStretch=0.15, mouthLowerDown=0.1, mouthUpperUp=0.1),
    "RR": dict(mouthFunnel=0.3, mouthPucker=0.35, mouthUpperUp=0.1),
    "aa": dict(mouthLowerDown=0.3, mouthUpperUp=0.15, mouthStretch=0.1),
    "E": dict(mouthStretch=0.35, mouthSmile=0.1, mouthLowerDown=0.3, mouthUpperUp=0.2),
    "ih": dict(mouthStretch=0.5, mouthSmile=0.25, mouthUpperUp=0.2, mouthLowerDown=0.15),
    "oh": dict(mouthFunnel=0.5, mouthPucker=0.3, mouthLowerDown=0.15),
    "ou": dict(mouthPucker=0.8, mouthFunnel=0.4),
}

VISEME_POSES: np.ndarray = np.stack(
    [_vector(jawOpen=VISEME_OPENNESS[v], **_LIPS[v]) for v in VISEMES]
)
"""(15,52) ARKit pose of each viseme (rows in :data:`~..names.VISEMES` order); jawOpen is the
viseme's typical opening from :data:`.visemes.VISEME_OPENNESS`."""

_EMOTIONS: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": dict(mouthSmile=0.55, cheekSquint=0.4, eyeSquint=0.3, mouthDimple=0.2,
                  browOuterUp=0.1),
    "sad": dict(mouthFrown=0.5, browInnerUp=0.6, browDown=0.15, mouthShrugLower=0.2,
                eyeSquint=0.1, mouthPress=0.1),
    "angry": dict(browDown=0.7, eyeSquint=0.35, noseSneer=0.3, mouthPress=0.3, mouthFrown=0.2,
                  jawForward=0.1),
    "surprised": dict(browOuterUp=0.7, browInnerUp=0.6, eyeWide=0.6, mouthFunnel=0.1),
    "fearful": dict(browInnerUp=0.7, browOuterUp=0.3, eyeWide=0.5, mouthStretch=0.35,
                    mouthFrown=0.15, browDown=0.1),
    "disgusted": dict(noseSneer=0.6, mouthUpperUp=0.35, browDown=0.4, eyeSquint=0.3,
                      cheekSquint=0.3, mouthFrown=0.3, mouthShrugUpper=0.2),
}

EMOTION_OFFSETS: np.ndarray = np.stack([_vector(**_EMOTIONS[e]) for e in EMOTIONS])
"""(7,52) ARKit offset of each emotion at intensity 1 (rows in :data:`~..names.EMOTIONS` order),
added on top of the speaking mouth."""

MOUTH: np.ndarray = np.array(
    [n.startswith(("jaw", "mouth", "tongue", "cheekPuff")) for n in ARKIT_52]
)
"""(52,) bool mask of the channels that speech articulates."""

_CLOSED_FLOOR = _vector(mouthClose=0.7, mouthPress=0.55)
_CLOSED_CAP = np.where(
    _vector(jawOpen=1, mouthFunnel=1, mouthLowerDown=1, mouthUpperUp=1, tongueOut=1,
            mouthShrugUpper=1) > 0,
    0.02, 1.0,
)


def viseme_pose(name: str) -> np.ndarray:
    """(52,) ARKit pose of the viseme ``name`` (a copy)."""
    try:
        return VISEME_POSES[VISEMES.index(name)].copy()
    except ValueError:
        raise InputError(f"unknown viseme {name!r}; known: {', '.join(VISEMES)}") from None


def emotion_offset(name: str, intensity: float = 1.0) -> np.ndarray:
    """(52,) ARKit offset of the emotion ``name`` scaled by ``intensity`` (0..1)."""
    if name not in EMOTIONS:
        raise InputError(f"unknown emotion {name!r}; known: {', '.join(EMOTIONS)}")
    if not 0.0 <= intensity <= 1.0:
        raise InputError(f"emotion intensity must be in 0..1, got {intensity}")
    return EMOTION_OFFSETS[EMOTIONS.index(name)] * float(intensity)


def close_lips(weights: np.ndarray) -> np.ndarray:
    """Weights (..., 52) with the lips shut as for p/b/m: mouthClose and mouthPress raised,
    jawOpen and the lip-parting channels (funnel, upper lip up, lower lip down, tongue) near 0.
    Smile, frown, pucker and the rest of the face are kept."""
    return np.minimum(np.maximum(weights, _CLOSED_FLOOR), _CLOSED_CAP)
