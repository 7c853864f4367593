# SPDX-License-Identifier: GPL-3.0-or-later
"""The embedded face backend: phonemes -> visemes -> ARKit-52 curves at the video fps.

1. Phonemes become timed viseme units (diphthongs split; pauses, gaps and anything outside the
   words become silence).
2. On a fine grid (at least 200 Hz) every unit contributes with a *dominance* that is flat over
   the unit and falls off as a Gaussian outside it (Cohen-Massaro style coarticulation). Visible
   consonants (p b m f v) dominate strongly, tongue-only ones weakly, so vowels colour them. The
   lips blend viseme poses; the jaw blends vowel openness with its own dominances (jaw and lips
   are partly decoupled). Rounding of u/o/w starts up to 130 ms early across consonants.
3. A Gaussian anti-alias filter brings the mouth down to the video fps.
4. Per frame: emotion (per segment, eased), brow accents on stressed vowels, seeded blinks and
   gaze. Last, the lips are forced shut on every p/b/m, so nothing breaks a bilabial closure.

Every random choice comes from one ``numpy`` Generator seeded with ``FaceSettings.seed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import convolve1d, gaussian_filter1d

from ..errors import InputError
from ..names import ARKIT_INDEX, EMOTIONS, VISEME_INDEX, VISEMES
from ..settings import FaceSettings
from ..types import FaceTrack, Script, Segment, Speech, Word, frame_count
from .arkit import EMOTION_OFFSETS, MOUTH, VISEME_POSES, close_lips
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
_EMOTION_EASE = 0.3
"""Duration of an emotion change between segments (s)."""
_LOOK_FULL = 0.35
"""Eye rotation (rad) at which an eyeLook* weight reaches 1."""
_MAX_GAZE = 0.28
"""Largest eye rotation (rad)."""

# viseme -> (dominance, fall-off in s) for the lips
_LIP_DOMINANCE: dict[str, tuple[float, float]] = {
    "sil": (1.0, 0.04), "PP": (2.0, 0.03), "FF": (2.0, 0.03), "TH": (0.6, 0.04),
    "DD": (0.25, 0.05), "kk": (0.2, 0.05), "CH": (0.9, 0.04), "SS": (0.7, 0.04),
    "nn": (0.25, 0.05), "RR": (0.6, 0.05), "aa": (0.6, 0.04), "E": (0.6, 0.04),
    "ih": (0.6, 0.04), "oh": (0.7, 0.05), "ou": (0.8, 0.05),
}
_STRESS_OPENING = {2: 1.1, 1: 1.0, 0: 0.85}
_SIL = units(PAUSE)[0]
_A = ARKIT_INDEX


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
        to the character's left), head zeros (the body stage owns the head), no expressions.
        """
        fps = _check(fps, settings)
        rng = np.random.default_rng(int(settings.seed) % 2**64)
        frames = frame_count(speech.duration, fps)
        times = np.arange(frames) / fps
        timed = _timeline(speech)

        mouth, vis = _mouth(timed, frames, fps, settings.articulation)
        arkit = mouth + _emotion(script, speech, times, fps)
        accent = _brow_accents(speech, times, fps, rng)
        arkit[:, _A["browInnerUp"]] += accent
        arkit[:, [_A["browOuterUpLeft"], _A["browOuterUpRight"]]] += 0.8 * accent[:, None]

        blink = _blinks(_blink_times(speech, settings.blink_rate, rng), frames, fps, rng)
        for eye, side in enumerate(("Left", "Right")):
            arkit[:, _A["eyeBlink" + side]] += blink[:, eye]
            arkit[:, _A["eyeWide" + side]] *= 1.0 - np.clip(blink[:, eye], 0.0, 1.0)
        gaze = _gaze(speech.duration, frames, fps, rng)
        arkit += _look_weights(gaze)
        arkit = np.clip(arkit, 0.0, 1.0)

        shut = _bilabial_frames(timed, frames, fps)
        arkit[shut] = close_lips(arkit[shut])
        vis[shut] = np.eye(len(VISEMES))[VISEME_INDEX["PP"]]

        jaw = np.zeros((frames, 3))
        jaw[:, 0] = JAW_RADIANS * arkit[:, _A["jawOpen"]]
        eyes = np.zeros((frames, 2, 3))
        eyes[:, :, :2] = gaze[:, None, :]
        return FaceTrack(fps, arkit, np.clip(vis, 0.0, 1.0), jaw, eyes, np.zeros((frames, 3)))


