# SPDX-License-Identifier: GPL-3.0-or-later
"""Speech stage: Script -> Speech (mono audio with word and phoneme timings).

Backends are chosen by name through :data:`SPEECH`; ``espeak`` (eSpeak NG, offline) is the
default. A backend has ``synthesize(script, settings) -> Speech`` and
``voices() -> list[VoiceInfo]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..registry import Registry
from ..settings import SpeechSettings
from ..types import Script, Speech


@dataclass(frozen=True)
class VoiceInfo:
    """One voice a backend offers; ``name`` or ``identifier`` selects it in SpeechSettings."""

    name: str
    identifier: str
    languages: tuple[str, ...]
    gender: str
    """"male", "female" or "unknown"."""


class SpeechBackend(Protocol):
    def synthesize(self, script: Script, settings: SpeechSettings) -> Speech: ...

    def voices(self) -> list[VoiceInfo]: ...


def _espeak() -> SpeechBackend:
    from .espeak import EspeakBackend

    return EspeakBackend()


SPEECH: Registry[SpeechBackend] = Registry("speech", default="espeak")
SPEECH.register("espeak", _espeak)


def synthesize(script: Script, settings: SpeechSettings) -> Speech:
    """Speak ``script`` with the backend named by ``settings.backend``."""
    return SPEECH.create(settings.backend).synthesize(script, settings)


def list_voices(backend: str = "espeak") -> list[VoiceInfo]:
    """The voices of ``backend``."""
    return SPEECH.create(backend).voices()


__all__ = ["SPEECH", "SpeechBackend", "VoiceInfo", "list_voices", "synthesize"]


def voice_language(voice: str, backend: str | None = None) -> str:
    """The language a voice speaks ("gmw/de" or "German" -> "de"); the spec itself if unknown.

    Used as the language of script segments without a ``[lang]`` tag, so that they are spoken
    by the chosen voice.
    """
    base = voice.split("+", 1)[0].strip().lower()
    for v in list_voices(backend or SPEECH.default):
        names = (v.identifier.lower(), v.identifier.rsplit("/", 1)[-1].lower(), v.name.lower())
        if base in names or base in (lang.lower() for lang in v.languages):
            return v.languages[0] if v.languages else base
    return base
