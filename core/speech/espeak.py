# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``espeak`` speech backend: eSpeak NG voices, and a Script spoken into a timed Speech.

The engine and its C API are in :mod:`.espeak_lib`; phoneme events become a timeline in
:mod:`.espeak_timing` (stops start at their closure, vowels end where their energy halves) and
word events become timed words in :mod:`.espeak_words`.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..settings import SpeechSettings
from ..types import Phoneme, Script, Speech, Word
from . import VoiceInfo, espeak_lib, espeak_timing, espeak_words
from .espeak_lib import LOCK, Engine, Utterance


# --------------------------------------------------------------------------- voices
def _norm(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def _primary(code: str) -> str:
    return code.split("-", 1)[0]


def _unknown_voice(spec: str) -> InputError:
    return InputError(f"unknown voice {spec!r}; run `paksatalker voices` to list them")


def _find_voice(engine: Engine, spec: str) -> tuple[VoiceInfo, str]:
    """Resolve ``voice[+variant]`` (identifier, file name, name or language code).

    Returns the voice and the variant suffix (``"+f3"`` or ``""``).
    """
    base, _, variant = spec.partition("+")
    key = _norm(base)
    voice = engine.language_voice.get(key)
    for v in engine.voices:
        if key in (v.identifier.lower(), v.identifier.rsplit("/", 1)[-1].lower(), v.name.lower()):
            voice = v
            break
    if voice is None or (variant and variant.strip().lower() not in engine.variants):
        raise _unknown_voice(spec)
    return voice, f"+{engine.variants[variant.strip().lower()]}" if variant else ""


def _voice_for_language(engine: Engine, language: str) -> VoiceInfo:
    code = _norm(language)
    voice = engine.language_voice.get(code) or engine.language_voice.get(_primary(code))
    if voice is None:
        raise InputError(
            f"no voice for language {language!r}; run `paksatalker voices` to list them"
        )
    return voice


def _speaks(voice: VoiceInfo, language: str) -> bool:
    code = _norm(language)
    return code in voice.languages or _primary(code) in {_primary(c) for c in voice.languages}


# --------------------------------------------------------------------------- backend
def list_voices() -> list[VoiceInfo]:
    """eSpeak NG's language voices. A variant suffix such as ``+f3`` (female) or ``+klatt``
    can follow any of them in SpeechSettings.voice."""
    with LOCK:
        return list(espeak_lib.engine().voices)


def phonemize(text: str, voice: str = "en-us") -> str:
    """eSpeak's IPA for ``text``: stress marks (``ˈ``, ``ˌ``) before vowels, words separated by
    spaces, e.g. ``phonemize("Hello world") == "həlˈoʊ wˈɜːld"``. ``voice`` as in
    SpeechSettings. The string is eSpeak's own (Mandarin keeps tone digits and ``s.``-style
    names, which speech events turn into IPA)."""
    with LOCK:
        engine = espeak_lib.engine()
        found, variant = _find_voice(engine, voice)
        return engine.phonemes(text, found.identifier + variant)


class EspeakBackend:
    """Offline speech with exact word and phoneme timings from eSpeak NG events.

    ``vowel_ends=False`` keeps eSpeak's vowel-to-consonant boundaries (stops still start at
    their closure): the spectral convention that DTW alignment matches on (align_dtw refines
    vowel ends on the recording itself afterwards).
    """

    def __init__(self, vowel_ends: bool = True) -> None:
        self.vowel_ends = vowel_ends

    def voices(self) -> list[VoiceInfo]:
        return list_voices()

    def synthesize(self, script: Script, settings: SpeechSettings) -> Speech:
        """Speak each segment on its own, then join them with ``pause_after`` silences.

        ``settings.voice`` speaks the segments in its language; other segments get eSpeak's
        voice for ``segment.language``, with the same variant.
        """
        with LOCK:
            engine = espeak_lib.engine()
            voice, variant = _find_voice(engine, settings.voice)
            utterances: list[Utterance | None] = []
            for seg in script.segments:
                if not seg.text.strip():
                    utterances.append(None)
                    continue
                own = voice if _speaks(voice, seg.language) else _voice_for_language(
                    engine, seg.language)
                utterances.append(engine.synth(seg.text, own.identifier + variant,
                                               settings.rate, settings.pitch))
            rate = engine.sample_rate
        return _assemble(script, utterances, rate, self.vowel_ends)


def _assemble(script: Script, utterances: list[Utterance | None], rate: int,
              vowel_ends: bool = True) -> Speech:
    """Join per-segment utterances (None for empty text) into one Speech (``vowel_ends``: see
    :class:`EspeakBackend`)."""
    parts: list[np.ndarray] = []
    items: list[list] = []
    bounds: list[tuple[int, int]] = []
    offset = 0
    for seg, utt in zip(script.segments, utterances):
        count = 0 if utt is None else len(utt.samples)
        if utt is not None:
            parts.append(utt.samples)
        espeak_timing.collect_phonemes(() if utt is None else utt.phonemes, offset, count, items)
        bounds.append((offset, offset + count))
        gap = int(round(seg.pause_after * rate))
        parts.append(np.zeros(gap, np.int16))
        offset += count + gap
    if not any(utt is not None and len(utt.samples) for utt in utterances):
        raise InputError("eSpeak NG produced no audio for the script")
    pcm = np.concatenate(parts)
    events = espeak_timing.timeline(items, offset)  # eSpeak's own timings: they place words
    phonemes = espeak_timing.closure_onsets(events, pcm, rate)
    if vowel_ends:
        phonemes = espeak_timing.vowel_ends(phonemes, pcm, rate)
    words: list[Word] = []
    for index, (seg, utt) in enumerate(zip(script.segments, utterances)):
        if utt is None:
            continue
        spans = espeak_words.word_spans(seg.text, utt.words)
        start, end = bounds[index]
        times = espeak_words.word_times(spans, events, phonemes, start, end)
        spans, times = espeak_words.split_merged(seg.text, spans, times)
        words += [
            Word(text, start / rate, end / rate, segment=index, char_start=char)
            for (text, char, _), (start, end) in zip(spans, times)
        ]
    samples = pcm.astype(np.float32) / 32768.0
    language = next(s.language for s in script.segments if s.text.strip())
    return Speech(
        samples=samples,
        sample_rate=rate,
        words=tuple(words),
        phonemes=tuple(Phoneme(s, a / rate, b / rate, st) for s, a, b, st in phonemes),
        segment_times=tuple((a / rate, b / rate) for a, b in bounds),
        language=language,
    )
