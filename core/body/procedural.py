# SPDX-License-Identifier: GPL-3.0-or-later
"""Procedural co-speech body motion: the body stage's embedded, offline default backend.

The motion is the sum of layers, all in SMPL-X joint order and axis-angle:

1. **stance**: the arms lowered from the SMPL-X T-pose to hang beside the thighs (about 70 deg
   below horizontal, elbows slightly bent, palms toward the thighs);
2. **idle**: breathing (~0.25 Hz) in the chest, collars and shoulders, a slow weight shift with
   the feet kept planted, slow head drift and living fingers;
3. **beats**: co-speech beat gestures whose strokes land on primary-stressed vowels of content
   words: preparation (raise into gesture space), stroke (a quick down-beat with a wrist flick),
   a short hold and a retraction, or a blend into the next beat when it follows soon;
4. **head**: small nods and tilts on some stressed syllables, and the script's cues whose name
   contains ``nod``, ``shake`` or ``tilt`` (``*nod*``, ``*shakes head*``); other cues are
   ignored here.

Hand poses are relative to the MANO mean hand (``flat_hand_mean=False``), so zeros are a relaxed
hand. Everything random comes from one ``numpy`` Generator seeded by ``BodySettings.seed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.ndimage import gaussian_filter1d

from ..errors import InputError
from ..names import JOINT_INDEX, NUM_JOINTS
from ..rotations import axis_angle_to_matrix, compose_axis_angle, rotation_between
from ..settings import BodySettings
from ..types import BodyTrack, Script, Speech, frame_count
from .skeleton import REST_JOINTS

STOP_WORDS = frozenset(
    "a an the and or but nor so yet if then than as of to in on at by for from with into onto "
    "up out off over under about is am are was were be been being do does did has have had "
    "it its it's i i'm me my we us our you your he him his she her they them their this that "
    "these those there here who whom which what will would shall should can could may might "
    "must just very".split()
)
"""English function words that never carry a beat (checked for ``en*`` languages)."""

SIDES = ("left", "right")
_MIRROR = np.array([1.0, -1.0, -1.0])
"""Axis-angle of a left joint -> its right twin (mirror in the x = 0 plane)."""
_FINGERS = ("index", "middle", "pinky", "ring", "thumb")

# Beat timing (seconds, relative to the stressed vowel) and shape.
_TOP_LEAD = 0.16     # top of the preparation, just before the syllable
_HIT_LAG = 0.04      # end of the stroke
_HOLD = 0.16         # post-stroke hold
_PREP = 0.45         # preparation from rest to the top
_RETRACT = 0.6       # hold -> rest
_REPREP = 0.22       # shortest preparation from one hold into the next top
_BLEND_GAP = 0.25    # rest shorter than this between beats of one arm: stay up instead
_HIT_LEVEL = 0.55    # lift at the end of the stroke, as a fraction of the top
_HOLD_LEVEL = 0.5


@dataclass(frozen=True)
class _Beat:
    """One planned beat gesture: stroke on ``time`` (s), ``amp`` 0..1, with ``arms``."""

    time: float
    amp: float
    arms: tuple[str, ...]


# --------------------------------------------------------------------------- timing
def cue_times(script: Script, speech: Speech) -> list[tuple[str, float]]:
    """Map each script cue to a time in seconds: ``[(name, time), ...]`` in script order.

    A cue at ``char_index`` in segment ``i`` takes the start of the word of that segment it
    falls in or precedes (via ``Word.segment`` / ``Word.char_start``); a cue after the
    segment's last word takes that word's end. A segment without timed words uses its start in
    ``speech.segment_times`` when known, else 0.
    """
    by_segment: dict[int, list] = {}
    for w in speech.words:
        by_segment.setdefault(w.segment, []).append(w)
    out = []
    for i, seg in enumerate(script.segments):
        words = sorted(by_segment.get(i, ()), key=lambda w: w.char_start)
        for cue in seg.cues:
            after = [w for w in words if w.char_start + len(w.text) > cue.char_index]
            if after:
                time = after[0].start
            elif words:
                time = words[-1].end
            elif i < len(speech.segment_times):
                time = speech.segment_times[i][0]
            else:
                time = 0.0
            out.append((cue.name, float(np.clip(time, 0.0, speech.duration))))
    return out


def _is_function_word(text: str, language: str) -> bool:
    core = "".join(ch for ch in text.lower() if ch.isalnum() or ch == "'")
    if language.lower().startswith("en"):
        return core in STOP_WORDS or len(core) <= 1
    return len(core) <= 2


def beat_candidates(script: Script, speech: Speech) -> list[tuple[float, float]]:
    """(time, weight) of each content word's first primary-stressed vowel, in time order.

    The time is just after the vowel onset; the weight (0.8..1.25) grows with vowel length.
    Without word timings every primary-stressed vowel counts.
    """
    words = speech.words
    starts = np.array([w.start for w in words])
    out: list[tuple[float, float]] = []
    used: set[int] = set()
    for ph in speech.phonemes:
        if ph.stress != 2 or ph.symbol == "_":
            continue
        if words:
            mid = 0.5 * (ph.start + ph.end)
            i = int(np.searchsorted(starts, mid, side="right")) - 1
            if i < 0 or mid > words[i].end + 0.02 or i in used:
                continue
            w = words[i]
            seg = script.segments[w.segment] if 0 <= w.segment < len(script.segments) else None
            if _is_function_word(w.text, seg.language if seg else speech.language):
                continue
            used.add(i)
        dur = ph.end - ph.start
        out.append((ph.start + min(0.06, 0.4 * dur), float(np.clip(dur / 0.12, 0.8, 1.25))))
    return out


def _plan_beats(cands: list[tuple[float, float]], energy: float,
                rng: np.random.Generator) -> list[_Beat]:
    """Choose which candidates get a beat, with which arm(s) and how big; none at energy 0."""
    if energy <= 0.0:
        return []
    min_gap = 1.2 - 0.7 * energy
    p_take = 0.3 + 0.6 * energy
    scale = 0.45 + 0.55 * energy
    dominant = "right" if rng.random() < 0.7 else "left"
    other = "left" if dominant == "right" else "right"
    modes = [(dominant,), (other,), ("left", "right")]
    beats: list[_Beat] = []
    for time, weight in cands:
        take, keep, pick, jitter = rng.random(), rng.random(), rng.random(), rng.uniform(0.8, 1.1)
        last = beats[-1] if beats else None
        if (last is not None and time - last.time < min_gap) or take >= p_take:
            continue
        if last is not None and time - last.time < 1.5 and keep < 0.7:
            arms = last.arms
        else:
            both = 0.1 + 0.25 * energy  # lively speakers use both hands more often
            arms = modes[2] if pick < both else modes[0] if pick < 0.6 + 0.4 * both else modes[1]
        beats.append(_Beat(time, min(1.0, scale * weight * jitter), arms))
    return beats


# --------------------------------------------------------------------------- curves
def _noise(rng: np.random.Generator, t: np.ndarray, f_lo: float, f_hi: float,
           n: int = 3) -> np.ndarray:
    """(T,) smooth seeded noise in [-1, 1]: ``n`` sinusoids of frequency ``f_lo..f_hi`` Hz."""
    f = rng.uniform(f_lo, f_hi, n)
    phase = rng.uniform(0.0, 2.0 * np.pi, n)
    w = rng.uniform(0.5, 1.0, n)
    w /= w.sum()
    return np.sum(w[:, None] * np.sin(2.0 * np.pi * f[:, None] * t[None, :] + phase[:, None]), 0)


def _keys_curve(keys: list[tuple[float, float]], t: np.ndarray) -> np.ndarray:
    """(T,) shape-preserving (PCHIP, no overshoot) curve through (time, value) keys.

    The curve eases in and out of its first and last keys (flat padding keys) and is constant
    outside them; keys closer than 20 ms to the previous one are dropped.
    """
    if not keys:
        return np.zeros_like(t)
    times, values = [keys[0][0] - 1.0, keys[0][0]], [keys[0][1], keys[0][1]]
    for kt, kv in keys[1:]:
        if kt > times[-1] + 0.02:
            times.append(kt)
            values.append(kv)
    times.append(times[-1] + 1.0)
    values.append(values[-1])
    return PchipInterpolator(times, values)(np.clip(t, times[0], times[-1]))


def _arm_curves(beats: list[_Beat], side: str, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``lift`` (T,) 0 = rest .. ~1 = top of the preparation, and ``flick`` (T,) wrist radians.

    Consecutive beats whose retraction would be cut short stay in gesture space
    (co-articulation): the arm goes from one hold straight into the next preparation.
    """
    mine = [b for b in beats if side in b.arms]
    lift: list[tuple[float, float]] = []
    flick: list[tuple[float, float]] = []
    for i, b in enumerate(mine):
        top, hit = b.time - _TOP_LEAD, b.time + _HIT_LAG
        hold_end = hit + _HOLD
        if i + 1 < len(mine):  # leave the next preparation at least _REPREP seconds
            hold_end = min(hold_end, mine[i + 1].time - _TOP_LEAD - _REPREP)
        if not lift or top - _PREP - (lift[-1][0] + _RETRACT) > _BLEND_GAP:
            if lift:
                lift.append((lift[-1][0] + _RETRACT, 0.0))
                flick.append((flick[-1][0] + _RETRACT, 0.0))
            lift.append((top - _PREP, 0.0))
            flick.append((top - _PREP, 0.0))
        lift += [(top, b.amp), (hit, _HIT_LEVEL * b.amp)]
        flick += [(top, -0.12 * b.amp), (hit, 0.3 * b.amp)]
        if hold_end > hit + 0.05:
            lift.append((hold_end, _HOLD_LEVEL * b.amp))
            flick.append((hold_end, 0.12 * b.amp))
    if lift:
        lift.append((lift[-1][0] + _RETRACT, 0.0))
        flick.append((flick[-1][0] + _RETRACT, 0.0))
    return _keys_curve(lift, t), _keys_curve(flick, t)