# --------------------------------------------------------------------------- checks
def _check(fps: float, settings: FaceSettings) -> float:
    fps = float(fps)
    if not (math.isfinite(fps) and 1.0 <= fps <= 240.0):
        raise InputError(f"fps must be in 1..240, got {fps}")
    if not (math.isfinite(settings.blink_rate) and 0.0 <= settings.blink_rate <= 60.0):
        raise InputError(f"blink rate must be 0..60 per minute, got {settings.blink_rate}")
    if not (math.isfinite(settings.articulation) and 0.0 <= settings.articulation <= 2.0):
        raise InputError(f"articulation must be 0..2, got {settings.articulation}")
    if isinstance(settings.seed, bool) or not isinstance(settings.seed, int | np.integer):
        raise InputError(f"face seed must be an integer, got {settings.seed!r}")
    return fps


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


def _mouth(
    timed: list[_Timed], frames: int, fps: float, articulation: float
) -> tuple[np.ndarray, np.ndarray]:
    """Coarticulated mouth at the video fps: ARKit (T,52) and viseme weights (T,15)."""
    rate = max(GRID_RATE, 4.0 * fps)
    n = math.ceil(frames / fps * rate) + 2
    weights = np.zeros((n, len(VISEMES)))
    weights[:, VISEME_INDEX["sil"]] = 1e-6
    jaw_num = np.zeros(n)
    jaw_den = np.full(n, 1e-6)
    for tu in timed:
        u = tu.unit
        quiet = 0.1 if u.glottal else 1.0
        alpha, tau = _LIP_DOMINANCE[u.viseme]
        sl, d = _dominance(tu.start, tu.end, alpha * quiet, tau, rate, n)
        weights[sl, VISEME_INDEX[u.viseme]] += d
        alpha, tau = _jaw_dominance(u)
        sl, d = _dominance(tu.start, tu.end, alpha * quiet, tau, rate, n)
        opening = u.openness * (_STRESS_OPENING.get(tu.stress, 1.0) if u.vowel else 1.0)
        jaw_num[sl] += d * opening
        jaw_den[sl] += d
    weights /= weights.sum(axis=1, keepdims=True)
    lips = weights @ VISEME_POSES
    rounding = _rounding(timed, rate, n)
    for k, name in enumerate(("mouthPucker", "mouthFunnel")):
        lips[:, _A[name]] = np.maximum(lips[:, _A[name]], rounding[:, k])
    lips[:, _A["jawOpen"]] = gaussian_filter1d(jaw_num / jaw_den, 0.012 * rate, mode="nearest")
    lips[:, MOUTH] *= articulation

    sigma = 0.5 / fps * rate  # anti-alias: about -5 dB at the video Nyquist frequency
    lips = gaussian_filter1d(lips, sigma, axis=0, mode="nearest")
    weights = gaussian_filter1d(weights, sigma, axis=0, mode="nearest")
    pos = np.arange(frames) / fps * rate
    i = np.minimum(np.floor(pos).astype(int), n - 2)
    f = (pos - i)[:, None]
    sample = lambda a: a[i] * (1 - f) + a[i + 1] * f
    return sample(lips), sample(weights)


def _bilabial_frames(timed: list[_Timed], frames: int, fps: float) -> np.ndarray:
    """(T,) bool: frames inside a p/b/m, or the frame nearest one that falls between frames."""
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
    return shut


# --------------------------------------------------------------------------- emotion
def _segment_starts(script: Script, speech: Speech) -> list[tuple[float, Segment]]:
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


