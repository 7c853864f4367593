# SPDX-License-Identifier: GPL-3.0-or-later
"""The emotion layer: each script segment's emotion (or blend of two) as eased levels over time.

A segment holds ``emotion`` at ``intensity`` and optionally ``emotion2`` at ``intensity2``
(markup ``[happy 0.6 + surprised 0.3]``). Levels are a (T,7) array over
:data:`~..names.EMOTIONS`; a change between segments is a smootherstep over
``FaceSettings.emotion_ease`` seconds (>= 0.2 s) that starts 40 % of the ease before the new
segment's first word, as faces change just before the words. Levels become:

- an ARKit offset (brows, eyes, mouth corners, cheeks, nose) from :data:`.arkit.EMOTION_OFFSETS`;
- a gain on articulation (sad speech opens less, angry and surprised speech more);
- a bias of the gaze (sad looks down) and of the head (sad drops the chin, surprise lifts it).

Lip closure on p/b/m is applied after this layer, so no emotion can break it.
"""

from __future__ import annotations

import numpy as np

from ..names import EMOTIONS
from ..types import Script, Segment, Speech
from .arkit import EMOTION_OFFSETS

LEAD = 0.4
"""Share of the ease that happens before the new segment starts."""

_ARTICULATION = {"neutral": 0.0, "happy": 0.05, "sad": -0.2, "angry": 0.1, "surprised": 0.1,
                 "fearful": -0.05, "disgusted": -0.1}
_GAZE_PITCH = {"sad": 0.09, "fearful": -0.02, "disgusted": 0.03}  # rad, positive looks down
# head (x: chin down +, y: turn to the character's left +, z: roll) in rad at intensity 1
_HEAD = {"happy": (-0.02, 0.0, 0.015), "sad": (0.08, 0.0, 0.02), "angry": (0.04, 0.0, 0.0),
         "surprised": (-0.05, 0.0, 0.0), "fearful": (0.02, 0.0, -0.01),
         "disgusted": (-0.02, -0.04, -0.03)}


def segment_starts(script: Script, speech: Speech) -> list[tuple[float, Segment]]:
    """(start s, segment) in time order, from segment_times, else words, else text length."""
    segs = script.segments
    if speech.segment_times:
        pairs = [(float(t[0]), s) for t, s in zip(speech.segment_times, segs)]
    else:
        first: dict[int, float] = {}
        for w in speech.words:
            if 0 <= w.segment < len(segs):
                first.setdefault(w.segment, w.start)
        pairs = [(t, segs[i]) for i, t in first.items()]
    if not pairs:
        sizes = np.array([max(1, len(s.text)) for s in segs], float)
        starts = np.concatenate([[0.0], np.cumsum(sizes)[:-1]]) / sizes.sum() * speech.duration
        pairs = list(zip(starts.tolist(), segs))
    return sorted(pairs, key=lambda p: p[0])


def segment_level(segment: Segment, strength: float = 1.0) -> np.ndarray:
    """(7,) emotion levels of one segment: its emotion and optional second emotion, scaled
    by ``strength`` and clipped to 0..1 (neutral is the absence of the others)."""
    out = np.zeros(len(EMOTIONS))
    out[EMOTIONS.index(segment.emotion)] += segment.intensity * strength
    if segment.emotion2:
        out[EMOTIONS.index(segment.emotion2)] += segment.intensity2 * strength
    return np.clip(out, 0.0, 1.0)


def _smootherstep(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (u * (6 * u - 15) + 10)


def emotion_levels(
    script: Script, speech: Speech, times: np.ndarray, ease: float, strength: float = 1.0
) -> np.ndarray:
    """(T,7) eased emotion levels at ``times`` (T,) s.

    Each change between consecutive segments is a smootherstep over ``ease`` s, superposed, so
    segments shorter than the ease still blend smoothly.
    """
    pairs = segment_starts(script, speech)
    levels = np.stack([segment_level(s, strength) for _, s in pairs])
    out = np.repeat(levels[:1], len(times), axis=0)
    for (start, _), prev, cur in zip(pairs[1:], levels[:-1], levels[1:]):
        if np.array_equal(prev, cur):
            continue
        s = _smootherstep((times - start) / ease + LEAD)
        out += s[:, None] * (cur - prev)
    return np.clip(out, 0.0, 1.0)


def emotion_face(levels: np.ndarray) -> np.ndarray:
    """(T,52) ARKit offsets of ``levels`` (T,7)."""
    return levels @ EMOTION_OFFSETS


def articulation_gain(levels: np.ndarray) -> np.ndarray:
    """(T,) factor on the mouth's articulation from ``levels`` (T,7), e.g. 0.8 when sad."""
    return 1.0 + levels @ np.array([_ARTICULATION[e] for e in EMOTIONS])


def gaze_bias(levels: np.ndarray) -> np.ndarray:
    """(T,2) eye rotation bias (x pitch: + looks down, y yaw) in rad from ``levels`` (T,7)."""
    pitch = levels @ np.array([_GAZE_PITCH.get(e, 0.0) for e in EMOTIONS])
    return np.stack([pitch, np.zeros_like(pitch)], axis=1)


def head_bias(levels: np.ndarray) -> np.ndarray:
    """(T,3) head axis-angle bias in rad from ``levels`` (T,7) (x: chin down +)."""
    return levels @ np.array([_HEAD.get(e, (0.0, 0.0, 0.0)) for e in EMOTIONS])
