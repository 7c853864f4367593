# SPDX-License-Identifier: GPL-3.0-or-later
"""The synthesis pipeline shared by neural voices (Kokoro, Coqui, Piper).

For each script segment: split its text into sentences, let the engine speak each one (through
the on-disk :mod:`.cache`), trim each sentence's edge silence at zero crossings, join them with a
short pause and crossfades, apply the segment's pitch and volume (:mod:`.tone`), then force-align
the segment audio to its words and phonemes (:func:`.align.align`: these engines give no
timings). Segments are joined with their ``pause_after`` silences, resampled and normalised to
the target loudness (:mod:`.hygiene`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import replace
from typing import Protocol

import numpy as np

from ..audio import resample
from ..errors import BackendError, InputError
from ..settings import SpeechSettings
from ..types import Phoneme, Script, Segment, Speech, Word
from . import hygiene, tone
from .cache import SpeechCache, make_key

log = logging.getLogger(__name__)

SENTENCE_GAP = 0.2
"""Silence between sentences of one segment (s), after their own edge silence is trimmed."""
EDGE_KEEP = 0.03
"""Silence kept at each end of a sentence when trimming (s)."""
_SENTENCE = re.compile(r"(?<=[.!?。！？…])[\"')\]”’]*\s+")
_PHRASE = re.compile(r"(?<=[,;:、，；：—])\s+")


class Engine(Protocol):
    """One loaded neural voice."""

    backend: str
    sample_rate: int
    """Rate of the audio :meth:`speak` returns (Hz)."""
    max_chars: int
    """Longest text :meth:`speak` takes in one call; longer sentences are split at phrases."""

    def identity(self) -> dict[str, object]:
        """Everything besides text and rate that changes the audio (files, voice, speaker)."""
        ...

    def speak(self, text: str, language: str, rate: float) -> np.ndarray:
        """Speak one sentence; float32 (N,) at :attr:`sample_rate`. ``rate`` > 1 is faster."""
        ...

    def resolve_language(self, language: str) -> str:
        """The language actually spoken for a segment marked ``language``."""
        ...


def split_sentences(text: str, max_chars: int) -> list[str]:
    """Sentences of ``text``; any longer than ``max_chars`` split at phrase marks, then spaces."""
    out: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE.split(text.strip())):
        if not sentence:
            continue
        if len(sentence) <= max_chars:
            out.append(sentence)
            continue
        pieces = [p for p in _PHRASE.split(sentence) if p.strip()]
        current = ""
        for piece in pieces:
            words = piece.split() if len(piece) > max_chars else [piece]
            for w in words:
                if current and len(current) + 1 + len(w) > max_chars:
                    out.append(current)
                    current = w
                else:
                    current = f"{current} {w}".strip()
        if current:
            out.append(current)
    return out


def _sentence_audio(engine: Engine, cache: SpeechCache | None, text: str, language: str,
                    rate: float) -> np.ndarray:
    def make() -> tuple[np.ndarray, int]:
        audio = np.asarray(engine.speak(text, language, rate), dtype=np.float32).reshape(-1)
        if audio.size == 0 or not np.all(np.isfinite(audio)):
            raise BackendError(f"the {engine.backend} voice returned no usable audio for "
                               f"{text[:40]!r}")
        return audio, engine.sample_rate

    if cache is None:
        return make()[0]
    key = make_key(backend=engine.backend, engine=engine.identity(), text=text,
                   language=language, rate=rate)
    samples, rate_found = cache.fetch(key, make)
    if rate_found != engine.sample_rate:
        samples = resample(samples, rate_found, engine.sample_rate)
    return samples


def speak_segment(engine: Engine, segment: Segment, settings: SpeechSettings,
                  cache: SpeechCache | None) -> np.ndarray:
    """One segment's audio (float32 (N,) at ``engine.sample_rate``) with its tone applied."""
    prosody = tone.prosody_for(segment, settings)
    language = settings.language or segment.language
    pieces = []
    for sentence in split_sentences(segment.text, engine.max_chars):
        audio = _sentence_audio(engine, cache, sentence, language, prosody.rate)
        a, b = hygiene.trim_bounds(audio, engine.sample_rate, keep_s=EDGE_KEEP)
        pieces.append(audio[a:b])
    if not pieces:
        raise InputError(f"segment {segment.text[:40]!r} has nothing to speak")
    audio, _ = hygiene.join(pieces, engine.sample_rate, [SENTENCE_GAP] * (len(pieces) - 1))
    audio = tone.shift_pitch(audio, engine.sample_rate, prosody.pitch)
    return (audio * np.float32(prosody.volume)).astype(np.float32)


MIN_ALIGN_S = 0.3
"""Shorter segment audio is padded with silence to this length before alignment (s)."""


def _ipa_symbols(ipa: str) -> list[tuple[str, int]]:
    """eSpeak IPA -> (symbol, stress) pairs; length/aspiration marks stay with their symbol."""
    out: list[tuple[str, int]] = []
    stress = 0
    for ch in ipa:
        if ch in "ˈˌ":
            stress = 2 if ch == "ˈ" else 1
        elif ch.isspace() or not ch.isprintable():
            continue
        elif out and unicodedata.category(ch) in ("Lm", "Mn"):
            out[-1] = (out[-1][0] + ch, out[-1][1])
        else:
            out.append((ch, stress))
            stress = 0
    return out


