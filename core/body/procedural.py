# SPDX-License-Identifier: GPL-3.0-or-later
"""Procedural co-speech body motion: the body stage's embedded, offline default backend.

The motion is the sum of layers, all in SMPL-X joint order and axis-angle:

1. **gestures** (:mod:`.gestures`, :mod:`.poses`, :mod:`.hands`): beats on the stressed
   syllables of content words; deictic (I/me/you/this/there), iconic and metaphoric gestures
   from the keyword lexicon (:mod:`.lexicon`); emblems (wave, shrug, counting, open palms,
   thinking); script cues force them (``*wave*``, ``*point left*``, ``*count 3*``);
2. **idle** (:mod:`.idle`): breathing in chest and shoulders, weight shifts with the feet
   planted, sway and posture changes; fingers always alive;
3. **head**: drift, nods on some beats, and the head emblems (nod, shake, tilt, and the head
   part of no/maybe/shrug/think); a small pulse of chest, shoulders and head on every syllable
   (:mod:`.rhythm`);
4. **safety**: arms kept out of the body and head (:mod:`.collision`), joints within their
   limits (:mod:`.limits`), and the legs solved so both feet stay exactly planted.

Style presets and the emotion of each segment shape everything (:mod:`.styles`). Hand poses are
relative to the MANO mean hand (``flat_hand_mean=False``), so zeros are a relaxed hand.
Everything random comes from one ``numpy`` Generator seeded by ``BodySettings.seed``.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..errors import InputError
from ..names import JOINT_INDEX, NUM_JOINTS
from ..rotations import axis_angle_to_matrix, compose_axis_angle
from ..settings import BodySettings
from ..types import BodyTrack, Script, Speech, frame_count
from . import collision, gestures, hands, idle, limits, poses, rhythm
from .lexicon import Request, cue_gesture, word_gesture
from .styles import Style, modulate, preset

J = JOINT_INDEX
STOP_WORDS = frozenset(
    "a an the and or but nor so yet if then than as of to in on at by for from with into onto "
    "up out off over under about is am are was were be been being do does did has have had "
    "it its it's i i'm me my we us our you your he him his she her they them their this that "
    "these those there here who whom which what will would shall should can could may might "
    "must just very".split()
)
"""English function words that never carry a beat (checked for ``en*`` languages)."""
ENGAGED = 0.25
"""Arm activity (:func:`.gestures.activity`) at which the arm's rhythm loops are at full size."""
LEAN_SMOOTH = 0.4
"""Seconds (Gaussian sigma) over which the torso's lean into the gestures is smoothed: it follows
the gesture units slowly instead of every stroke, and leaves the speech rhythm visible."""
_ARM = ("collar", "shoulder", "elbow", "wrist")
_HAND = tuple(f"{f}{k}" for f in hands.FINGERS for k in (1, 2, 3))
_SIDE_JOINTS = {s: [J[f"{s}_{n}"] for n in _ARM + _HAND] for s in gestures.SIDES}


# --------------------------------------------------------------------------- timing
def _is_function_word(text: str, language: str) -> bool:
    core = "".join(ch for ch in text.lower() if ch.isalnum() or ch == "'")
    if language.lower().startswith("en"):
        return core in STOP_WORDS or len(core) <= 1
    return len(core) <= 2


def _stress_times(speech: Speech) -> list[tuple[float, float, bool]]:
    """Per word, (time of its stressed syllable, weight 0.8..1.25, has a primary stress).

    The time is just after the onset of the word's first primary-stressed vowel (else its
    first stressed vowel, else 30% into the word); the weight grows with the vowel's length.
    """
    out = []
    phs = [p for p in speech.phonemes if p.symbol != "_"]
    starts = np.array([p.start for p in phs])
    for w in speech.words:
        lo, hi = np.searchsorted(starts, w.start - 1e-3), np.searchsorted(starts, w.end - 1e-3)
        inside = phs[lo:hi]
        primary = [p for p in inside if p.stress == 2]
        stressed = primary or [p for p in inside if p.stress == 1]
        if stressed:
            p = stressed[0]
            dur = p.end - p.start
            out.append((p.start + min(0.06, 0.4 * dur), float(np.clip(dur / 0.12, 0.8, 1.25)),
                        bool(primary)))
        else:
            out.append((w.start + min(0.3 * (w.end - w.start), 0.12), 0.8, False))
    return out


