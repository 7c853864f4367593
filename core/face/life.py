# SPDX-License-Identifier: GPL-3.0-or-later
"""The life layer: blinks, gaze and saccades, micro-expressions, breathing and asymmetry.

Each part takes its own ``numpy`` Generator (spawned from ``FaceSettings.seed``), so the same
seed gives the same face and changing one slider does not reshuffle the others.

Conventions: times in seconds, ``fps`` frames per second, T frames. Eye rotations are (T,2)
[x pitch: + looks down, y yaw: + looks to the character's left] in radians.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..names import ARKIT_52, ARKIT_INDEX
from ..types import Script, Speech
from .visemes import units

_A = ARKIT_INDEX
LOOK_FULL = 0.35
"""Eye rotation (rad) at which an eyeLook* weight reaches 1."""
MAX_GAZE = 0.3
"""Largest eye rotation (rad)."""
AT_CAMERA = 0.06
"""Eyes within this angle (rad) of the camera count as looking at it."""
_FULL_STOPS = (".", "!", "?", ";", "。", "！", "？", "；")
GAZE_BLINK = 0.15
"""A gaze shift at least this large (rad) brings a blink with it (gaze-evoked blink)."""


@dataclass(frozen=True)
class Pause:
    """A silence between spoken phonemes (s); ``sentence`` when it follows a sentence end."""

    start: float
    end: float
    sentence: bool


def sentence_ends(speech: Speech, script: Script | None = None) -> list[float]:
    """Times (s) where sentences end: words followed by . ! ? ; in the script (or ending in
    one themselves) and the ends of segments."""
    ends = [e for _, e in speech.segment_times]
    for w in speech.words:
        text = w.text.rstrip()
        if script is not None and 0 <= w.segment < len(script.segments):
            seg = script.segments[w.segment].text
            after = seg[w.char_start + len(w.text):w.char_start + len(w.text) + 3].lstrip("\"')»”")
            text += after[:1]
        if text.endswith(_FULL_STOPS):
            ends.append(w.end)
    return sorted(ends)


def pauses(speech: Speech, min_len: float = 0.1, script: Script | None = None) -> list[Pause]:
    """Silences >= ``min_len`` s between spoken phonemes, plus the silence after the last one.
    A pause is a sentence end when a sentence ends within 0.25 s of its start (see
    :func:`sentence_ends`)."""
    ends = sentence_ends(speech, script)
    ends_arr = np.array(sorted(ends)) if ends else np.zeros(0)
    out: list[Pause] = []
    last = None
    spans = []
    for ph in speech.phonemes:
        if units(ph.symbol)[0].viseme == "sil":
            continue
        if last is not None and ph.start - last >= min_len:
            spans.append((last, ph.start))
        last = ph.end if last is None else max(last, ph.end)
    if last is not None and speech.duration - last >= min_len:
        spans.append((last, speech.duration))
    for a, b in spans:
        sentence = bool(ends_arr.size and np.min(np.abs(ends_arr - a)) < 0.25)
        out.append(Pause(a, b, sentence))
    return out


# --------------------------------------------------------------------------- blinks
@dataclass(frozen=True)
class Blink:
    """One blink: onset (s), duration (s), peak closure 0..1."""

    onset: float
    duration: float
    amplitude: float


def blink_schedule(
    speech: Speech, rate: float, rng, shifts: list[tuple[float, float]] = (),
    script: Script | None = None,
) -> list[Blink]:
    """Blinks at ``rate`` per minute. Large gaze shifts in ``shifts`` [(time s, size rad)]
    bring a blink with them (70 %, at most 40 % of all blinks); the rest come from a renewal
    process (gamma intervals, >= 0.6 s apart) whose blinks move to a nearby pause: a sentence
    end almost always takes one, slower than usual and sometimes doubled. The first scheduled
    blink falls in the first 2 s."""
    if rate <= 0:
        return []
    stops = pauses(speech, script=script)
    sentence = np.array([p.start for p in stops if p.sentence])
    other = np.array([p.start for p in stops if not p.sentence])
    big = sorted((size, t) for t, size in shifts if size >= GAZE_BLINK)[::-1]
    target = rate * speech.duration / 60.0
    out: list[Blink] = []
    for _, t in big:  # gaze-evoked blinks, largest shifts first: at most 40 % of all blinks
        if len(out) < 0.4 * target and rng.random() < 0.7:
            out.append(Blink(t - 0.01, rng.uniform(0.16, 0.28), rng.uniform(0.9, 1.0)))
    mean = 60.0 / max(rate * 0.4, rate - len(out) * 60.0 / max(speech.duration, 1e-6))
    t = rng.uniform(0.4, min(mean, 2.0))
    while t < speech.duration:
        r, delay = rng.random(), rng.uniform(0.02, 0.15)
        onset, slow, double = t, 1.0, False
        if sentence.size and np.min(np.abs(sentence - t)) <= 1.2 and r < 0.9:
            onset = sentence[np.argmin(np.abs(sentence - t))] + delay
            slow, double = rng.uniform(1.1, 1.5), rng.random() < 0.2
        elif other.size and np.min(np.abs(other - t)) <= 0.8 and r < 0.7:
            onset = other[np.argmin(np.abs(other - t))] + delay
        dur = min(0.45, rng.uniform(0.16, 0.32) * slow)
        out.append(Blink(onset, dur, rng.uniform(0.92, 1.0)))
        if double:
            out.append(Blink(onset + dur + rng.uniform(0.08, 0.15), rng.uniform(0.14, 0.22),
                             rng.uniform(0.85, 1.0)))
        t += max(0.6, rng.gamma(4.0, mean / 4.0))
    kept: list[Blink] = []
    for b in sorted(out, key=lambda b: b.onset):
        if 0 <= b.onset < speech.duration and (
            not kept or b.onset - (kept[-1].onset + kept[-1].duration) >= 0.05
        ):
            kept.append(b)
    return kept


def blink_curves(blinks: list[Blink], frames: int, fps: float, rng, asymmetry: float
                 ) -> np.ndarray:
    """(T,2) eyeBlink left/right: fast close (35 % of the blink), slower open; the right eye
    starts a few ms off the left (scaled by ``asymmetry``) and closes slightly less or more;
    the frame nearest full closure always reaches the blink's peak."""
    out = np.zeros((frames, 2))
    for b in blinks:
        shift = asymmetry * rng.uniform(-0.012, 0.012)
        amp_r = b.amplitude * (1.0 - asymmetry * rng.uniform(0.0, 0.05))
        for eye, (s, a) in enumerate(((b.onset, b.amplitude), (b.onset + shift, amp_r))):
            close = 0.35 * b.duration
            i0 = max(0, math.ceil(s * fps))
            i1 = min(frames, math.floor((s + b.duration) * fps) + 1)
            u = np.arange(i0, i1) / fps - s
            env = np.where(
                u < close,
                np.sin(0.5 * np.pi * np.clip(u / close, 0, 1)) ** 2,
                np.cos(0.5 * np.pi * np.clip((u - close) / (b.duration - close), 0, 1)) ** 2,
            )
            out[i0:i1, eye] = np.maximum(out[i0:i1, eye], a * env)
            peak = round((s + close) * fps)
            if 0 <= peak < frames:
                out[peak, eye] = max(out[peak, eye], a)
    return out


