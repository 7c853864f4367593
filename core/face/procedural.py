# SPDX-License-Identifier: GPL-3.0-or-later
"""The embedded face backend: phonemes -> visemes -> ARKit-52 curves at the video fps.

1. Phonemes become timed viseme units (diphthongs split; pauses, gaps and anything outside the
   words become silence).
2. On a fine grid (at least 200 Hz) every unit contributes with a *dominance* that is flat over
   the unit and falls off as a Gaussian outside it (Cohen-Massaro style coarticulation). Visible
   consonants (p b m f v) dominate strongly, tongue-only ones weakly, so vowels colour them. The
   lips blend viseme poses; the jaw blends vowel openness with its own dominances (jaw and lips
   are decoupled); the tongue shows lightly on th and l. Rounding of u/o/w starts up to 130 ms
   early across consonants.
3. A Gaussian anti-alias filter brings the mouth down to the video fps.
4. Layers on top (:mod:`.emotion`, :mod:`.life`, :mod:`.prosody`): eased emotion (blends of
   two), brow accents on stressed, high-pitched vowels, micro-expressions, breathing, blinks,
   gaze with saccades and look-aways, prosody-driven head motion, small asymmetry.
5. Last, the lips are eased shut around every p/b/m and fully shut on at least one frame, so
   nothing (emotion included) breaks a bilabial closure.

A speech without spoken phonemes but with sound (an audio file without transcript) gets an
audio-driven mouth from :func:`.energy.energy_mouth` instead of steps 1-3.

Every random choice comes from Generators spawned from ``FaceSettings.seed``: one per layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..errors import BackendError, InputError
from ..names import ARKIT_INDEX, VISEME_INDEX, VISEMES
from ..settings import FaceSettings
from ..types import FaceTrack, Script, Speech, Word, frame_count
from . import emotion as emo
from . import life, prosody
from .arkit import MOUTH, VISEME_POSES, close_lips
from .visemes import PAUSE, VisemeUnit, is_vowel, units

JAW_RADIANS = 0.35
"""SMPL-X jaw rotation (rad) about +x at jawOpen 1. Positive x opens the jaw: SMPL-X is Y-up
with the face towards +Z, so a positive rotation about x swings the chin down."""

GRID_RATE = 200.0
"""Lowest rate (Hz) of the internal grid on which coarticulation is evaluated."""

_MIN_PAUSE = 0.04
"""Shorter gaps between spoken phonemes do not close the mouth (s)."""
_WORD_SLACK = 0.05
"""A phoneme whose centre lies this far outside every word is silence (s)."""
_ANTICIPATION = 0.13
"""How early lip rounding of u/o/w starts (s)."""
_JAW_LEAD = 0.03
"""The jaw moves this much ahead of the phoneme timings (s): articulation precedes the sound it
makes (the jaw is open when a vowel's loudness peaks)."""
_CLOSURE_RAMP = 0.085
"""The lips ease towards a p/b/m closure over this time on either side of it (s)."""
_HEAD_FOLLOWS_EYES = 0.3
"""Share of a look-away that the head turns along with the eyes."""

# viseme -> (dominance, fall-off in s) for the lips
_LIP_DOMINANCE: dict[str, tuple[float, float]] = {
    "sil": (1.0, 0.04), "PP": (2.0, 0.03), "FF": (2.0, 0.03), "TH": (0.6, 0.04),
    "DD": (0.25, 0.05), "kk": (0.2, 0.05), "CH": (0.9, 0.04), "SS": (0.7, 0.04),
    "nn": (0.25, 0.05), "RR": (0.6, 0.05), "aa": (0.6, 0.04), "E": (0.6, 0.04),
    "ih": (0.6, 0.04), "oh": (0.7, 0.05), "ou": (0.8, 0.05),
}
_STRESS_OPENING = {2: 1.25, 1: 1.12, 0: 0.95}
"""Vowel jaw opening by stress; calibrated so jawOpen's 95th percentile in talk (~0.55) meets
the iPhone captures' (bench/face_realism_bench.py)."""
_SIL = units(PAUSE)[0]
_A = ARKIT_INDEX
_LIFE_LAYERS = ("blinks", "gaze", "micro", "breath", "asym", "head", "brows")


@dataclass(frozen=True)
class _Timed:
    """A viseme unit placed in time (s)."""

    unit: VisemeUnit
    start: float
    end: float
    stress: int = 0


class ProceduralFace:
    """Embedded, offline face backend ("visemes")."""

    def animate(
        self, script: Script, speech: Speech, fps: float, settings: FaceSettings
    ) -> FaceTrack:
        """Face motion for ``speech`` at ``fps``: T = ``frame_count(speech.duration, fps)``.

        Returns arkit (T,52), visemes (T,15), jaw (T,3) axis-angle (x only, see
        :data:`JAW_RADIANS`), eyes (T,2,3) axis-angle (x: positive looks down, y: positive looks
        to the character's left), head (T,3) axis-angle added to the body's head joint (x: chin
        down), no expressions.
        """
        fps = _check(fps)
        seeds = np.random.SeedSequence(int(settings.seed) % 2**63).spawn(len(_LIFE_LAYERS))
        rng = {k: np.random.default_rng(s) for k, s in zip(_LIFE_LAYERS, seeds)}
        frames = frame_count(speech.duration, fps)
        times = np.arange(frames) / fps
        timed = _timeline(speech)
        levels = emo.emotion_levels(script, speech, times, settings.emotion_ease,
                                    settings.emotion_strength)

        if any(t.unit.viseme != "sil" for t in timed) or not _audible(speech):
            mouth, vis = _mouth(timed, frames, fps)
        else:
            mouth, vis = _energy_mouth(speech, fps, frames)
        gain = settings.articulation * emo.articulation_gain(levels)
        mouth[:, MOUTH] *= gain[:, None]

        pros = prosody.analyse(speech.samples, speech.sample_rate)
        arkit = mouth + emo.emotion_face(levels)
        accent = _brow_accents(speech, times, fps, prosody.pitch_accent(pros, times),
                               rng["brows"])
        arkit[:, _A["browInnerUp"]] += accent
        arkit[:, [_A["browOuterUpLeft"], _A["browOuterUpRight"]]] += 0.8 * accent[:, None]
        arkit += life.micro_expressions(speech.duration, frames, fps, rng["micro"],
                                        settings.micro_expressions)
        breath = life.breath_curve(speech, frames, fps, rng["breath"])
        arkit += life.breathing_face(breath, settings.breathing)

        gaze, shifts = life.gaze(speech, frames, fps, rng["gaze"], settings.gaze_at_camera,
                                 settings.saccades)
        gaze = np.clip(gaze + emo.gaze_bias(levels), -life.MAX_GAZE, life.MAX_GAZE)
        blinks = life.blink_schedule(speech, settings.blink_rate, rng["blinks"], shifts, script)
        blink = life.blink_curves(blinks, frames, fps, rng["blinks"], settings.asymmetry)
        arkit += life.look_weights(gaze)
        for eye, side in enumerate(("Left", "Right")):
            arkit[:, _A["eyeBlink" + side]] += blink[:, eye]
            arkit[:, _A["eyeWide" + side]] *= 1.0 - np.clip(blink[:, eye], 0.0, 1.0)
        arkit *= life.asymmetry_gains(rng["asym"], settings.asymmetry)
        arkit = np.clip(arkit, 0.0, 1.0)

        closure = _closure(timed, frames, fps)
        arkit += closure[:, None] * (close_lips(arkit) - arkit)
        vis += closure[:, None] * (np.eye(len(VISEMES))[VISEME_INDEX["PP"]] - vis)

        head = prosody.head_motion(speech, pros, times, fps, rng["head"], settings.head_motion)
        head += emo.head_bias(levels)
        head[:, 1] += _HEAD_FOLLOWS_EYES * gaussian_filter1d(gaze[:, 1], 0.12 * fps)
        jaw = np.zeros((frames, 3))
        jaw[:, 0] = JAW_RADIANS * arkit[:, _A["jawOpen"]]
        eyes = np.zeros((frames, 2, 3))
        eyes[:, :, :2] = gaze[:, None, :]
        return FaceTrack(fps, arkit, np.clip(vis, 0.0, 1.0), jaw, eyes, head)


# --------------------------------------------------------------------------- checks
def _check(fps: float) -> float:
    fps = float(fps)
    if not (math.isfinite(fps) and 1.0 <= fps <= 240.0):
        raise InputError(f"fps must be in 1..240, got {fps}")
    return fps


def _audible(speech: Speech) -> bool:
    """True when the samples hold more than digital silence."""
    return bool(np.max(np.abs(speech.samples)) > 1e-4)


def _energy_mouth(speech: Speech, fps: float, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Mouth from the audio alone (no phoneme timings): ARKit (T,52) and visemes (T,15)."""
    try:
        from .energy import energy_mouth
    except ImportError:
        raise BackendError(
            "this speech has sound but no phoneme timings, and the audio-driven mouth "
            "(core.face.energy) is not available; give a transcript or update PaksaTalker"
        ) from None
    curves = energy_mouth(speech.samples, speech.sample_rate, fps, frames)
    arkit = np.zeros((frames, len(_A)))
    for name, curve in curves.items():
        if name not in _A:
            raise BackendError(f"energy_mouth returned {name!r}, not an ARKit name")
        arkit[:, _A[name]] = np.clip(np.asarray(curve, float)[:frames], 0.0, 1.0)
    vis = np.zeros((frames, len(VISEMES)))
    open_ = np.clip(arkit[:, _A["jawOpen"]] / 0.5, 0.0, 1.0)
    vis[:, VISEME_INDEX["aa"]] = open_
    vis[:, VISEME_INDEX["sil"]] = 1.0 - open_
    return arkit, vis


# --------------------------------------------------------------------------- timeline
def _inside_words(speech: Speech) -> np.ndarray:
    """(P,) bool: phoneme centre lies within a word (all True when there are no words)."""
    mids = np.array([(p.start + p.end) / 2 for p in speech.phonemes])
    if not speech.words or not len(mids):
        return np.ones(len(mids), bool)
    starts = np.array([w.start for w in speech.words]) - _WORD_SLACK
    reach = np.maximum.accumulate(np.array([w.end for w in speech.words])) + _WORD_SLACK
    idx = np.searchsorted(starts, mids, side="right") - 1
    return (idx >= 0) & (reach[np.maximum(idx, 0)] >= mids)


def _timeline(speech: Speech) -> list[_Timed]:
    """Timed units covering the speech; silence before, between (>= 40 ms) and after."""
    out: list[_Timed] = []

    def silence(a: float, b: float) -> None:
        if b - a >= _MIN_PAUSE:
            out.append(_Timed(_SIL, a, b))

    cursor = 0.0
    for ph, spoken in zip(speech.phonemes, _inside_words(speech)):
        parts = units(ph.symbol)
        if not spoken or parts[0].viseme == "sil":
            continue
        silence(cursor, ph.start)
        t = ph.start
        for u in parts:
            end = t + u.share * (ph.end - ph.start)
            out.append(_Timed(u, t, end, ph.stress))
            t = end
        cursor = max(cursor, ph.end)
    silence(cursor, speech.duration)
    return out


# --------------------------------------------------------------------------- mouth
def _dominance(
    start: float, end: float, alpha: float, tau: float, rate: float, n: int
) -> tuple[slice, np.ndarray]:
    """Grid slice and dominance (L,): ``alpha`` over [start, end], Gaussian fall-off ``tau``."""
    i0 = max(0, math.floor((start - 4 * tau) * rate))
    i1 = min(n, math.ceil((end + 4 * tau) * rate) + 1)
    t = np.arange(i0, max(i0, i1)) / rate
    dist = np.maximum(0.0, np.maximum(start - t, t - end))
    return slice(i0, max(i0, i1)), alpha * np.exp(-((dist / tau) ** 2))


def _jaw_dominance(u: VisemeUnit) -> tuple[float, float]:
    if u.vowel:
        return 1.0, 0.05
    if u.viseme == "sil":
        return 1.0, 0.04
    if u.bilabial:
        return 0.8, 0.03
    return (0.5, 0.03) if u.viseme == "FF" else (0.3, 0.04)


def _rounding(timed: list[_Timed], rate: float, n: int) -> np.ndarray:
    """(n,2) floor for mouthPucker, mouthFunnel: u/o/w rounding, anticipated across consonants
    (not across a vowel or silence) up to :data:`_ANTICIPATION` s before the sound."""
    out = np.zeros((n, 2))
    barrier = 0.0
    for tu in timed:
        u = tu.unit
        if u.rounded:
            a = max(tu.start - _ANTICIPATION, barrier)
            sl, _ = _dominance(a, tu.end, 1.0, 0.05, rate, n)
            t = np.arange(sl.start, sl.stop) / rate
            rise = np.clip((t - a) / max(tu.start - a, 1e-6), 0.0, 1.0)
            env = np.where(t < tu.start, rise * rise * (3 - 2 * rise), 1.0)
            env = np.where(t > tu.end, np.exp(-(((t - tu.end) / 0.05) ** 2)), env)
            pose = VISEME_POSES[VISEME_INDEX[u.viseme]]
            target = 0.9 * pose[[_A["mouthPucker"], _A["mouthFunnel"]]]
            out[sl] = np.maximum(out[sl], env[:, None] * target)
        if u.vowel or u.viseme == "sil":
            barrier = tu.end
    return out


def _mouth(timed: list[_Timed], frames: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Coarticulated mouth at the video fps: ARKit (T,52) and viseme weights (T,15)."""
    rate = max(GRID_RATE, 4.0 * fps)
    n = math.ceil(frames / fps * rate) + 2
    weights = np.zeros((n, len(VISEMES)))
    weights[:, VISEME_INDEX["sil"]] = 1e-6
    jaw_num = np.zeros(n)
    jaw_den = np.full(n, 1e-6)
    tongue = np.zeros(n)
    for tu in timed:
        u = tu.unit
        quiet = 0.1 if u.glottal else 1.0
        alpha, tau = _LIP_DOMINANCE[u.viseme]
        sl, d = _dominance(tu.start, tu.end, alpha * quiet, tau, rate, n)
        weights[sl, VISEME_INDEX[u.viseme]] += d
        if u.tongue:
            tongue[sl] += d * u.tongue
        alpha, tau = _jaw_dominance(u)
        sl, d = _dominance(tu.start, tu.end, alpha * quiet, tau, rate, n)
        opening = u.openness * (_STRESS_OPENING.get(tu.stress, 1.0) if u.vowel else 1.0)
        jaw_num[sl] += d * opening
        jaw_den[sl] += d
    total = weights.sum(axis=1, keepdims=True)
    weights /= total
    cols = [_A["mouthPucker"], _A["mouthFunnel"], _A["tongueOut"], _A["jawOpen"]]
    extra = weights @ VISEME_POSES[:, cols]  # (n,4) the channels with their own terms
    extra[:, :2] = np.maximum(extra[:, :2], _rounding(timed, rate, n))
    extra[:, 2] += tongue / total[:, 0]
    jaw = gaussian_filter1d(jaw_num / jaw_den, 0.012 * rate, mode="nearest")
    lead = round(_JAW_LEAD * rate)
    extra[:, 3] = np.concatenate([jaw[lead:], np.repeat(jaw[-1:], lead)])

    # anti-alias (about -5 dB at the video Nyquist frequency), evaluated at the frames only;
    # the viseme poses mix linearly, so smoothing the weights smooths the lips
    both = _sample_smoothed(np.concatenate([weights, extra], axis=1), frames, fps, rate)
    weights = both[:, :len(VISEMES)]
    lips = weights @ VISEME_POSES
    lips[:, cols] = both[:, len(VISEMES):]
    return lips, weights


def _sample_smoothed(grid: np.ndarray, frames: int, fps: float, rate: float) -> np.ndarray:
    """(T,C) ``grid`` (n,C) sampled at rate ``rate`` Hz, Gaussian-smoothed (sigma half a video
    frame), evaluated only at the T frame times (edges held)."""
    sigma = 0.5 / fps * rate
    half = math.ceil(4 * sigma)
    pos = np.arange(frames) / fps * rate
    idx = np.floor(pos).astype(int)[:, None] + np.arange(-half, half + 2)[None, :]
    w = np.exp(-0.5 * ((idx - pos[:, None]) / sigma) ** 2)
    w /= w.sum(axis=1, keepdims=True)
    return np.einsum("tk,tkc->tc", w, grid[np.clip(idx, 0, len(grid) - 1)])


def _closure(timed: list[_Timed], frames: int, fps: float) -> np.ndarray:
    """(T,) 0..1 how far the lips are forced shut: 1 on frames inside a p/b/m (or, for a
    p/b/m that falls between two frames, on the frame nearest its middle), easing to 0 over
    :data:`_CLOSURE_RAMP` s on either side so the closure is no one-frame step."""
    shut = np.zeros(frames, bool)
    for tu in timed:
        if not tu.unit.bilabial:
            continue
        f0 = max(0, math.ceil(tu.start * fps - 1e-9))
        f1 = min(frames - 1, math.floor(tu.end * fps + 1e-9))
        if f0 <= f1:
            shut[f0:f1 + 1] = True
        else:
            shut[min(frames - 1, max(0, round((tu.start + tu.end) / 2 * fps)))] = True
    if not shut.any():
        return np.zeros(frames)
    idx = np.flatnonzero(shut)
    pos = np.arange(frames)
    k = np.clip(np.searchsorted(idx, pos), 1, len(idx)) - 1
    dist = np.minimum(np.abs(pos - idx[k]), np.abs(pos - idx[np.minimum(k + 1, len(idx) - 1)]))
    u = np.clip(dist / fps / _CLOSURE_RAMP, 0.0, 1.0)
    return 0.5 + 0.5 * np.cos(np.pi * u)


# --------------------------------------------------------------------------- brows
def _word_lengths(words: tuple[Word, ...], times: np.ndarray) -> np.ndarray:
    """(P,) duration (s) of the word containing each time in ``times`` (P,); 0 outside words."""
    if not words:
        return np.zeros(len(times))
    starts = np.array([w.start for w in words])
    idx = np.maximum(np.searchsorted(starts, times + 1e-6, side="right") - 1, 0)
    ends = np.array([w.end for w in words])[idx]
    inside = (starts[idx] <= times + 1e-6) & (times <= ends + 1e-6)
    return np.where(inside, ends - starts[idx], 0.0)


def _brow_accents(
    speech: Speech, times: np.ndarray, fps: float, pitch: np.ndarray, rng
) -> np.ndarray:
    """(T,) brow raise on some primary-stressed vowels of longer words (>= 0.3 s; without
    words: vowels >= 0.1 s): up to 0.2, rising 120 ms before the vowel centre, fading in 350 ms.
    Where the voice is high (``pitch`` (T,), semitones above the speaker's median) the raise
    is likelier and larger; a voice below its median rarely raises the brows."""
    out = np.zeros(len(times))
    mids = np.array([(p.start + p.end) / 2 for p in speech.phonemes])
    lengths = _word_lengths(speech.words, mids)
    for ph, mid, length in zip(speech.phonemes, mids, lengths):
        if ph.stress != 2 or not is_vowel(ph.symbol):
            continue
        keep, amp = rng.random(), rng.uniform(0.1, 0.2)
        long_enough = length >= 0.3 if speech.words else ph.end - ph.start >= 0.1
        high = pitch[min(len(pitch) - 1, round(mid * fps))] if pitch.any() else 1.5
        chance = float(np.clip(0.35 + 0.2 * high, 0.1, 0.9))
        if not long_enough or keep > chance:
            continue
        amp = min(0.25, amp * (0.8 + 0.1 * min(high, 3.0)))
        i0 = max(0, math.ceil((mid - 0.12) * fps))
        i1 = min(len(times), math.floor((mid + 0.35) * fps) + 1)
        t = times[i0:i1]
        up = 0.5 - 0.5 * np.cos(np.pi * np.clip((t - mid + 0.12) / 0.12, 0, 1))
        down = 0.5 + 0.5 * np.cos(np.pi * np.clip((t - mid) / 0.35, 0, 1))
        out[i0:i1] = np.maximum(out[i0:i1], amp * np.where(t < mid, up, down))
    return out