def _segment_of(script: Script, index: int):
    return script.segments[index] if 0 <= index < len(script.segments) else None


def beat_candidates(script: Script, speech: Speech) -> list[tuple[float, float]]:
    """(time, weight) of each content word's first primary-stressed vowel, in time order.

    The time is just after the vowel onset; the weight (0.8..1.25) grows with vowel length.
    Without word timings every primary-stressed vowel counts.
    """
    return [(t, w) for t, w, _ in _beat_candidates(script, speech)]


def _beat_candidates(script: Script, speech: Speech) -> list[tuple[float, float, int]]:
    if not speech.words:
        return [(p.start + min(0.06, 0.4 * (p.end - p.start)),
                 float(np.clip((p.end - p.start) / 0.12, 0.8, 1.25)), 0)
                for p in speech.phonemes if p.stress == 2 and p.symbol != "_"]
    out = []
    for w, (time, weight, has_primary) in zip(speech.words, _stress_times(speech), strict=True):
        seg = _segment_of(script, w.segment)
        if not has_primary or _is_function_word(w.text, seg.language if seg else
                                                speech.language):
            continue
        out.append((time, weight, w.segment))
    return out


def _cue_words(script: Script, speech: Speech):
    """Yield (cue, segment index, index of the word it precedes or None, fallback time)."""
    by_segment: dict[int, list[int]] = {}
    for i, w in enumerate(speech.words):
        by_segment.setdefault(w.segment, []).append(i)
    for s, seg in enumerate(script.segments):
        idx = sorted(by_segment.get(s, ()), key=lambda i: speech.words[i].char_start)
        for cue in seg.cues:
            after = [i for i in idx
                     if speech.words[i].char_start + len(speech.words[i].text) > cue.char_index]
            if after:
                yield cue, s, after[0], speech.words[after[0]].start
            elif idx:
                yield cue, s, None, speech.words[idx[-1]].end
            elif s < len(speech.segment_times):
                yield cue, s, None, speech.segment_times[s][0]
            else:
                yield cue, s, None, 0.0


def cue_times(script: Script, speech: Speech) -> list[tuple[str, float]]:
    """Map each script cue to a time in seconds: ``[(name, time), ...]`` in script order.

    A cue takes the start of the word it falls in or precedes; a cue after its segment's last
    word takes that word's end; a segment without timed words uses its start in
    ``speech.segment_times`` when known, else 0.
    """
    return [(cue.name, float(np.clip(time, 0.0, speech.duration)))
            for cue, _, _, time in _cue_words(script, speech)]


def requests(script: Script, speech: Speech, base: Style) -> tuple[list[Request], list[Style]]:
    """Gesture requests from the lexicon words and the cues, and the style for each."""
    stress = _stress_times(speech)
    out: list[Request] = []
    styles: list[Style] = []

    def style_of(seg_index: int) -> Style:
        seg = _segment_of(script, seg_index)
        return modulate(base, seg.emotion, seg.intensity) if seg else base

    for i, w in enumerate(speech.words):
        seg = _segment_of(script, w.segment)
        hit = word_gesture(w.text, seg.language if seg else speech.language)
        if hit is not None:
            out.append(Request(hit[0], stress[i][0], hit[1]))
            styles.append(style_of(w.segment))
    for cue, s, word, time in _cue_words(script, speech):
        hit = cue_gesture(cue.name, cue.args)
        if hit is not None:
            t = stress[word][0] if word is not None else time + 0.25
            out.append(Request(hit[0], float(np.clip(t, 0.0, speech.duration)), hit[1], True))
            styles.append(style_of(s))
    return out, styles


# --------------------------------------------------------------------------- head
def _bump(curve: np.ndarray, t: np.ndarray, center: float, width: float, amp: float) -> None:
    curve += amp * np.exp(-0.5 * ((t - center) / width) ** 2)


def _shake(curve: np.ndarray, t: np.ndarray, start: float, amp: float) -> None:
    """Add a head shake (yaw, ~2.4 Hz, Hann envelope over 1.1 s) in place."""
    x = np.clip((t - start) / 1.1, 0.0, 1.0)
    curve += amp * np.sin(2.0 * np.pi * 2.4 * 1.1 * x) * np.sin(np.pi * x) ** 2


