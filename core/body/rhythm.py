# SPDX-License-Identifier: GPL-3.0-or-later
"""Speech rhythm in the body: a small circling of hips, spine, head and arms that slows down on
the syllables.

While speaking, people's heads, torsos and hands keep moving a little, and the movement eases
on the syllables they stress. Here the torso joints follow a small circle (two axes; at scale 1:
0.6-0.75 degrees for pelvis and spine, 1.1-1.7 for neck and head, 2 for the collars, and 3 mm
for the hips) at half a turn per second, slowing by half (:data:`DIP`) on each **accent**: a
vowel onset at least :data:`GAP` apart from the previous one, stressed vowels preferred (a 70 ms
Gaussian dip; 60% as deep for an unstressed vowel). An arm that is up in gesture space (in a
gesture, or waiting at its home pose, see :mod:`.gestures`) circles faster, 1.5 turns/s: 4.3
degrees at the shoulder and 8.6 of elbow flexion, so the hand traces baton-like loops about
8 x 4 cm at the default energy, easing by 30% (:data:`ARM_DIP`) on the accents; an arm hanging at
rest keeps still. The right arm's loops are the mirror image of the left's.

The body eases, without stopping, on the syllables. Those speed minima are what beat
consistency (BC, :mod:`.metrics`) matches against the audio onsets, and BC only counts minima
where the joint is still moving (above 0.3 x its mean speed): so the dips are partial, and the
loops are big enough to stay above that line next to the much faster gesture strokes.
Everything scales with energy and style; in silence the torso circles three times slower and the
arms come to rest.
"""

from __future__ import annotations

import numpy as np

from ..names import JOINT_INDEX
from ..types import Speech
from .hands import MIRROR

J = JOINT_INDEX
VOWELS = frozenset("aeiouyæɑɒɐəɚɛɜɝɪʊʌɔœøɤɯɨʉ")
WIDTH = 0.07
"""Width of the slow-down on a syllable (Gaussian sigma, seconds)."""
DIP = 0.5
"""How much the torso circling slows on a stressed accent."""
ARM_DIP = 0.3
"""How much the arm circling slows on a stressed accent."""
TORSO_GAIN = 2.5
"""Size of the torso, neck and head circling (x the amplitudes below)."""
ARM_TURNS, ARM_GAIN = 1.5, 1.0
"""Turns/s and size (x the amplitudes below) of the arms' circling."""
GAP = 0.3
"""Seconds between two marked syllables at least."""
ACCENT_FLOOR = 0.6
"""Depth of an unstressed accent's slow-down relative to a stressed one."""
HIP_RADIUS = 0.003
"""Metres the hips circle (at scale 1)."""
_STRESS_GAIN = {2: 1.0, 1: 0.6, 0: 0.3}
# joint -> ((axis, axis), (radians, radians)) of the left side and the spine; the right collar,
# shoulder and elbow are the mirror images of the left ones, so both arms trace the same loops
_CIRCLE = {"pelvis": ((0, 1), (0.004, 0.004)), "spine1": ((0, 2), (0.004, 0.004)),
           "spine2": ((0, 2), (0.005, 0.005)), "spine3": ((0, 2), (0.005, 0.005)),
           "neck": ((0, 2), (0.008, 0.008)), "head": ((0, 1), (0.012, 0.012)),
           "left_collar": ((2, 1), (0.015, 0.015)), "left_shoulder": ((0, 2), (0.075, 0.075)),
           "left_elbow": ((1, 0), (-0.15, -0.15))}
for _name in ("collar", "shoulder", "elbow"):
    _axes, _amp = _CIRCLE[f"left_{_name}"]
    _CIRCLE[f"right_{_name}"] = (_axes, tuple(a * MIRROR[x] for a, x in zip(_amp, _axes)))


def syllables(speech: Speech) -> list[tuple[float, float]]:
    """(onset time s, gain 0..1) of every vowel in ``speech``."""
    return [(p.start, _STRESS_GAIN.get(p.stress, 0.3)) for p in speech.phonemes
            if p.symbol != "_" and any(ch in VOWELS for ch in p.symbol)]


def accents(speech: Speech, gap: float | None = None) -> list[tuple[float, float]]:
    """(time s, gain) of the syllables the body marks: vowel onsets at least ``gap`` apart
    (default :data:`GAP`); a stressed vowel displaces a weaker one just before it."""
    gap = GAP if gap is None else gap
    out: list[tuple[float, float]] = []
    for onset, gain in syllables(speech):
        if out and onset - out[-1][0] < gap:
            if gain > out[-1][1] and (len(out) < 2 or onset - out[-2][0] >= gap):
                out[-1] = (onset, gain)
            continue
        out.append((onset, gain))
    return out


def pulses(speech: Speech, t: np.ndarray) -> np.ndarray:
    """(T,) sum of unit pulses (one per accent, see :func:`accents`) at times ``t``."""
    out = np.zeros_like(t)
    for onset, gain in accents(speech):
        gain = ACCENT_FLOOR + (1.0 - ACCENT_FLOOR) * gain
        lo, hi = np.searchsorted(t, onset - 4 * WIDTH), np.searchsorted(t, onset + 4 * WIDTH)
        out[lo:hi] += gain * np.exp(-0.5 * ((t[lo:hi] - onset) / WIDTH) ** 2)
    return out


def phase(speech: Speech, t: np.ndarray, talk: np.ndarray, dip: float = 0.7,
          turns: float = 0.5) -> np.ndarray:
    """(T,) circling phase (radians): ``turns`` turns/s while talking (a third of that in
    silence), slowing by ``dip`` on each syllable."""
    rate = 2.0 * np.pi * turns * (0.33 + 0.67 * talk) * (
        1.0 - dip * np.clip(pulses(speech, t), 0.0, 1.0))
    dt = np.diff(t, prepend=t[0] - (t[1] - t[0] if len(t) > 1 else 1.0))
    return np.cumsum(rate * dt)


def add_rhythm(poses: np.ndarray, trans: np.ndarray, speech: Speech, t: np.ndarray,
               talk: np.ndarray, scale: float, engage: dict[str, np.ndarray] | None = None
               ) -> None:
    """Add the circling to ``poses`` (T,55,3) and ``trans`` (T,3) in place; ``talk`` (T,) 0..1
    speech activity, ``scale`` 0 turns it off; ``engage[side]`` (T,) 0..1 how far that arm is
    up in gesture space (its loops fade out as it comes down to rest; default: always up).
    The hips circle by :data:`HIP_RADIUS` (the legs are solved afterwards, so the feet stay
    planted)."""
    if scale <= 0.0 or len(t) < 2:
        return
    phi = phase(speech, t, talk, DIP)
    circle = np.stack([np.cos(phi), np.sin(phi)], axis=-1) * scale
    phi = phase(speech, t, talk, ARM_DIP, ARM_TURNS)
    arm = np.stack([np.cos(phi), np.sin(phi)], axis=-1) * (scale * ARM_GAIN * talk[:, None])
    trans[:, 0] += HIP_RADIUS * circle[:, 0]
    trans[:, 2] += HIP_RADIUS * circle[:, 1]
    for joint, (axes, amp) in _CIRCLE.items():
        if joint.endswith(("shoulder", "elbow")):
            side = joint.split("_")[0]
            c = arm if engage is None else arm * np.clip(engage[side], 0.0, 1.0)[:, None]
        else:
            c = circle * TORSO_GAIN
        poses[:, J[joint], axes[0]] += amp[0] * c[:, 0]
        poses[:, J[joint], axes[1]] += amp[1] * c[:, 1]