def _span(t: np.ndarray, lo: float, hi: float) -> slice:
    return slice(int(np.searchsorted(t, lo)), int(np.searchsorted(t, hi, side="right")))


def _add_bump(curve: np.ndarray, t: np.ndarray, center: float, width: float,
              amp: float) -> None:
    """Add ``amp * exp(-((t - center) / width)^2 / 2)`` to ``curve`` in place (local window)."""
    s = _span(t, center - 4 * width, center + 4 * width)
    curve[s] += amp * np.exp(-0.5 * ((t[s] - center) / width) ** 2)


def _add_plateau(curve: np.ndarray, t: np.ndarray, start: float, end: float, ramp: float,
                 amp: float) -> None:
    """Add a smoothstep-edged plateau of height ``amp`` over ``[start, end]`` in place."""
    s = _span(t, start - ramp, end + ramp)
    x = t[s]
    up = np.clip((x - start + ramp) / ramp, 0.0, 1.0)
    down = np.clip((end + ramp - x) / ramp, 0.0, 1.0)
    e = np.minimum(up, down)
    curve[s] += amp * e * e * (3.0 - 2.0 * e)


def _add_shake(curve: np.ndarray, t: np.ndarray, start: float, amp: float) -> None:
    """Add a head shake (yaw, ~2.4 Hz, Hann envelope over 1.1 s) to ``curve`` in place."""
    s = _span(t, start, start + 1.1)
    x = (t[s] - start) / 1.1
    curve[s] += amp * np.sin(2.0 * np.pi * 2.4 * 1.1 * x) * np.sin(np.pi * x) ** 2