def _speaking(speech: Speech, t: np.ndarray, fps: float) -> np.ndarray:
    mask = np.zeros_like(t)
    for w in speech.words:
        mask[(t >= w.start - 0.1) & (t <= w.end + 0.1)] = 1.0
    return np.clip(gaussian_filter1d(mask, max(0.25 * fps, 0.5), mode="nearest"), 0.0, 1.0)


def _add_head(p: np.ndarray, plan: list[gestures.Gesture], talk: np.ndarray, energy: float,
              scale: float, rng: np.random.Generator, t: np.ndarray) -> None:
    """Head drift, talking motion, nods on some beats and the head emblems, in place.

    Pitch (+x, chin down), yaw (+y, toward the subject's left) and roll are shared 40/60
    between the neck and the head.
    """
    pitch = 0.035 * idle.noise(rng, t, 0.05, 0.25) + 0.012 * energy * talk * idle.noise(
        rng, t, 0.4, 0.9)
    yaw = 0.06 * idle.noise(rng, t, 0.04, 0.2) + 0.015 * energy * talk * idle.noise(
        rng, t, 0.3, 0.8)
    roll = 0.025 * idle.noise(rng, t, 0.04, 0.2)
    pitch, yaw, roll = scale * pitch, scale * yaw, scale * roll
    for g in plan:
        k, tm = g.kind, g.time
        side = 1.0 if int(tm * 10.0) % 2 else -1.0
        if k == "beat":  # only beats draw: a cue leaves the rest of the motion alone
            nod, tilt = rng.random(), rng.random()
            if nod < 0.35 + 0.3 * energy:
                _bump(pitch, t, tm + 0.03, 0.1, 0.07 * min(g.amp, 1.0) * scale)
            if tilt < 0.15:
                roll += 0.04 * side * gestures.plateau(t, tm - 0.1, tm + 0.5, 0.25)
        elif k == "nod":
            _bump(pitch, t, tm + 0.05, 0.11, 0.16)
            _bump(pitch, t, tm + 0.43, 0.11, 0.08)
        elif k in ("shake", "no"):
            _shake(yaw, t, tm - 0.15, 0.13 if k == "shake" else 0.08)
        elif k in ("tilt", "maybe", "shrug"):
            roll += 0.1 * side * gestures.plateau(t, tm - 0.2, tm + 0.9, 0.3)
        elif k == "think":
            roll += 0.08 * side * gestures.plateau(t, tm - 0.2, tm + g.hold, 0.4)
            pitch -= 0.1 * gestures.plateau(t, tm - 0.2, tm + g.hold, 0.4)
        elif k in ("you", "self", "wave", "point"):
            _bump(pitch, t, tm + 0.05, 0.12, 0.06)
    head = np.stack([pitch, yaw, roll], axis=-1)
    p[:, J["neck"]] += 0.4 * head
    p[:, J["head"]] += 0.6 * head


# --------------------------------------------------------------------------- assembly
def _emblem_layers(p: np.ndarray, plan: list[gestures.Gesture], t: np.ndarray) -> None:
    """Shoulder raise of shrugs and the waving oscillation, in place."""
    r_collar = axis_angle_to_matrix(poses.STANCE_COLLAR)
    for g in plan:
        if g.kind in ("shrug", "maybe"):
            up = (0.22 if g.kind == "shrug" else 0.12) * gestures.plateau(
                t, g.time - 0.15, g.time + g.hold, 0.25)
            p[:, J["left_collar"], 2] += up
            p[:, J["right_collar"], 2] -= up
        if g.kind == "wave":
            _, _, u = poses.kind_keys("wave", (), g.height, g.spread)
            axis = r_collar.T @ u
            hit = g.time + gestures.HIT_LAG
            theta = 0.35 * np.sin(2.0 * np.pi * 2.2 * (t - hit)) * gestures.plateau(
                t, hit + 0.1, hit + g.hold - 0.1, 0.2)
            for side in g.arms:
                aa = theta[:, None] * axis * (1.0 if side == "left" else hands.MIRROR)
                sh = J[f"{side}_shoulder"]
                p[:, sh] = compose_axis_angle(aa, p[:, sh])


def _posture(script: Script, speech: Speech, base: Style, t: np.ndarray) -> np.ndarray:
    out = np.full_like(t, base.posture)
    for s, seg in enumerate(script.segments):
        times = [(w.start, w.end) for w in speech.words if w.segment == s]
        if times and (seg.emotion != "neutral"):
            delta = modulate(base, seg.emotion, seg.intensity).posture - base.posture
            out += delta * gestures.plateau(t, times[0][0], times[-1][1], 0.6)
    return out


