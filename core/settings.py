# SPDX-License-Identifier: GPL-3.0-or-later
"""Typed, frozen settings for each job, built once by a front door (CLI, add-on, job file)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InputError


@dataclass(frozen=True)
class SpeechSettings:
    backend: str = "espeak"
    voice: str = "en-us"
    rate: int = 165
    """Words per minute (eSpeak: 80..450)."""
    pitch: int = 50
    """0..100, 50 is the voice's normal pitch."""

    def __post_init__(self) -> None:
        if not 80 <= self.rate <= 450:
            raise InputError(f"speech rate must be 80..450 words per minute, got {self.rate}")
        if not 0 <= self.pitch <= 100:
            raise InputError(f"pitch must be 0..100, got {self.pitch}")


@dataclass(frozen=True)
class FaceSettings:
    backend: str = "visemes"
    seed: int = 0
    blink_rate: float = 17.0
    """Blinks per minute."""
    articulation: float = 1.0
    """Scale of mouth shapes (0.5 mumbles, 1.2 over-articulates)."""


@dataclass(frozen=True)
class BodySettings:
    backend: str = "procedural"
    seed: int = 0
    energy: float = 0.6
    """0 keeps still, 1 is very animated."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.energy <= 1.0:
            raise InputError(f"gesture energy must be 0..1, got {self.energy}")


@dataclass(frozen=True)
class GenerateSettings:
    fps: float = 30.0
    script_backend: str = "markup"
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    face: FaceSettings = field(default_factory=FaceSettings)
    body: BodySettings = field(default_factory=BodySettings)

    def __post_init__(self) -> None:
        if not 1 <= self.fps <= 120:
            raise InputError(f"fps must be 1..120, got {self.fps}")