def _speaking(speech: Speech, t: np.ndarray, fps: float) -> np.ndarray:
    """(T,) 0..1 smooth speech activity from the word timings."""
    mask = np.zeros_like(t)
    for w in speech.words:
        mask[_span(t, w.start - 0.1, w.end + 0.1)] = 1.0
    return np.clip(gaussian_filter1d(mask, max(0.25 * fps, 0.5), mode="nearest"), 0.0, 1.0)


# --------------------------------------------------------------------------- pose
def _stance() -> np.ndarray:
    """(55,3) relaxed standing pose: arms down beside the thighs, palms in, elbows soft."""
    pose = np.zeros((NUM_JOINTS, 3))
    left = {
        "collar": np.array([0.0, 0.0, -0.15]),
        # lowered ~69 deg, a little forward, then turned in about the upper arm's own axis
        "shoulder": compose_axis_angle(
            compose_axis_angle([-0.12, 0.0, 0.0], [0.0, 0.0, -1.2]), [0.3, 0.0, 0.0]
        ),
        "elbow": np.array([0.0, -0.35, 0.0]),
        "wrist": np.array([0.0, 0.05, -0.1]),
    }
    for side in SIDES:
        m = 1.0 if side == "left" else _MIRROR
        for joint, aa in left.items():
            pose[JOINT_INDEX[f"{side}_{joint}"]] = aa * m
    return pose


