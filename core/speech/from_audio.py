# SPDX-License-Identifier: GPL-3.0-or-later
"""A user's recording -> Speech, for lip-sync from audio.

Three modes, chosen by what the user gives:

- **transcript** (any language): forced alignment (:func:`.align.align`) fills words and IPA
  phonemes; English through PocketSphinx, other languages by DTW against eSpeak NG.
- **no transcript, English**: phone recognition with PocketSphinx's bundled en-us acoustic model
  and its phone language model (``allphone`` search) gives the phonemes; word recognition with
  its bundled word language model gives the words (a rough transcript: expect misheard words).
  Vowel stress is unknown here (0).
- **no transcript, other languages**: no phonemes and no words. The face stage then drives the
  mouth from the audio envelope and spectrum (:func:`..face.energy.energy_mouth`): honest,
  lower-quality lip motion without visemes.

Accepted input: anything :func:`..audio.read_wav` reads (WAV, FLAC, OGG), mono or multi-channel
(averaged), 8..48 kHz (higher rates are resampled to 48 kHz), 1 s to 10 min, not silent.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from ..audio import read_wav, resample
from ..errors import BackendError, InputError
from ..types import Phoneme, Script, Speech, Word
from . import arpabet
from .align import PAUSE, RATE, _decode, align, is_english, tile

MIN_SECONDS = 1.0
MAX_SECONDS = 600.0
MIN_RATE = 8000
MAX_RATE = 48000
SILENCE_PEAK = 1e-3
"""Recordings whose absolute peak stays below this (full scale 1.0) are refused as silent."""


def load_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read a recording for lip-sync: mono float32 (N,) and its rate (Hz).

    Raises :class:`InputError` (one line, naming the file) when it is unreadable, sampled below
    8 kHz, shorter than 1 s, longer than 10 min or silent.
    """
    name = os.fspath(path)
    x, rate = read_wav(name)
    if rate < MIN_RATE:
        raise InputError(f"audio file {name} is sampled at {rate} Hz; lip-sync needs "
                         f"{MIN_RATE} Hz or more")
    if rate > MAX_RATE:
        x, rate = resample(x, rate, MAX_RATE), MAX_RATE
    seconds = x.size / rate
    if seconds < MIN_SECONDS:
        raise InputError(f"audio file {name} lasts {seconds:.2f} s; give at least "
                         f"{MIN_SECONDS:g} s of speech")
    if seconds > MAX_SECONDS:
        raise InputError(f"audio file {name} lasts {seconds / 60:.1f} min; the limit is "
                         f"{MAX_SECONDS / 60:g} min: split it")
    if float(np.max(np.abs(x))) < SILENCE_PEAK:
        raise InputError(f"audio file {name} is silent")
    return x, rate


# --------------------------------------------------------------------------- recognition
_LOCK = threading.Lock()
_PHONE_DECODER = None


def _phone_decoder():
    """PocketSphinx in allphone mode with the bundled en-us phone LM (created once)."""
    global _PHONE_DECODER
    if _PHONE_DECODER is None:
        try:
            from pocketsphinx import Decoder, get_model_path
        except ImportError:
            raise BackendError("phone recognition needs PocketSphinx: "
                               "pip install pocketsphinx==5.1.1") from None
        try:
            _PHONE_DECODER = Decoder(allphone=get_model_path("en-us-phone.lm.bin"),
                                     beam=1e-20, pbeam=1e-20, loglevel="FATAL")
        except (RuntimeError, ValueError) as err:
            raise BackendError(f"PocketSphinx failed to load its phone model: {err}") from None
    return _PHONE_DECODER


def _pcm16k(x: np.ndarray, rate: int) -> bytes:
    x16 = resample(x, rate, RATE)
    return np.clip(np.rint(x16 * 32767.0), -32768, 32767).astype("<i2").tobytes()


CHUNK_SECONDS = 15.0
"""Recognition decodes pieces of about this length, cut at the quietest 20 ms between 10 and
20 s: one long utterance made PocketSphinx's word search slower than real time (measured: 573 s
for 198 s of speech)."""


