# SPDX-License-Identifier: GPL-3.0-or-later
"""Text -> Performance, stage by stage, as a generator.

``generate_steps`` yields :class:`Step` progress events and returns the Performance, so the add-on
can drive it from a modal operator and the CLI from a plain loop; ``generate`` runs it to the end.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

from . import body as body_stage
from . import face as face_stage
from . import script as script_stage
from . import speech as speech_stage
from .performance import assemble
from .settings import GenerateSettings
from .types import Performance


@dataclass(frozen=True)
class Step:
    stage: str
    """"script", "speech", "face", "body" or "done"."""
    fraction: float
    """Overall progress 0..1."""
    detail: str = ""


STAGES = ("script", "speech", "face", "body")


def generate_steps(text: str, settings: GenerateSettings) -> Generator[Step, None, Performance]:
    yield Step("script", 0.0)
    language = speech_stage.voice_language(settings.speech.voice, settings.speech.backend)
    script = script_stage.write(text, backend=settings.script_backend, language=language,
                                settings=settings.script)
    yield Step("speech", 0.1, f"{len(script.segments)} segment(s)")
    speech = speech_stage.synthesize(script, settings.speech)
    yield Step("face", 0.6, f"{speech.duration:.1f} s of speech")
    face = face_stage.animate(script, speech, settings.fps, settings.face)
    yield Step("body", 0.8)
    body = body_stage.animate(script, speech, settings.fps, settings.body)
    # A brief written by an LLM: keep the script that was spoken, not the brief.
    spoken = text if settings.script_backend in (None, "", "markup") else script.text
    perf = assemble(speech, face, body, script_text=spoken)
    yield Step("done", 1.0, f"{perf.frames} frames at {perf.fps:g} fps")
    return perf


def generate_from_audio_steps(
    audio_path, transcript_text: str | None, settings: GenerateSettings
) -> Generator[Step, None, Performance]:
    """Like :func:`generate_steps`, but the speech is a recording (see docs/audio.md).

    With ``transcript_text`` (markup allowed: emotions and cues apply) the recording is
    force-aligned to it; without, English is recognised (phones and a rough transcript) and other
    languages (the voice's language) get an energy-driven mouth.
    """
    from .speech.from_audio import speech_from_audio
    from .speech.from_audio import transcript_text as recognised
    from .types import Script, Segment

    yield Step("script", 0.0)
    language = speech_stage.voice_language(settings.speech.voice, settings.speech.backend)
    script = None
    if transcript_text and transcript_text.strip():
        script = script_stage.write(transcript_text, backend=settings.script_backend,
                                    language=language)
    yield Step("speech", 0.1, "aligning the recording" if script else "recognising the recording")
    speech = speech_from_audio(audio_path, script, language)
    text = transcript_text or recognised(speech)
    if script is None:  # recognition mode: the recognised words (or none) are the script
        script = Script((Segment(recognised(speech) or "…", language=language),))
    yield Step("face", 0.6, f"{speech.duration:.1f} s of speech")
    face = face_stage.animate(script, speech, settings.fps, settings.face)
    yield Step("body", 0.8)
    body = body_stage.animate(script, speech, settings.fps, settings.body)
    perf = assemble(speech, face, body, script_text=text)
    yield Step("done", 1.0, f"{perf.frames} frames at {perf.fps:g} fps")
    return perf


def run(steps: Generator[Step, None, Performance],
        on_step: Callable[[Step], None] | None = None) -> Performance:
    """Drive a step generator to its end and return its value."""
    while True:
        try:
            step = next(steps)
        except StopIteration as stop:
            return stop.value
        if on_step is not None:
            on_step(step)


def generate(text: str, settings: GenerateSettings | None = None,
             on_step: Callable[[Step], None] | None = None) -> Performance:
    return run(generate_steps(text, settings or GenerateSettings()), on_step)
