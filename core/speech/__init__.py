# SPDX-License-Identifier: GPL-3.0-or-later
"""Speech stage: Script -> Speech (mono audio with word and phoneme timings).

Backends are chosen by name through :data:`SPEECH`. The default, ``"auto"``, is Kokoro-82M
(natural neural speech, offline, aligned for timings) when its packages are installed, else
eSpeak NG; the environment variable ``PAKSATALKER_SPEECH_BACKEND`` overrides that choice.
A backend has ``synthesize(script, settings) -> Speech`` and
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


def _kokoro() -> SpeechBackend:
    from .kokoro import KokoroBackend

    return KokoroBackend()


def _coqui() -> SpeechBackend:
    from .coqui import CoquiBackend

    return CoquiBackend()


def _piper() -> SpeechBackend:
    from .piper import PiperBackend

    return PiperBackend()


SPEECH: Registry[SpeechBackend] = Registry("speech", default="espeak")
SPEECH.register("espeak", _espeak)
SPEECH.register("kokoro", _kokoro)
SPEECH.register("coqui", _coqui)
SPEECH.register("piper", _piper)


AUTO = "auto"
ENV_BACKEND = "PAKSATALKER_SPEECH_BACKEND"


def default_backend() -> str:
    """$PAKSATALKER_SPEECH_BACKEND if set, else "kokoro" (natural neural speech) when its
    packages are installed, else "espeak"."""
    import os

    chosen = os.environ.get(ENV_BACKEND, "").strip()
    if chosen and chosen != AUTO:
        return chosen
    from .kokoro import installed

    return "kokoro" if installed() else "espeak"


def resolve(backend: str | None) -> str:
    """A backend name, with "auto" (or nothing) replaced by :func:`default_backend`."""
    return default_backend() if backend in (None, "", AUTO) else backend


def synthesize(script: Script, settings: SpeechSettings) -> Speech:
    """Speak ``script`` with the backend named by ``settings.backend``."""
    return SPEECH.create(resolve(settings.backend)).synthesize(script, settings)


def list_voices(backend: str = AUTO) -> list[VoiceInfo]:
    """The voices of ``backend`` ("auto": the default backend's)."""
    return SPEECH.create(resolve(backend)).voices()


__all__ = ["AUTO", "SPEECH", "SpeechBackend", "VoiceInfo", "default_backend", "list_voices",
           "resolve", "synthesize"]


def voice_language(voice: str, backend: str | None = None) -> str:
    """The language a voice speaks ("gmw/de" or "German" -> "de"); the spec itself if unknown.

    Used as the language of script segments without a ``[lang]`` tag, so that they are spoken
    by the chosen voice.
    """
    base = voice.split("+", 1)[0].strip().lower()
    for v in list_voices(resolve(backend)):
        names = (v.identifier.lower(), v.identifier.rsplit("/", 1)[-1].lower(), v.name.lower())
        if base in names or base in (lang.lower() for lang in v.languages):
            return v.languages[0] if v.languages else base
    return base