# --------------------------------------------------------------------------- gaze
def _away_intervals(speech: Speech, at_camera: float, rng) -> list[tuple[float, float, bool]]:
    """(start, end, thinking) intervals when the eyes leave the camera. Most pauses >= 0.3 s
    before more speech are "thinking" look-aways (from just before the pause until the next
    phrase is under way); random glances fill the rest until the away time is about
    ``1 - at_camera`` of the clip."""
    out: list[tuple[float, float, bool]] = []
    budget = (1.0 - at_camera) * speech.duration
    for p in pauses(speech, 0.3):
        if p.end >= speech.duration - 1e-6 or rng.random() > 0.8 or budget <= 0:
            continue
        a, b = p.start - rng.uniform(0.0, 0.15), p.end + rng.uniform(0.1, 0.4)
        if not out or a > out[-1][1] + 0.3:
            out.append((a, b, True))
            budget -= b - a
    tries = 0
    longest = 1.6 + 3.0 * (1.0 - at_camera)
    while budget > 0.15 and tries < 2000:
        tries += 1
        dur = min(budget, rng.uniform(0.4, longest))
        a = rng.uniform(0.3, max(0.31, speech.duration - dur))
        if any(a < e + 0.3 and a + dur > s - 0.3 for s, e, _ in out):
            continue
        out.append((a, a + dur, False))
        budget -= dur
    return sorted(out)


