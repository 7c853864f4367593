# SPDX-License-Identifier: GPL-3.0-or-later
"""Forced alignment: mono audio + the Script it speaks -> word and phoneme timings.

English goes through PocketSphinx (its bundled en-us acoustic model and CMU dictionary, run as a
two-pass aligner: words, then phones). Words missing from the dictionary get a pronunciation
derived from eSpeak NG's IPA (:mod:`.arpabet`) and are added to the decoder, so any English text
aligns. Stress comes from eSpeak's reading of each word. Other languages, and English audio
PocketSphinx cannot align, go through :mod:`.align_dtw` (MFCC dynamic time warping against an
eSpeak NG re-synthesis of the text).

Times are seconds from the start of the audio. Phonemes tile the audio: ``"_"`` pauses fill the
gaps, the first phoneme starts at 0 and the last ends at the audio's duration.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import numpy as np

from ..audio import resample
from ..errors import BackendError, InputError
from ..types import Phoneme, Script, Word
from . import arpabet

RATE = 16000
"""Sample rate of the PocketSphinx en-us model (Hz)."""
MIN_SECONDS = 0.25
"""Shortest audio accepted (s)."""
MAX_SECONDS = 900.0
"""Longest audio accepted (s): 15 minutes."""
SILENCE_PEAK = 1e-3
"""Audio whose absolute peak stays below this (full scale 1.0) counts as silent."""
_CHUNK = 4096
PAUSE = "_"

_TOKEN = re.compile(r"\S+")


class AlignmentFailed(Exception):
    """PocketSphinx found no path through the text (internal: the caller falls back to DTW)."""


# --------------------------------------------------------------------------- input checks
def check_audio(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Validate mono audio for alignment; return it as float32 (N,).

    Raises :class:`InputError` (one line) for a wrong shape or rate, NaN/inf, audio shorter than
    :data:`MIN_SECONDS` or longer than :data:`MAX_SECONDS`, or silence.
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise InputError(f"alignment needs mono audio of shape (N,), got {x.shape}; "
                         "average the channels first")
    if int(sample_rate) < 8000:
        raise InputError(f"sample rate {sample_rate} Hz is too low for alignment (>= 8000 Hz)")
    if not np.all(np.isfinite(x)):
        raise InputError("audio to align contains NaN or infinite samples")
    seconds = x.size / float(sample_rate)
    if seconds < MIN_SECONDS:
        raise InputError(f"audio is too short to align ({seconds:.2f} s; at least "
                         f"{MIN_SECONDS} s)")
    if seconds > MAX_SECONDS:
        raise InputError(f"audio is too long to align ({seconds:.0f} s; at most "
                         f"{MAX_SECONDS:.0f} s): split it")
    if float(np.max(np.abs(x))) < SILENCE_PEAK:
        raise InputError("audio is silent: nothing to align")
    return x


def is_english(language: str) -> bool:
    """True for ``en``, ``en-us``, ``en_GB``, ``English`` ..."""
    code = language.strip().lower().replace("_", "-")
    return code == "english" or code.split("-", 1)[0] == "en"


# --------------------------------------------------------------------------- tokens
def _silent(char: str) -> bool:
    return unicodedata.category(char).startswith("P") and char not in "%‰&@#"


def script_tokens(script: Script) -> list[tuple[str, int, int]]:
    """The words of ``script`` as eSpeak reads them: ``(text, segment, char_start)``.

    Words are whitespace-separated tokens with silent punctuation stripped from their ends
    (``"world!"`` -> ``"world"``); punctuation-only tokens are dropped.
    """
    out = []
    for si, seg in enumerate(script.segments):
        for m in _TOKEN.finditer(seg.text):
            tok = m.group()
            lead, end = 0, len(tok)
            while lead < end and _silent(tok[lead]):
                lead += 1
            while end > lead and _silent(tok[end - 1]):
                end -= 1
            if end > lead:
                out.append((tok[lead:end], si, m.start() + lead))
    return out


def _key(word: str) -> str:
    """Dictionary key of a word: lower case, typographic apostrophes made plain, no brackets."""
    w = word.lower().replace("’", "'").replace("‘", "'")
    return re.sub(r"[^\w'\-.]", "_", w).strip("_")


@lru_cache(maxsize=8192)
def _espeak_arpabet(word: str) -> tuple[str, ...]:
    """ARPAbet with stress digits for ``word`` as eSpeak NG (en-us) reads it; () if unreadable."""
    from .espeak import phonemize

    try:
        return tuple(arpabet.from_ipa(phonemize(word, "en-us")))
    except InputError:
        return ()


# --------------------------------------------------------------------------- PocketSphinx
_LOCK = threading.Lock()
_DECODER = None


def _decoder():
    """The process-wide en-us decoder (created once, ~0.4 s; dictionary grows with add_word)."""
    global _DECODER
    if _DECODER is None:
        try:
            from pocketsphinx import Decoder
        except ImportError:
            raise BackendError("English alignment needs PocketSphinx: "
                               "pip install pocketsphinx==5.1.1") from None
        try:
            _DECODER = Decoder(samprate=RATE, loglevel="FATAL")
        except (RuntimeError, ValueError) as err:
            raise BackendError(f"PocketSphinx failed to load its en-us model: {err}") from None
    return _DECODER


def _pronounce(dec, token: str) -> str | None:
    """Make sure the decoder knows ``token``; return its dictionary key (None: unspeakable)."""
    key = _key(token)
    if not key:
        return None
    if dec.lookup_word(key) is not None:
        return key
    phones = arpabet.strip_stress(list(_espeak_arpabet(token)))
    if not phones:
        return None
    try:
        dec.add_word(key, " ".join(phones), True)
    except RuntimeError:
        return None
    return key


def _decode(dec, pcm: bytes, search: bool = True) -> None:
    """Feed 16 kHz int16 ``pcm`` in chunks (one huge block cuts PocketSphinx's alignment short).

    ``search=False`` runs only the front end, on the whole recording in one block: that sets
    the cepstral mean normalisation from this recording, so the alignment passes do not start
    from the previous recording's mean (which moved word boundaries by ~40 ms).
    """
    dec.start_utt()
    if not search:
        dec.process_raw(pcm, True, True)
    else:
        for i in range(0, len(pcm), 2 * _CHUNK):
            dec.process_raw(pcm[i:i + 2 * _CHUNK], False, False)
    dec.end_utt()


def _sphinx_entries(pcm: bytes, keys: list[str]) -> list[tuple[str, list[tuple[str, int, int]]]]:
    """Run the two alignment passes; -> [(word name, [(phone, start frame, frames)])]."""
    dec = _decoder()
    try:
        dec.set_align_text(" ".join(keys))
        _decode(dec, pcm, search=False)
        _decode(dec, pcm)
        if dec.hyp() is None:
            raise AlignmentFailed("no word alignment")
        dec.set_alignment()
        _decode(dec, pcm)
        al = dec.get_alignment()
    except RuntimeError as err:
        raise AlignmentFailed(str(err)) from None
    finally:
        dec.activate_search()  # back to the default search for the next call
    if al is None:
        raise AlignmentFailed("no phone alignment")
    return [(w.name, [(p.name, p.start, p.duration) for p in w]) for w in al.words()]


def _is_filler(name: str) -> bool:
    return name.startswith(("<", "[", "+")) or name.upper() == "SIL"


def _vowel_stresses(token: str, phones: list[str]) -> list[int]:
    """ARPAbet stress digits for the vowels of ``phones``, from eSpeak's reading of ``token``.

    When eSpeak's vowel count differs from the dictionary's, the first vowel gets primary stress.
    """
    vowels = [p for p in phones if arpabet.is_vowel(p)]
    known = [arpabet.split_arpabet(p)[1] or 0 for p in _espeak_arpabet(token)
             if arpabet.is_vowel(p)]
    if len(known) == len(vowels):
        return known
    return [1 if k == 0 else 0 for k in range(len(vowels))]


def _align_sphinx(x: np.ndarray, sample_rate: int,
                  tokens: list[tuple[str, int, int]]) -> tuple[list, list]:
    """English alignment; -> (words, phonemes) as tuples of seconds (see :func:`align`)."""
    x16 = resample(x, sample_rate, RATE)
    pcm = np.clip(np.rint(x16 * 32767.0), -32768, 32767).astype("<i2").tobytes()
    with _LOCK:
        dec = _decoder()
        spoken = [(tok, _pronounce(dec, tok[0])) for tok in tokens]
        spoken = [(tok, key) for tok, key in spoken if key]
        if not spoken:
            raise AlignmentFailed("no pronounceable words")
        entries = _sphinx_entries(pcm, [key for _, key in spoken])
        frame = 1.0 / float(dec.config["frate"])
    words_out = [e for e in entries if not _is_filler(e[0])]
    if len(words_out) != len(spoken):
        raise AlignmentFailed(f"{len(words_out)} aligned words for {len(spoken)} in the text")
    phonemes: list[tuple[str, float, float, int]] = []
    words: list[tuple[str, int, int, float, float]] = []
    it = iter(spoken)
    for name, phones in entries:
        if _is_filler(name):
            for _, start, dur in phones:
                phonemes.append((PAUSE, start * frame, (start + dur) * frame, 0))
            continue
        (text, seg, char), _ = next(it)
        stresses = iter(_vowel_stresses(text, [p for p, _, _ in phones]))
        for ph, start, dur in phones:
            digit = next(stresses, 0) if arpabet.is_vowel(ph) else None
            phonemes.append((arpabet.to_ipa(ph, digit), start * frame, (start + dur) * frame,
                             arpabet.arpabet_stress_to_phoneme(digit)))
        if phones:
            a, b = phones[0][1] * frame, (phones[-1][1] + phones[-1][2]) * frame
        else:
            a = b = phonemes[-1][2] if phonemes else 0.0
        words.append((text, seg, char, a, b))
    return words, phonemes


# --------------------------------------------------------------------------- long recordings
PIECE_SECONDS = 45.0
"""English recordings longer than 1.5 times this are aligned in pieces of about this length,
cut in pauses found by a DTW pre-alignment: PocketSphinx's memory grows with the length aligned at
once (~1.2 GB for 200 s measured), the pieces keep it near 0.3 GB."""


def _pieces(rough: list[tuple[float, float]],
            duration: float) -> list[tuple[int, int, float, float]]:
    """Cut tokens with rough (start, end) times into pieces: (first, end, start s, end s).

    Each cut falls in the middle of the widest gap between two words whose second word starts
    between 0.5 and 1 :data:`PIECE_SECONDS` into the piece."""
    out = []
    first, t0, n = 0, 0.0, len(rough)
    while first < n:
        cands: list[int] = []
        if duration - t0 > 1.5 * PIECE_SECONDS:  # otherwise the rest is the last piece
            later = [k for k in range(first + 1, n) if rough[k][0] >= t0 + 0.5 * PIECE_SECONDS]
            cands = [k for k in later if rough[k][0] <= t0 + PIECE_SECONDS] or later[:1]
        if not cands:
            out.append((first, n, t0, duration))
            break
        k = max(cands, key=lambda j: rough[j][0] - rough[j - 1][1])
        cut = (rough[k - 1][1] + max(rough[k][0], rough[k - 1][1])) / 2
        out.append((first, k, t0, cut))
        first, t0 = k, cut
    return out


def _align_sphinx_long(x: np.ndarray, rate: int, tokens: list[tuple[str, int, int]],
                       script: Script) -> tuple[list, list]:
    """English alignment of a long recording, piece by piece (see :data:`PIECE_SECONDS`);
    a piece PocketSphinx cannot align keeps the DTW pre-alignment."""
    from .align_dtw import align_dtw

    rough_words, rough_phonemes = align_dtw(x, rate, script)
    by_key = {(seg, char): (a, b) for _, seg, char, a, b in rough_words}
    rough: list[tuple[float, float]] = []
    for _, seg, char in tokens:
        last = rough[-1][1] if rough else 0.0
        rough.append(by_key.get((seg, char), (last, last)))
    words: list = []
    phonemes: list = []
    for first, end, a, b in _pieces(rough, x.size / rate):
        piece = tokens[first:end]
        try:
            w, p = _align_sphinx(x[int(round(a * rate)):int(round(b * rate))], rate, piece)
            words += [(t, s, c, wa + a, wb + a) for t, s, c, wa, wb in w]
            phonemes += [(sym, pa + a, pb + a, st) for sym, pa, pb, st in p]
        except AlignmentFailed:
            keys = {(s, c) for _, s, c in piece}
            words += [w for w in rough_words if (w[1], w[2]) in keys]
            phonemes += [p for p in rough_phonemes if a <= (p[1] + p[2]) / 2 < b]
    return words, phonemes


# --------------------------------------------------------------------------- assembly
def tile(phonemes: list[tuple[str, float, float, int]],
         duration: float) -> tuple[Phoneme, ...]:
    """Phonemes (symbol, start, end, stress) -> Phonemes tiling 0..duration.

    Times are clipped to the audio and made monotonic, gaps become pauses, neighbouring pauses
    merge and empty phonemes drop.
    """
    out: list[list] = []
    t = 0.0
    for sym, a, b, st in phonemes:
        a = min(max(a, t), duration)
        b = min(max(b, a), duration)
        if a > t + 1e-6:
            out.append([PAUSE, t, a, 0])
        if b - a <= 1e-6:
            continue
        out.append([sym, a, b, st])
        t = b
    if t < duration - 1e-6:
        out.append([PAUSE, t, duration, 0])
    merged: list[list] = []
    for item in out:
        if merged and item[0] == PAUSE and merged[-1][0] == PAUSE:
            merged[-1][2] = item[2]
        else:
            merged.append(item)
    return tuple(Phoneme(s, float(a), float(b), int(st)) for s, a, b, st in merged)


def make_words(words: list[tuple[str, int, int, float, float]],
               duration: float) -> tuple[Word, ...]:
    """(text, segment, char_start, start, end) -> Words clipped to the audio, monotonic."""
    out = []
    last = 0.0
    for text, seg, char, a, b in words:
        a = min(max(a, last), duration)
        b = min(max(b, a), duration)
        out.append(Word(text, float(a), float(b), segment=seg, char_start=char))
        last = a
    return tuple(out)


def align(samples: np.ndarray, sample_rate: int,
          script: Script) -> tuple[tuple[Word, ...], tuple[Phoneme, ...]]:
    """Force-align mono ``samples`` (N,) at ``sample_rate`` Hz to the words of ``script``.

    Returns (words, phonemes): every pronounceable script word with its segment and character
    offset, and IPA phonemes (eSpeak's symbol set, stress 2/1/0, ``"_"`` pauses) tiling the
    audio. English (the first spoken segment's language) uses PocketSphinx and falls back to
    DTW when PocketSphinx finds no path; other languages use DTW against eSpeak NG.

    Raises :class:`InputError` for unusable audio or a script without words and
    :class:`BackendError` when PocketSphinx is not installed.
    """
    x = check_audio(samples, sample_rate)
    duration = x.size / float(sample_rate)
    tokens = script_tokens(script)
    if not tokens:
        raise InputError("the transcript has no words to align")
    language = next(s.language for s in script.segments if s.text.strip())
    if is_english(language):
        try:
            if duration > 1.5 * PIECE_SECONDS:
                words, phonemes = _align_sphinx_long(x, sample_rate, tokens, script)
            else:
                words, phonemes = _align_sphinx(x, sample_rate, tokens)
            return make_words(words, duration), tile(phonemes, duration)
        except AlignmentFailed:
            pass
    from .align_dtw import align_dtw

    words, phonemes = align_dtw(x, sample_rate, script)
    return make_words(words, duration), tile(phonemes, duration)