def chunks(x: np.ndarray, rate: int) -> list[tuple[int, int]]:
    """(first, end) sample ranges covering ``x``, cut in its quietest moments."""
    hop = max(1, int(0.02 * rate))
    n = x.size // hop
    db = 20 * np.log10(np.sqrt(np.mean(
        x[:n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1)) + 1e-9)
    out, start = [], 0
    lo, hi = int(10.0 / 0.02), int(20.0 / 0.02)
    while (x.size - start) / rate > 20.0:
        f0 = start // hop
        cut = (f0 + lo + int(np.argmin(db[f0 + lo:f0 + hi]))) * hop + hop // 2
        out.append((start, cut))
        start = cut
    out.append((start, x.size))
    return out


def _run(dec, x: np.ndarray, rate: int) -> list[tuple[str, float, float]]:
    """Decode ``x`` piece by piece; -> segments (name, start s, end s)."""
    frame = 1.0 / float(dec.config["frate"])
    out = []
    for a, b in chunks(x, rate):
        pcm = _pcm16k(x[a:b], rate)
        _decode(dec, pcm, search=False)  # cepstral mean from this piece
        _decode(dec, pcm)
        out += [(s.word, a / rate + s.start_frame * frame, a / rate + (s.end_frame + 1) * frame)
                for s in dec.seg()]
    return out


def recognize_phonemes(x: np.ndarray, rate: int) -> tuple[Phoneme, ...]:
    """English phone recognition (allphone): IPA phonemes tiling the audio, stress unknown."""
    with _LOCK:
        segs = _run(_phone_decoder(), x, rate)
    return tile([(arpabet.to_ipa(name), a, b, 0) for name, a, b in segs], x.size / rate)


def recognize_words(x: np.ndarray, rate: int) -> tuple[Word, ...]:
    """English word recognition with PocketSphinx's bundled LM; ``char_start`` indexes the
    words joined by single spaces (segment 0)."""
    from .align import _LOCK as ALIGN_LOCK
    from .align import _decoder

    with ALIGN_LOCK:
        dec = _decoder()
        dec.activate_search()
        segs = _run(dec, x, rate)
    duration = x.size / rate
    words: list[Word] = []
    char = 0
    last = 0.0
    for name, a, b in segs:
        if name.startswith(("<", "[", "+")):
            continue
        text = name.split("(", 1)[0]
        start = min(max(a, last), duration)
        end = min(max(b, start), duration)
        words.append(Word(text, start, end, 0, char))
        char += len(text) + 1
        last = start
    return tuple(words)


# --------------------------------------------------------------------------- speech
def _segment_times(words: tuple[Word, ...], segments: int,
                   duration: float) -> tuple[tuple[float, float], ...]:
    """(start, end) of each script segment from its words; wordless segments get an empty span
    where the previous one ended."""
    out = []
    last = 0.0
    for k in range(segments):
        own = [w for w in words if w.segment == k]
        if own:
            a, b = max(own[0].start, last), max(own[-1].end, own[0].start, last)
        else:
            a = b = last
        out.append((a, min(b, duration)))
        last = a
    return tuple(out)


def speech_from_audio(path: str | os.PathLike, transcript: Script | None = None,
                      language: str = "en") -> Speech:
    """Speech from the recording at ``path`` (see the module doc for the three modes).

    ``transcript`` (a Script; its segments' languages win over ``language``) enables forced
    alignment. Raises :class:`InputError` for unusable audio and :class:`BackendError` when
    PocketSphinx is needed and missing.
    """
    x, rate = load_audio(path)
    duration = x.size / rate
    if transcript is not None:
        words, phonemes = align(x, rate, transcript)
        lang = next(s.language for s in transcript.segments if s.text.strip())
        times = _segment_times(words, len(transcript.segments), duration)
        return Speech(x, rate, words, phonemes, times, lang)
    if is_english(language):
        phonemes = recognize_phonemes(x, rate)
        words = recognize_words(x, rate)
        return Speech(x, rate, words, phonemes, ((0.0, duration),), language)
    return Speech(x, rate, (), (Phoneme(PAUSE, 0.0, duration),), ((0.0, duration),), language)


def transcript_text(speech: Speech) -> str:
    """The words of ``speech`` joined by spaces (the recognised text in recognition mode)."""
    return " ".join(w.text for w in speech.words)