def _plant_legs(poses: np.ndarray, trans: np.ndarray) -> None:
    """Set hips and ankles in place so the ankles stay at rest and the feet stay flat.

    Each leg (straight, knees at zero) is turned by the smallest rotation that points the
    hip-to-ankle vector from the moved hip joint to the rest ankle; the ankle undoes it.
    """
    pelvis = poses[:, 0]
    r_pelvis = axis_angle_to_matrix(pelvis)
    root = REST_JOINTS[0] + trans
    for side in SIDES:
        hip, ankle = JOINT_INDEX[f"{side}_hip"], JOINT_INDEX[f"{side}_ankle"]
        hip_pos = root + r_pelvis @ (REST_JOINTS[hip] - REST_JOINTS[0])
        leg = rotation_between(REST_JOINTS[ankle] - REST_JOINTS[hip], REST_JOINTS[ankle] - hip_pos)
        poses[:, hip] = compose_axis_angle(-pelvis, leg)
        poses[:, ankle] = -leg


def _add_idle(poses: np.ndarray, trans: np.ndarray, rng: np.random.Generator,
              t: np.ndarray) -> np.ndarray:
    """Breathing, weight shift and torso drift, in place; returns the (T,) breath phase -1..1."""
    breath = np.sin(2.0 * np.pi * rng.uniform(0.22, 0.28) * t + rng.uniform(0.0, 2.0 * np.pi))
    sway, turn = _noise(rng, t, 0.04, 0.12), _noise(rng, t, 0.03, 0.1)
    trans[:, 0] = 0.005 * sway  # the legs are re-planted afterwards
    poses[:, 0] += np.stack([0.006 * turn, 0.02 * turn, 0.012 * sway], axis=-1)
    poses[:, JOINT_INDEX["spine1"], 1] -= 0.012 * turn
    poses[:, JOINT_INDEX["spine1"], 2] -= 0.009 * sway
    poses[:, JOINT_INDEX["spine2"], 0] -= 0.005 * breath
    poses[:, JOINT_INDEX["spine3"], 0] -= 0.01 * breath
    poses[:, JOINT_INDEX["neck"], 0] += 0.012 * breath
    return breath


def _add_arms(poses: np.ndarray, beats: list[_Beat], breath: np.ndarray,
              rng: np.random.Generator, t: np.ndarray) -> None:
    """Beat gestures, breathing in the shoulders and living fingers, in place.

    A gesture's lift raises the upper arm forward and a little out, turns it in and bends the
    elbow, bringing the hand up in front of the waist; the flick bends the wrist on the stroke.
    The torso leans into gestures and turns a little toward the gesturing hand.
    """
    arms = {side: _arm_curves(beats, side, t) for side in SIDES}
    poses[:, JOINT_INDEX["spine2"], 0] += 0.04 * np.maximum(arms["left"][0], arms["right"][0])
    poses[:, JOINT_INDEX["spine3"], 1] += 0.05 * (arms["left"][0] - arms["right"][0])
    z = np.zeros_like(t)
    for side in SIDES:
        lift, flick = arms[side]
        m = 1.0 if side == "left" else _MIRROR
        for joint, aa in (("collar", np.stack([z, z, 0.015 * breath], -1)),
                          ("elbow", np.stack([z, -1.0 * lift, z], -1)),
                          ("wrist", np.stack([z, 0.4 * flick, -flick], -1))):
            poses[:, JOINT_INDEX[f"{side}_{joint}"]] += aa * m
        gesture = np.stack([-0.32 * lift, -0.16 * lift, 0.1 * lift - 0.012 * breath], -1)
        sh = JOINT_INDEX[f"{side}_shoulder"]
        poses[:, sh] = compose_axis_angle(gesture * m, poses[:, sh])
        # fingers: slow seeded life around the mean hand, opening a little in gestures
        for finger in _FINGERS:
            curl = 0.09 * _noise(rng, t, 0.06, 0.25, 2) + 0.03 - 0.22 * lift
            axis = np.array([0.7, 0.0, -0.7]) if finger == "thumb" else np.array([0.0, 0.0, -1.0])
            for k, share in enumerate((1.0, 0.8, 0.6), start=1):
                poses[:, JOINT_INDEX[f"{side}_{finger}{k}"]] += (share * curl)[:, None] * axis * m


