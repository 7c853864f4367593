# SPDX-License-Identifier: GPL-3.0-or-later
"""Style presets and emotion modulation of the procedural body.

A :class:`Style` is a handful of multipliers and offsets that shape every gesture: how many
stressed words get one (``rate``), how big they are (``amplitude``), how high and wide they sit
(``height``, ``spread``), how fast their phases run (``speed``: < 1 is sharper), how often both
hands join in, the chest posture and how much the head moves. Presets give the starting point;
:func:`modulate` bends it by the emotion of the segment being spoken: happy is open and high,
sad is low, small and slow, angry is sharp and emphatic.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Style:
    """Gesture shaping; 1.0 / 0.0 are neutral values."""

    rate: float = 1.0
    """Multiplier on the probability that a stressed content word gets a beat."""
    amplitude: float = 1.0
    """Multiplier on gesture size."""
    height: float = 0.0
    """Raise (+) or lower (-) of the gesture space, radians of upper-arm elevation."""
    spread: float = 0.0
    """Outward opening of the arms in gestures, radians."""
    speed: float = 1.0
    """Scale of preparation/retraction durations: < 1 is quicker and sharper."""
    both_hands: float = 0.0
    """Added probability that a gesture uses both hands."""
    posture: float = 0.0
    """Chest up (+) or slumped (-), radians shared by the spine joints."""
    head: float = 1.0
    """Scale of head motion."""


PRESETS: dict[str, Style] = {
    "professional": Style(rate=0.75, amplitude=0.8, speed=1.05, both_hands=0.05, posture=0.02,
                          head=0.8),
    "casual": Style(),
    "lecturer": Style(rate=1.1, amplitude=1.1, height=0.12, spread=0.1, both_hands=0.15,
                      posture=0.02),
    "excited": Style(rate=1.4, amplitude=1.3, height=0.18, spread=0.15, speed=0.8,
                     both_hands=0.25, posture=0.03, head=1.3),
}
"""The presets :attr:`~..settings.BodySettings.style` names."""

_EMOTION: dict[str, Style] = {
    "neutral": Style(),
    "happy": Style(rate=1.15, amplitude=1.15, height=0.15, spread=0.15, speed=0.95,
                   both_hands=0.1, posture=0.04, head=1.1),
    "sad": Style(rate=0.55, amplitude=0.6, height=-0.2, spread=-0.1, speed=1.45, posture=-0.1,
                 head=0.7),
    "angry": Style(rate=1.25, amplitude=1.2, height=0.05, speed=0.65, both_hands=0.1,
                   posture=0.02, head=1.2),
    "surprised": Style(rate=1.1, amplitude=1.2, height=0.2, spread=0.2, speed=0.85,
                       both_hands=0.15, posture=0.05, head=1.2),
    "fearful": Style(rate=0.8, amplitude=0.7, height=0.05, spread=-0.1, speed=0.9,
                     posture=-0.04, head=1.1),
    "disgusted": Style(rate=0.9, amplitude=0.85, spread=-0.05, speed=1.0, posture=-0.02),
}


def preset(name: str) -> Style:
    """The named preset (the settings validate the name)."""
    return PRESETS[name]


def modulate(style: Style, emotion: str, intensity: float = 1.0) -> Style:
    """``style`` bent toward ``emotion`` by ``intensity`` 0..1 (0 leaves it unchanged).

    Multipliers combine by product (interpolated in ``intensity``), offsets by sum.
    """
    e = _EMOTION.get(emotion, _EMOTION["neutral"])
    k = float(min(max(intensity, 0.0), 1.0))

    def mul(a: float, b: float) -> float:
        return a * (1.0 + k * (b - 1.0))

    return replace(
        style,
        rate=mul(style.rate, e.rate), amplitude=mul(style.amplitude, e.amplitude),
        height=style.height + k * e.height, spread=style.spread + k * e.spread,
        speed=mul(style.speed, e.speed), both_hands=style.both_hands + k * e.both_hands,
        posture=style.posture + k * e.posture, head=mul(style.head, e.head),
    )