def _estimate(samples: np.ndarray, rate: int, segment: Segment
              ) -> tuple[tuple[Word, ...], tuple[Phoneme, ...]]:
    """Timings without an aligner: words spread over the voiced part in proportion to their
    length, each word's eSpeak phonemes spread evenly over it, pauses around them."""
    from .espeak import phonemize

    tokens = [(m.group(), m.start()) for m in re.finditer(r"\w(?:[\w'’-]*\w)?", segment.text)]
    a, b = hygiene.trim_bounds(samples, rate, keep_s=0.0)
    edges = np.cumsum([0] + [len(t) for t, _ in tokens], dtype=float)
    edges = a / rate + (b - a) / rate * edges / max(edges[-1], 1.0)
    words = tuple(Word(t, float(lo), float(hi), 0, c)
                  for (t, c), lo, hi in zip(tokens, edges[:-1], edges[1:]))
    phonemes: list[Phoneme] = []
    for w in words:
        try:
            symbols = _ipa_symbols(phonemize(w.text, segment.language))
        except (BackendError, InputError):
            return words, ()
        _pause_until(phonemes, w.start)
        step = (w.end - w.start) / max(len(symbols), 1)
        phonemes += [Phoneme(sym, w.start + i * step, w.start + (i + 1) * step, st)
                     for i, (sym, st) in enumerate(symbols)]
    if phonemes:
        phonemes.insert(0, Phoneme("_", 0.0, phonemes[0].start))
        _pause_until(phonemes, samples.size / rate)
    return words, tuple(p for p in phonemes if p.end > p.start)


def segment_timings(samples: np.ndarray, rate: int, segment: Segment
                    ) -> tuple[tuple[Word, ...], tuple[Phoneme, ...]]:
    """Words and phonemes of one segment's audio by forced alignment (segment index 0).

    Audio shorter than :data:`MIN_ALIGN_S` is padded with silence for the aligner. When the
    aligner is missing or cannot use the audio, timings are estimated (:func:`_estimate`) and a
    warning says so.
    """
    try:
        from .align import align
    except ImportError:
        log.warning("speech timings estimated: no aligner (core.speech.align) available")
        return _estimate(samples, rate, segment)
    duration = samples.size / rate
    padded = samples
    if duration < MIN_ALIGN_S:
        padded = np.concatenate([samples, np.zeros(int(MIN_ALIGN_S * rate) - samples.size + 1,
                                                   np.float32)])
    try:
        words, phonemes = align(padded, rate, Script((segment,)))
    except (BackendError, InputError) as err:
        log.warning("speech timings estimated, alignment failed: %s", err)
        return _estimate(samples, rate, segment)
    return tuple(_clip(words, duration)), tuple(p for p in _clip(phonemes, duration)
                                                if p.end > p.start or p.symbol != "_")


def synthesize(engine: Engine, script: Script, settings: SpeechSettings) -> Speech:
    """Speak ``script`` with ``engine`` and return a :class:`Speech` with aligned timings."""
    cache = SpeechCache() if settings.cache else None
    rate = engine.sample_rate
    spoken: list[tuple[int, np.ndarray, tuple[Word, ...], tuple[Phoneme, ...]]] = []
    pieces, gaps = [], []
    script = Script(tuple(replace(s, language=engine.resolve_language(s.language))
                          for s in script.segments))
    for index, seg in enumerate(script.segments):
        if seg.text.strip():
            audio = speak_segment(engine, seg, settings, cache)
            words, phonemes = segment_timings(audio, rate, seg)
            spoken.append((index, audio, words, phonemes))
            pieces.append(audio)
            gaps.append(seg.pause_after)
        elif gaps:
            gaps[-1] += seg.pause_after
    if not pieces:
        raise InputError("the script has no words to speak")
    samples, spans = hygiene.join(pieces, rate, gaps, crossfade=False)  # spans must not overlap
    words: list[Word] = []
    phonemes: list[Phoneme] = []
    bounds: dict[int, tuple[float, float]] = {}
    for (index, _, seg_words, seg_phonemes), (a, b) in zip(spoken, spans):
        t0 = a / rate
        bounds[index] = (t0, b / rate)
        words += [replace(w, start=w.start + t0, end=w.end + t0, segment=index)
                  for w in seg_words]
        _pause_until(phonemes, t0)
        phonemes += [replace(p, start=p.start + t0, end=p.end + t0) for p in seg_phonemes]
    _pause_until(phonemes, samples.size / rate)
    segment_times = _segment_times(script, bounds)
    if settings.sample_rate and settings.sample_rate != rate:
        samples, rate = resample(samples, rate, settings.sample_rate), settings.sample_rate
    if settings.target_lufs:
        samples = hygiene.normalize_loudness(samples, rate, settings.target_lufs)
    samples = np.clip(samples * np.float32(settings.volume), -1.0, 1.0)
    duration = samples.size / rate
    return Speech(samples, rate, tuple(_clip(words, duration)), tuple(_clip(phonemes, duration)),
                  segment_times, language=next(s.language for s in script.segments
                                               if s.text.strip()))


def _pause_until(phonemes: list[Phoneme], t: float) -> None:
    """Cover the silence from the last phoneme's end to ``t`` with a ``"_"`` pause."""
    if not phonemes or t <= phonemes[-1].end + 1e-9:
        return
    last = phonemes[-1]
    if last.symbol == "_":
        phonemes[-1] = replace(last, end=t)
    else:
        phonemes.append(Phoneme("_", last.end, t))


def _segment_times(script: Script, bounds: dict[int, tuple[float, float]]
                   ) -> tuple[tuple[float, float], ...]:
    """(start, end) of every segment; an empty one sits at the end of the one before it."""
    out, last = [], 0.0
    for index in range(len(script.segments)):
        a, b = bounds.get(index, (last, last))
        out.append((a, b))
        last = b
    return tuple(out)


def _clip(items, duration: float) -> list:
    """Timings clipped to the audio (sample rounding after resampling can pass the end)."""
    return [replace(it, start=min(it.start, duration), end=min(it.end, duration))
            for it in items]