def _emotion(script: Script, speech: Speech, times: np.ndarray, fps: float) -> np.ndarray:
    """(T,52) emotion offsets; each segment's emotion holds until the next one starts and
    changes are eased over :data:`_EMOTION_EASE` s."""
    pairs = _segment_starts(script, speech)
    starts = np.array([p[0] for p in pairs])
    owner = np.maximum(np.searchsorted(starts, times, side="right") - 1, 0)
    level = np.zeros((len(times), len(EMOTIONS)))
    emo = np.array([EMOTIONS.index(s.emotion) for _, s in pairs])
    gain = np.array([s.intensity for _, s in pairs])
    level[np.arange(len(times)), emo[owner]] = gain[owner]
    taps = round(_EMOTION_EASE * fps)
    if taps > 1:
        window = np.hanning(taps + 2)[1:-1]
        level = convolve1d(level, window / window.sum(), axis=0, mode="nearest")
    return level @ EMOTION_OFFSETS


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


def _brow_accents(speech: Speech, times: np.ndarray, fps: float, rng) -> np.ndarray:
    """(T,) brow raise on some primary-stressed vowels of longer words (>= 0.3 s; without
    words: vowels >= 0.1 s): up to 0.2, rising 120 ms before the vowel centre, fading in 350 ms."""
    out = np.zeros(len(times))
    mids = np.array([(p.start + p.end) / 2 for p in speech.phonemes])
    lengths = _word_lengths(speech.words, mids)
    for ph, mid, length in zip(speech.phonemes, mids, lengths):
        if ph.stress != 2 or not is_vowel(ph.symbol):
            continue
        keep, amp = rng.random(), rng.uniform(0.1, 0.2)
        long_enough = length >= 0.3 if speech.words else ph.end - ph.start >= 0.1
        if not long_enough or keep > 0.75:
            continue
        i0 = max(0, math.ceil((mid - 0.12) * fps))
        i1 = min(len(times), math.floor((mid + 0.35) * fps) + 1)
        t = times[i0:i1]
        up = 0.5 - 0.5 * np.cos(np.pi * np.clip((t - mid + 0.12) / 0.12, 0, 1))
        down = 0.5 + 0.5 * np.cos(np.pi * np.clip((t - mid) / 0.35, 0, 1))
        out[i0:i1] = np.maximum(out[i0:i1], amp * np.where(t < mid, up, down))
    return out


# --------------------------------------------------------------------------- blinks
def _pause_anchors(speech: Speech) -> np.ndarray:
    """Times (s) where a blink is likely: starts of pauses >= 100 ms, sentence ends, segment
    ends and the end of speech."""
    anchors = [end for _, end in speech.segment_times]
    anchors += [w.end for w in speech.words if w.text.rstrip().endswith((".", "!", "?", ";"))]
    last = None
    for ph in speech.phonemes:
        if units(ph.symbol)[0].viseme == "sil":
            continue
        if last is not None and ph.start - last >= 0.1:
            anchors.append(last)
        last = ph.end if last is None else max(last, ph.end)
    if last is not None:
        anchors.append(last)
    return np.sort(np.array(anchors, float))


def _blink_times(speech: Speech, rate: float, rng) -> list[float]:
    """Blink onsets (s): a renewal process of ``rate`` per minute (gamma intervals, >= 0.6 s)
    whose first blink falls in the first 2 s; most blinks near a pause move to it. Onsets stay
    >= 0.5 s apart."""
    if rate <= 0:
        return []
    mean = 60.0 / rate
    anchors = _pause_anchors(speech)
    onsets = []
    t = rng.uniform(0.4, min(mean, 2.0))  # speakers blink early; even short clips show one
    while t < speech.duration:
        snap, delay = rng.random(), rng.uniform(0.0, 0.12)
        onset = t
        if anchors.size:
            near = anchors[np.argmin(np.abs(anchors - t))]
            if abs(near - t) <= 0.8 and snap < 0.65:
                onset = near + delay
        onsets.append(onset)
        t += max(0.6, rng.gamma(4.0, mean / 4.0))
    kept: list[float] = []
    for onset in sorted(onsets):
        if onset < speech.duration and (not kept or onset - kept[-1] >= 0.5):
            kept.append(onset)
    return kept