def _engagement(plan: list[gestures.Gesture], act: dict[str, np.ndarray],
                t: np.ndarray) -> dict[str, np.ndarray]:
    """Per side, (T,) 0..1 size of the arm's rhythm loops: full while the arm is up in gesture
    space, none at rest or while a hand rests on the chin (``think``)."""
    out = {s: np.clip(act[s] / ENGAGED, 0.0, 1.0) for s in gestures.SIDES}
    for g in plan:
        if g.kind == "think":
            for side in g.arms:
                out[side] = out[side] * (1.0 - gestures.plateau(t, g.time - 0.3,
                                                                g.time + g.hold, 0.3))
    return out


def plan_gestures(script: Script, speech: Speech, settings: BodySettings,
                  rng: np.random.Generator | None = None) -> list[gestures.Gesture]:
    """The gestures :func:`animate` plays (it passes its own generator; the plan comes first,
    so ``default_rng(settings.seed)`` gives the same plan)."""
    rng = np.random.default_rng(settings.seed) if rng is None else rng
    base = preset(settings.style)
    reqs, req_styles = requests(script, speech, base)
    beats = [(tm, w, modulate(base, seg.emotion, seg.intensity) if seg else base)
             for tm, w, s in _beat_candidates(script, speech)
             for seg in (_segment_of(script, s),)]
    return gestures.plan(reqs, beats, req_styles, float(settings.energy), settings.gesture_rate,
                         settings.amplitude, settings.handedness, rng)


def animate(script: Script, speech: Speech, fps: float, settings: BodySettings) -> BodyTrack:
    """Procedural co-speech SMPL-X motion for ``speech`` at ``fps``.

    Returns a :class:`BodyTrack` with ``poses`` (T,55,3) axis-angle, ``trans`` (T,3) metres
    and ``betas`` zeros(10), where ``T = frame_count(speech.duration, fps)``. The same inputs
    and ``settings.seed`` give identical output; ``settings.energy`` 0 keeps to idle motion
    (cues still play), 1 gestures often and wide.
    """
    fps = float(fps)
    if not (np.isfinite(fps) and 1.0 <= fps <= 240.0):
        raise InputError(f"fps must be in 1..240, got {fps}")
    n = frame_count(speech.duration, fps)
    t = np.arange(n) / fps
    rng = np.random.default_rng(settings.seed)
    energy = float(settings.energy)
    base = preset(settings.style)
    p = np.zeros((n, NUM_JOINTS, 3))
    trans = np.zeros((n, 3))

    plan = plan_gestures(script, speech, settings, rng)
    arms = gestures.arm_tracks(plan, t)
    for side in gestures.SIDES:
        p[:, _SIDE_JOINTS[side]] = arms[side]
    idle.add_idle(p, trans, rng, t, _posture(script, speech, base, t))
    # activity is measured in the left frame (the right track is the mirror image)
    act = {s: gestures.activity(arms[s] if s == "left" else poses.mirror(arms[s]))
           for s in gestures.SIDES}
    for side in gestures.SIDES:  # living fingers, calmer while the hand holds a shape
        life = hands.finger_life(np.stack([idle.noise(rng, t, 0.06, 0.25, 2)
                                           for _ in hands.FINGERS], 1))
        life = life if side == "left" else hands.mirror(life)
        p[:, _SIDE_JOINTS[side][4:]] += life * (1.0 - 0.7 * np.clip(act[side], 0, 1))[:, None,
                                                                                       None]
    lean = {s: gaussian_filter1d(act[s], LEAN_SMOOTH * fps, mode="nearest", truncate=2.5)
            for s in act}
    p[:, J["spine2"], 0] += 0.04 * np.maximum(lean["left"], lean["right"])
    p[:, J["spine3"], 1] += 0.05 * (lean["left"] - lean["right"])
    talk = _speaking(speech, t, fps)
    _add_head(p, plan, talk, energy, base.head, rng, t)
    _emblem_layers(p, plan, t)
    rhythm.add_rhythm(p, trans, speech, t, talk, (0.4 + 0.8 * energy) * base.head,
                      _engagement(plan, act, t))
    p = collision.resolve(p, trans, fps)
    p = limits.clamp(p)
    idle.plant_legs(p, trans)
    return BodyTrack(fps=fps, poses=p, trans=trans, betas=np.zeros(10, np.float32))