def gaze(
    speech: Speech, frames: int, fps: float, rng, at_camera: float, saccades: float
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """(T,2) eye rotation and the gaze shifts [(time s, size rad)].

    Fixations on the camera carry micro-saccades (every 0.4-2 s, up to ~1.5 deg, scaled by
    ``saccades``); away intervals look to the side or down, thinking ones up and to the side.
    Saccades take 20-90 ms following the main sequence (longer for larger jumps)."""
    targets: list[tuple[float, np.ndarray]] = [(0.0, np.zeros(2))]
    t = 0.0
    for a, b, thinking in _away_intervals(speech, at_camera, rng):
        while saccades > 0 and t < a - 0.5:
            t += rng.uniform(0.4, 2.0) / max(saccades, 0.25)
            if t < a - 0.2:
                targets.append((t, np.clip(rng.normal(0, 0.012 * saccades, 2), -0.035, 0.035)))
        side = rng.choice([-1.0, 1.0])
        if thinking:
            target = np.array([-rng.uniform(0.06, 0.16), side * rng.uniform(0.1, 0.22)])
        else:
            target = np.array([rng.uniform(-0.04, 0.12), side * rng.uniform(0.1, 0.25)])
        targets.append((a, target))
        if b - a > 1.0 and saccades > 0:  # one small jump while away
            targets.append((a + rng.uniform(0.4, b - a - 0.3),
                            target + rng.normal(0, 0.03, 2)))
        targets.append((b, rng.normal(0, 0.008, 2)))
        t = b
    while saccades > 0 and t < speech.duration:
        t += rng.uniform(0.4, 2.0) / max(saccades, 0.25)
        targets.append((t, np.clip(rng.normal(0, 0.012 * saccades, 2), -0.035, 0.035)))

    jumps = np.zeros((frames + 1, 2))  # whole steps, summed up below
    partial = np.zeros((frames, 2))  # the frames inside a saccade
    current = np.zeros(2)
    shifts: list[tuple[float, float]] = []
    for start, target in targets[1:]:
        target = np.clip(target, -MAX_GAZE, MAX_GAZE)
        delta = target - current
        size = float(np.hypot(*delta))
        dur = 0.02 + 0.12 * size
        i0 = min(frames, max(0, math.ceil(start * fps)))
        i1 = min(frames, max(i0, math.ceil((start + dur) * fps)))
        s = np.clip((np.arange(i0, i1) / fps - start) / dur, 0.0, 1.0)
        partial[i0:i1] += (s * s * (3 - 2 * s))[:, None] * delta
        jumps[i1] += delta
        shifts.append((start, size))
        current = target
    out = np.cumsum(jumps, axis=0)[:frames] + partial
    return np.clip(out, -MAX_GAZE, MAX_GAZE), shifts


def look_weights(eyes: np.ndarray) -> np.ndarray:
    """(T,52) eyeLook* weights matching ``eyes`` (T,2), plus lids that follow the gaze
    (looking down lowers them a little, looking up raises them)."""
    out = np.zeros((len(eyes), len(ARKIT_52)))
    down = np.clip(eyes[:, 0] / LOOK_FULL, 0, 1)
    up = np.clip(-eyes[:, 0] / LOOK_FULL, 0, 1)
    left = np.clip(eyes[:, 1] / LOOK_FULL, 0, 1)
    right = np.clip(-eyes[:, 1] / LOOK_FULL, 0, 1)
    for name, w in (
        ("eyeLookDownLeft", down), ("eyeLookDownRight", down),
        ("eyeLookUpLeft", up), ("eyeLookUpRight", up),
        ("eyeLookOutLeft", left), ("eyeLookInRight", left),
        ("eyeLookInLeft", right), ("eyeLookOutRight", right),
        ("eyeBlinkLeft", 0.3 * down), ("eyeBlinkRight", 0.3 * down),
        ("eyeWideLeft", 0.2 * up), ("eyeWideRight", 0.2 * up),
    ):
        out[:, _A[name]] = w
    return out


# --------------------------------------------------------------------------- micro-expressions
_MICRO: tuple[tuple[dict[str, float], float], ...] = (
    # (ARKit weights at full strength, relative frequency)
    ({"browInnerUp": 0.5, "browOuterUpLeft": 0.35, "browOuterUpRight": 0.35}, 3.0),  # flash
    ({"mouthPressLeft": 0.35, "mouthPressRight": 0.35, "mouthRollLower": 0.15}, 2.0),
    ({"mouthSmileLeft": 0.3, "cheekSquintLeft": 0.15}, 1.0),  # half smile
    ({"mouthSmileRight": 0.3, "cheekSquintRight": 0.15}, 1.0),
    ({"browDownLeft": 0.3, "browDownRight": 0.3, "eyeSquintLeft": 0.2, "eyeSquintRight": 0.2},
     1.5),  # concentration
    ({"noseSneerLeft": 0.25, "noseSneerRight": 0.2, "mouthUpperUpLeft": 0.1}, 0.7),
    ({"mouthDimpleLeft": 0.3, "mouthDimpleRight": 0.25, "mouthShrugLower": 0.2}, 1.2),
    ({"eyeSquintLeft": 0.3, "eyeSquintRight": 0.3, "cheekSquintLeft": 0.1,
      "cheekSquintRight": 0.1}, 1.0),
)


def micro_expressions(duration: float, frames: int, fps: float, rng, amount: float
                      ) -> np.ndarray:
    """(T,52) brief involuntary expressions: about 6 a minute at ``amount`` 1, each 0.25-0.7 s
    with a quick rise and slower fall, at 25-60 % of its full shape (times ``amount``)."""
    out = np.zeros((frames, len(ARKIT_52)))
    if amount <= 0:
        return out
    shapes = [np.array([w.get(n, 0.0) for n in ARKIT_52]) for w, _ in _MICRO]
    p = np.array([f for _, f in _MICRO])
    times = np.arange(frames) / fps
    t = rng.uniform(1.0, 6.0)
    while t < duration:
        k = rng.choice(len(shapes), p=p / p.sum())
        dur, gain = rng.uniform(0.25, 0.7), rng.uniform(0.25, 0.6) * min(amount, 2.0)
        u = (times - t) / dur
        env = np.where(u < 0.3, np.sin(0.5 * np.pi * np.clip(u / 0.3, 0, 1)) ** 2,
                       np.cos(0.5 * np.pi * np.clip((u - 0.3) / 0.7, 0, 1)) ** 2)
        env[(u < 0) | (u > 1)] = 0.0
        out += gain * env[:, None] * shapes[k]
        t += rng.exponential(10.0 / amount) + dur
    return out


# --------------------------------------------------------------------------- breathing
def breath_curve(speech: Speech, frames: int, fps: float, rng) -> np.ndarray:
    """(T,) inhalation 0..1: a quick inhale in each pause >= 0.25 s before more speech (and
    before the first word); in silences longer than 4 s a calm 0.2-0.3 Hz cycle. The body
    stage can read the same curve for chest and shoulders."""
    out = np.zeros(frames)
    times = np.arange(frames) / fps
    spans = [(0.0, speech.phonemes[0].start if speech.phonemes else speech.duration)]
    spans += [(p.start, p.end) for p in pauses(speech, 0.25)]
    for a, b in spans:
        if b - a < 0.25:
            continue
        if b - a > 4.0 or b >= speech.duration - 1e-6:
            period = 1.0 / rng.uniform(0.2, 0.3)
            phase = rng.uniform(0, 2 * np.pi)
            m = (times >= a) & (times <= b)
            ramp = np.clip(np.minimum(times[m] - a, b - times[m]) / 0.5, 0, 1)
            out[m] = np.maximum(out[m], ramp * (0.5 + 0.5 * np.sin(
                2 * np.pi * (times[m] - a) / period + phase)))
            continue
        length = min(0.6, b - a)
        peak = b - 0.05
        u = (times - (peak - length)) / length
        env = np.where((u >= 0) & (u <= 1.0), np.sin(0.5 * np.pi * np.clip(u, 0, 1)) ** 2, 0.0)
        after = (times > peak) & (times < peak + 0.35)
        env[after] = np.cos(0.5 * np.pi * (times[after] - peak) / 0.35) ** 2
        out = np.maximum(out, env * rng.uniform(0.7, 1.0))
    return out


def breathing_face(breath: np.ndarray, amount: float) -> np.ndarray:
    """(T,52) the face of breathing: nostrils flare lightly (noseSneer up to ~0.08) and the
    lips part a little (jawOpen up to ~0.012) on inhales."""
    out = np.zeros((len(breath), len(ARKIT_52)))
    out[:, _A["noseSneerLeft"]] = 0.08 * amount * breath
    out[:, _A["noseSneerRight"]] = 0.075 * amount * breath
    out[:, _A["jawOpen"]] = 0.012 * min(amount, 1.0) * breath
    return out


# --------------------------------------------------------------------------- asymmetry
def asymmetry_gains(rng, amount: float) -> np.ndarray:
    """(52,) multiplicative gains: each Left/Right pair differs by a few percent (a face is
    never perfectly symmetric); 1 everywhere when ``amount`` is 0."""
    gains = np.ones(len(ARKIT_52))
    for name in ARKIT_52:
        if name.endswith("Left") and not name.startswith("eyeLook"):
            other = name[:-4] + "Right"
            if other in _A:
                d = amount * float(np.clip(rng.normal(0.0, 0.05), -0.12, 0.12))
                gains[_A[name]] = 1.0 + d
                gains[_A[other]] = 1.0 - d
    return gains