def _blinks(onsets: list[float], frames: int, fps: float, rng) -> np.ndarray:
    """(T,2) eyeBlink left/right: 100-300 ms, closing in 35 % of it, the right eye a few ms
    off; the frame nearest full closure always reaches the blink's peak."""
    out = np.zeros((frames, 2))
    for onset in onsets:
        dur, amp = rng.uniform(0.1, 0.3), rng.uniform(0.92, 1.0)
        shift, amp_right = rng.uniform(-0.015, 0.015), amp * rng.uniform(0.93, 1.0)
        for eye, (s, a) in enumerate(((onset, amp), (onset + shift, amp_right))):
            close = 0.35 * dur
            i0 = max(0, math.ceil(s * fps))
            i1 = min(frames, math.floor((s + dur) * fps) + 1)
            u = np.arange(i0, i1) / fps - s
            env = np.where(
                u < close,
                np.sin(0.5 * np.pi * np.clip(u / close, 0, 1)) ** 2,
                np.cos(0.5 * np.pi * np.clip((u - close) / (dur - close), 0, 1)) ** 2,
            )
            out[i0:i1, eye] = np.maximum(out[i0:i1, eye], a * env)
            peak = round((s + close) * fps)
            if 0 <= peak < frames:
                out[peak, eye] = max(out[peak, eye], a)
    return out


# --------------------------------------------------------------------------- gaze
def _gaze(duration: float, frames: int, fps: float, rng) -> np.ndarray:
    """(T,2) eye rotation (x pitch: positive looks down, y yaw: positive looks to the
    character's left), radians. Fixations near the camera with small saccades; about one in
    five is a short look-away that returns to the camera."""
    jumps = np.zeros((frames + 1, 2))
    partial = np.zeros((frames, 2))
    current = np.zeros(2)
    away = False
    t = rng.uniform(0.3, 1.5)
    while t < duration:
        if away:
            target, hold, away = rng.normal(0.0, 0.02, 2), rng.uniform(0.8, 2.5), False
        elif rng.random() < 0.2:
            yaw = rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 0.22)
            target = np.array([rng.uniform(-0.08, 0.12), yaw])
            hold, away = rng.uniform(0.3, 0.9), True
        else:
            target, hold = np.clip(rng.normal(0.0, 0.025, 2), -0.06, 0.06), rng.uniform(0.5, 2.0)
        target = np.clip(target, -_MAX_GAZE, _MAX_GAZE)
        delta = target - current
        dur = 0.025 + 0.1 * float(np.abs(delta).max())
        i0 = min(frames, math.ceil(t * fps))
        i1 = min(frames, max(i0, math.ceil((t + dur) * fps)))
        s = np.clip((np.arange(i0, i1) / fps - t) / dur, 0.0, 1.0)
        partial[i0:i1] += (s * s * (3 - 2 * s))[:, None] * delta
        jumps[i1] += delta
        current = target
        t += dur + hold
    return np.clip(np.cumsum(jumps, axis=0)[:frames] + partial, -_MAX_GAZE, _MAX_GAZE)


def _look_weights(gaze: np.ndarray) -> np.ndarray:
    """(T,52) eyeLook* weights matching ``gaze`` (T,2) from :func:`_gaze`."""
    out = np.zeros((len(gaze), len(ARKIT_INDEX)))
    down = np.clip(gaze[:, 0] / _LOOK_FULL, 0, 1)
    up = np.clip(-gaze[:, 0] / _LOOK_FULL, 0, 1)
    left = np.clip(gaze[:, 1] / _LOOK_FULL, 0, 1)
    right = np.clip(-gaze[:, 1] / _LOOK_FULL, 0, 1)
    for name, w in (
        ("eyeLookDownLeft", down), ("eyeLookDownRight", down),
        ("eyeLookUpLeft", up), ("eyeLookUpRight", up),
        ("eyeLookOutLeft", left), ("eyeLookInRight", left),
        ("eyeLookInLeft", right), ("eyeLookOutRight", right),
    ):
        out[:, _A[name]] = w
    return out
