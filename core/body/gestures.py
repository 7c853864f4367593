# SPDX-License-Identifier: GPL-3.0-or-later
"""Gesture planning and phases: which gestures play, on which arm, and their arm curves.

Each gesture has a **preparation** (from rest or from the previous gesture into the top pose),
a **stroke** (top -> end pose, landing on the word's stressed syllable: the stroke spans
``time - 0.16 s .. time + 0.04 s``), a **hold** and a **retraction** to rest. When the next
gesture on the same arm starts before the retraction would finish, the arm goes straight from
the hold into the next preparation (co-articulation) instead of returning to rest.

Gestures less than :data:`UNIT_GAP` apart form one **gesture unit** (Kendon): between them the
arm makes a partial retraction to its **home** pose (hand in front of the belly, forearm about
level) and waits there instead of dropping to rest. While one arm gestures, the other, if free,
comes up to its home pose too and keeps it company; the hands go back to rest only at the end
of a unit.

Priorities: script cues (forced; they play even at energy 0) > lexicon words (deictic,
iconic, metaphoric, emblems; see :mod:`.lexicon`) > beats on stressed content words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator

from .lexicon import HEAD_KINDS, Request
from .poses import REST_KEY, home_key, kind_keys, mirror
from .styles import Style

SIDES = ("left", "right")
TOP_LEAD = 0.16
"""Seconds from the top of the preparation to the stressed syllable."""
HIT_LAG = 0.04
"""Seconds from the stressed syllable to the end of the stroke."""
PREP, RETRACT, REPREP, BLEND_GAP = 0.55, 0.7, 0.25, 0.25
HOME_RETRACT = 0.42
"""Seconds of a partial retraction, from the hold to the home pose."""
UNIT_GAP = 3.5
"""Seconds an arm may wait for its next gesture in gesture space (at its home pose) instead of
going back to rest: the gestures between two rests form one gesture unit."""
HOLD = {"beat": 0.16, "point": 0.45, "self": 0.35, "you": 0.4, "wave": 1.3, "count": 0.8,
        "think": 1.2, "shrug": 0.45, "maybe": 0.45}
"""Hold after the stroke per kind (s); others 0.3."""
TWO_HANDED = frozenset({"big", "small", "many", "together", "maybe", "shrug", "open"})


@dataclass(frozen=True)
class Gesture:
    """A planned gesture: stroke on ``time`` (s), size ``amp`` 0..~1.3, played by ``arms``."""

    kind: str
    time: float
    arms: tuple[str, ...]
    amp: float = 1.0
    args: tuple[str, ...] = ()
    hold: float = 0.3
    speed: float = 1.0
    height: float = 0.0
    spread: float = 0.0
    forced: bool = False

    @property
    def start(self) -> float:
        """Start of the preparation (s)."""
        return self.time - TOP_LEAD - PREP * self.speed

    @property
    def end(self) -> float:
        """End of the hold (s)."""
        return self.time + HIT_LAG + self.hold


def _arms_for(kind: str, args: tuple[str, ...], dominant: str, both: bool) -> tuple[str, ...]:
    if kind in HEAD_KINDS:
        return ()
    if kind == "point" and args and args[0] in SIDES:
        return (args[0],)
    if kind in TWO_HANDED or both:
        return SIDES
    return (dominant,)


def _free(planned: list[Gesture], arms: tuple[str, ...], lo: float, hi: float) -> bool:
    return not any(set(arms) & set(g.arms) and g.start < hi and lo < g.end + 0.1
                   for g in planned)


def plan(requests: list[Request], beats: list[tuple[float, float, Style]],
         styles: list[Style], energy: float, rate: float, amplitude: float, handedness: str,
         rng: np.random.Generator) -> list[Gesture]:
    """Choose the gestures that play, sorted by time.

    requests: lexicon words and cues; ``styles[i]`` is the style in force for ``requests[i]``.
    beats: ``(time, weight, style)`` of stressed content words.
    energy 0..1, rate and amplitude multipliers and handedness come from the settings.
    """
    planned: list[Gesture] = []
    dominant = "left" if handedness == "left" else "right"
    other = "left" if dominant == "right" else "right"
    order = sorted(range(len(requests)), key=lambda i: (not requests[i].forced,
                                                        requests[i].time))
    for i in order:
        r, st = requests[i], styles[i]
        if not r.forced:  # cues draw nothing: adding one leaves the rest of the plan alone
            p = np.clip((0.5 + 0.6 * energy) * st.rate * rate, 0.0, 1.0)
            if rng.random() >= p or energy <= 0.0:
                continue
        both = handedness == "both" and r.kind not in HEAD_KINDS and r.kind != "point"
        arms = _arms_for(r.kind, r.args, dominant, both)
        hold = HOLD.get(r.kind, 0.3) * (1.0 if r.forced else 0.8 + 0.4 * energy)
        g = Gesture(r.kind, r.time, arms, (1.0 if r.forced else 0.75 + 0.35 * energy)
                    * st.amplitude * amplitude, r.args, hold, st.speed, st.height, st.spread,
                    r.forced)
        if r.forced or not arms or _free(planned, arms, g.start, g.end):
            planned.append(g)
    if energy > 0.0:
        planned += _plan_beats(planned, beats, energy, rate, amplitude, dominant, other,
                               handedness, rng)
    return sorted(planned, key=lambda g: g.time)


def _plan_beats(planned, beats, energy, rate, amplitude, dominant, other, handedness, rng):
    min_gap = 1.2 - 0.7 * energy
    out: list[Gesture] = []
    for time, weight, st in beats:
        take, keep, pick, jitter = rng.random(), rng.random(), rng.random(), rng.uniform(0.8, 1.1)
        last = out[-1] if out else None
        p_take = min(1.0, (0.3 + 0.6 * energy) * st.rate * rate)
        if (last is not None and time - last.time < min_gap / max(st.rate * rate, 0.3)) \
                or take >= p_take:
            continue
        if handedness == "both":
            arms = SIDES
        elif last is not None and time - last.time < 1.5 and keep < (
                0.7 if dominant in last.arms else 0.25):  # runs of beats keep their hand
            arms = last.arms
        else:
            both = 0.1 + 0.25 * energy + st.both_hands
            arms = SIDES if pick < both else (dominant,) if pick < 0.8 + 0.2 * both else (other,)
        amp = min(1.3, (0.45 + 0.55 * energy) * weight * jitter * st.amplitude * amplitude)
        g = Gesture("beat", time, arms, amp, (), HOLD["beat"], st.speed, st.height, st.spread)
        if not _free(planned, arms, g.start, g.end):
            free = [s for s in arms if _free(planned, (s,), g.start, g.end)]
            if not free:
                continue
            g = Gesture("beat", time, tuple(free), amp, (), g.hold, g.speed, g.height, g.spread)
        out.append(g)
    return out


# --------------------------------------------------------------------------- curves
def _keys(gestures: list[Gesture], side: str) -> list[tuple[float, np.ndarray]]:
    """(time, (19,3) LEFT-frame key) of one arm: its gestures, co-articulated or joined into
    gesture units through the home pose, and the home pose while the other arm gestures."""
    mine = [g for g in gestures if side in g.arms]
    # while the other arm gestures, a free arm comes up to its home pose and keeps it company
    mine += [Gesture("home", g.time, (side,), 1.0, (), g.hold, g.speed, g.height, g.spread)
             for g in gestures if g.arms and side not in g.arms
             and _free(mine, (side,), g.start, g.end)]
    mine.sort(key=lambda g: g.time)
    keys: list[tuple[float, np.ndarray]] = []
    rest_until = -np.inf  # the time the last retraction would reach rest
    home, home_at = REST_KEY, -np.inf  # where and when the last retraction would reach home
    for i, g in enumerate(mine):
        extra = 0.25 * max(g.amp - 1.0, 0.0)  # bigger than the pose: higher and wider
        top_k, hit_k, _ = kind_keys(g.kind, g.args, g.height + extra, g.spread + extra)
        scale = min(g.amp, 1.0)
        top_k = REST_KEY + scale * (top_k - REST_KEY)
        hit_k = REST_KEY + scale * (hit_k - REST_KEY)
        top_t, hit_t = g.time - TOP_LEAD, g.time + HIT_LAG
        prep_start = top_t - PREP * g.speed
        if keys and BLEND_GAP < prep_start - rest_until <= UNIT_GAP:
            # same gesture unit: retract to the home pose and wait there, not at rest
            keys[-1] = (home_at, home)
            keys.append((prep_start, home))
        elif keys and prep_start - rest_until <= BLEND_GAP:
            # co-articulate: drop the retraction, leave the hold early enough to prepare
            keys.pop()
            t_hold, k_hold = keys[-1]
            latest = top_t - REPREP * g.speed
            if t_hold > latest:
                keys[-1] = (max(latest, keys[-2][0] + 0.05 if len(keys) > 1 else latest), k_hold)
        else:
            keys.append((prep_start, REST_KEY))
        keys += [(top_t, top_k), (hit_t, hit_k)]
        hold_end = hit_t + g.hold
        if i + 1 < len(mine):
            hold_end = min(hold_end, mine[i + 1].time - TOP_LEAD - REPREP * mine[i + 1].speed)
        if hold_end > hit_t + 0.05:
            keys.append((hold_end, REST_KEY + 0.9 * (hit_k - REST_KEY)))
        rest_until = keys[-1][0] + RETRACT * g.speed
        home, home_at = home_key(g.height, g.spread), keys[-1][0] + HOME_RETRACT * g.speed
        keys.append((rest_until, REST_KEY))
    return keys


def curve(keys: list[tuple[float, np.ndarray]], t: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """(T, *rest.shape) shape-preserving (PCHIP, no overshoot) curve through the keys.

    Eases in and out of the first and last keys; keys closer than 20 ms to the previous one
    are dropped; constant ``rest`` without keys.
    """
    if not keys:
        return np.broadcast_to(rest, t.shape + rest.shape).copy()
    times, values = [keys[0][0] - 1.0, keys[0][0]], [keys[0][1], keys[0][1]]
    for kt, kv in keys[1:]:
        if kt > times[-1] + 0.02:
            times.append(kt)
            values.append(kv)
    times.append(times[-1] + 1.0)
    values.append(values[-1])
    f = PchipInterpolator(np.array(times), np.stack(values), axis=0)
    return f(np.clip(t, times[0], times[-1]))


def arm_tracks(gestures: list[Gesture], t: np.ndarray) -> dict[str, np.ndarray]:
    """Per side, (T,19,3) local axis-angles of collar, shoulder, elbow, wrist and fingers."""
    out = {}
    for side in SIDES:
        c = curve(_keys(gestures, side), t, REST_KEY)
        out[side] = c if side == "left" else mirror(c)
    return out


def activity(track: np.ndarray) -> np.ndarray:
    """(T,) 0..~1 how far an arm track is from rest (used to lean the torso into gestures)."""
    d = np.linalg.norm(track[:, 1:4] - REST_KEY[1:4], axis=(1, 2))
    return np.clip(d / 1.2, 0.0, 1.5)


def plateau(t: np.ndarray, start: float, end: float, ramp: float) -> np.ndarray:
    """(T,) smoothstep-edged 0..1 plateau over ``[start, end]``."""
    up = np.clip((t - start + ramp) / ramp, 0.0, 1.0)
    down = np.clip((end + ramp - t) / ramp, 0.0, 1.0)
    e = np.minimum(up, down)
    return e * e * (3.0 - 2.0 * e)