def _add_head(poses: np.ndarray, beats: list[_Beat], cues: list[tuple[str, float]],
              talk: np.ndarray, energy: float, rng: np.random.Generator, t: np.ndarray) -> None:
    """Head drift, talking motion, nods/tilts on some beats and cue gestures, in place.

    Pitch (+x, chin down), yaw (+y, toward the subject's left) and roll are shared 40/60
    between the neck and the head.
    """
    pitch = 0.035 * _noise(rng, t, 0.05, 0.25) + 0.012 * energy * talk * _noise(rng, t, 0.4, 0.9)
    yaw = 0.06 * _noise(rng, t, 0.04, 0.2) + 0.015 * energy * talk * _noise(rng, t, 0.3, 0.8)
    roll = 0.025 * _noise(rng, t, 0.04, 0.2)
    for b in beats:
        nod, tilt, side = rng.random(), rng.random(), rng.choice((-1.0, 1.0))
        if nod < 0.35 + 0.3 * energy:
            _add_bump(pitch, t, b.time + 0.03, 0.1, 0.07 * b.amp)
        if tilt < 0.15:
            _add_plateau(roll, t, b.time - 0.1, b.time + 0.5, 0.25, 0.04 * side)
    for name, time in cues:
        if "nod" in name:
            _add_bump(pitch, t, time + 0.12, 0.11, 0.16)
            _add_bump(pitch, t, time + 0.5, 0.11, 0.08)
        elif "shake" in name:
            _add_shake(yaw, t, time, 0.13)
        elif "tilt" in name:
            _add_plateau(roll, t, time, time + 1.2, 0.3, 0.12 * rng.choice((-1.0, 1.0)))
    head = np.stack([pitch, yaw, roll], axis=-1)
    poses[:, JOINT_INDEX["neck"]] += 0.4 * head
    poses[:, JOINT_INDEX["head"]] += 0.6 * head


def animate(script: Script, speech: Speech, fps: float, settings: BodySettings) -> BodyTrack:
    """Procedural co-speech SMPL-X motion for ``speech`` at ``fps``.

    Returns a :class:`BodyTrack` with ``poses`` (T,55,3) axis-angle, ``trans`` (T,3) and
    ``betas`` zeros(10), where ``T = frame_count(speech.duration, fps)``. The same inputs and
    ``settings.seed`` give identical output; ``settings.energy`` 0 keeps to idle motion (cues
    still play), 1 gestures often and wide.
    """
    fps = float(fps)
    if not (np.isfinite(fps) and 1.0 <= fps <= 240.0):
        raise InputError(f"fps must be in 1..240, got {fps}")
    n = frame_count(speech.duration, fps)
    t = np.arange(n) / fps
    rng = np.random.default_rng(settings.seed)
    energy = float(settings.energy)
    poses = np.tile(_stance(), (n, 1, 1))
    trans = np.zeros((n, 3))
    breath = _add_idle(poses, trans, rng, t)
    beats = _plan_beats(beat_candidates(script, speech), energy, rng)
    _add_arms(poses, beats, breath, rng, t)
    _add_head(poses, beats, cue_times(script, speech), _speaking(speech, t, fps), energy, rng, t)
    _plant_legs(poses, trans)
    return BodyTrack(fps=fps, poses=poses, trans=trans, betas=np.zeros(10, np.float32))
