# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``espeak`` speech backend: libespeak-ng from the ``espeakng-loader`` wheel via ctypes.

eSpeak runs in synchronous mode: ``espeak_Synth`` returns after calling our callback with 16-bit
audio chunks and events. Word events carry the 1-based character position of the word in the
text; phoneme events (enabled with the phoneme-event + IPA options) carry the IPA phoneme with its
stress mark (``ˈɑː``, ``ˌɪ``), ``""`` for a pause and ``"(en)"`` for a language switch. Every
event's ``sample`` field counts samples from the start of the call, so timings are exact to the
sample (its ``audio_position`` is rounded to milliseconds). Two boundaries are then moved to
where the sound is (:func:`_closure_onsets`, :func:`_vowel_ends`): eSpeak's events mark a stop's
release and a vowel's fade-out late for lip-sync.

The library holds global state (voice, rate, callback): one engine serves the process, created on
first use, and a lock serialises everything that touches it.
"""

from __future__ import annotations

import ctypes
import os
import re
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import BackendError, InputError
from ..settings import SpeechSettings
from ..types import Phoneme, Script, Speech, Word
from . import VoiceInfo

# --------------------------------------------------------------------------- C API (speak_lib.h)
_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS, _INIT_PHONEME_IPA, _INIT_DONT_EXIT = 0x1, 0x2, 0x8000
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE, _PARAM_PITCH = 1, 3
_PHONEMES_IPA = 0x02
_BUFFER_MS = 100


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


def _declare(lib: ctypes.CDLL) -> None:
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_Voice)]
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
        ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
    ]
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_TextToPhonemes.argtypes = [
        ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int,
    ]
    lib.espeak_TextToPhonemes.restype = ctypes.c_char_p


_GENDERS = {1: "male", 2: "female"}


def _languages(address: int | None) -> list[tuple[int, str]]:
    """Decode espeak_VOICE.languages: (priority byte, NUL-terminated name) pairs, then a 0 byte."""
    out: list[tuple[int, str]] = []
    while address:
        priority = ctypes.c_ubyte.from_address(address).value
        if priority == 0:
            break
        name = ctypes.string_at(address + 1)
        out.append((priority, name.decode("utf-8", "replace")))
        address += len(name) + 2
    return out


@dataclass(frozen=True)
class _Utterance:
    """One espeak_Synth call: int16 ``samples`` (N,), word and phoneme events.

    words: (0-based character position, sample); phonemes: (raw IPA string, sample).
    """

    samples: np.ndarray
    words: tuple[tuple[int, int], ...]
    phonemes: tuple[tuple[str, int], ...]


class _Engine:
    """The process-wide eSpeak NG instance. Call its methods only while holding ``_LOCK``."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError:
            raise BackendError(
                "the espeak speech backend needs espeakng-loader: pip install espeakng-loader"
            ) from None
        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data = espeakng_loader.get_data_path()
        except (OSError, RuntimeError) as err:
            raise BackendError(f"cannot load eSpeak NG: {err}") from None
        _declare(lib)
        options = _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA | _INIT_DONT_EXIT
        rate = lib.espeak_Initialize(
            _OUTPUT_SYNCHRONOUS, _BUFFER_MS, os.fsencode(os.path.dirname(data)), options
        )
        if rate <= 0:
            raise BackendError(f"eSpeak NG failed to initialise with data in {data}")
        self.lib = lib
        self.sample_rate = int(rate)
        self._chunks: list[np.ndarray] = []
        self._words: list[tuple[int, int]] = []
        self._phonemes: list[tuple[str, int]] = []
        self._callback = _SynthCallback(self._on_synth)  # kept alive with the engine
        lib.espeak_SetSynthCallback(self._callback)
        self.voices, self.language_voice = self._list_voices()
        self.variants = self._list_variants()

    def _on_synth(self, wav, count: int, events) -> int:
        if count > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == _EVENT_WORD:
                self._words.append((ev.text_position - 1, ev.sample))
            elif ev.type == _EVENT_PHONEME:
                # A name filling all 8 bytes has no NUL and may end inside a UTF-8 sequence.
                self._phonemes.append((ev.id.string.decode("utf-8", "ignore"), ev.sample))
            i += 1
        return 0

    def _list_voices(self) -> tuple[tuple[VoiceInfo, ...], dict[str, VoiceInfo]]:
        """All language voices, and the best voice (lowest espeak priority) per language code."""
        voices: list[VoiceInfo] = []
        best: dict[str, tuple[int, VoiceInfo]] = {}
        table = self.lib.espeak_ListVoices(None)
        i = 0
        while table[i]:
            v = table[i].contents
            langs = _languages(v.languages)
            info = VoiceInfo(
                name=v.name.decode("utf-8", "replace"),
                identifier=v.identifier.decode("utf-8", "replace"),
                languages=tuple(code for _, code in langs),
                gender=_GENDERS.get(v.gender, "unknown"),
            )
            voices.append(info)
            for priority, code in langs:
                if code not in best or priority < best[code][0]:
                    best[code] = (priority, info)
            i += 1
        return tuple(voices), {code: info for code, (_, info) in best.items()}

    def _list_variants(self) -> dict[str, str]:
        """Voice variants (``+f3``, ``+klatt``): lower-case name -> file name."""
        keep = ctypes.c_char_p(b"variant")
        spec = _Voice(languages=ctypes.cast(keep, ctypes.c_void_p).value)
        table = self.lib.espeak_ListVoices(ctypes.byref(spec))
        out: dict[str, str] = {}
        i = 0
        while table[i]:
            v = table[i].contents
            file = v.identifier.decode("utf-8", "replace").rsplit("/", 1)[-1]
            out[file.lower()] = file
            out.setdefault(v.name.decode("utf-8", "replace").lower(), file)
            i += 1
        return out

    def set_voice(self, voice: str) -> None:
        """Select ``voice``: a voice identifier, optionally with ``+variant``."""
        if self.lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
            raise BackendError(f"eSpeak NG could not load voice {voice!r}")

    def synth(self, text: str, voice: str, rate: int, pitch: int) -> _Utterance:
        """Speak ``text`` with ``voice`` (see :meth:`set_voice`)."""
        self.set_voice(voice)
        self.lib.espeak_SetParameter(_PARAM_RATE, int(rate), 0)
        self.lib.espeak_SetParameter(_PARAM_PITCH, int(pitch), 0)
        self._chunks, self._words, self._phonemes = [], [], []
        data = text.replace("\x00", " ").encode("utf-8")
        err = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8,
                                    None, None)
        if err != 0:
            raise BackendError(f"eSpeak NG synthesis failed with error {err}")
        samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return _Utterance(samples, tuple(self._words), tuple(self._phonemes))

    def phonemes(self, text: str, voice: str) -> str:
        """IPA for ``text`` from espeak_TextToPhonemes, one call per clause."""
        self.set_voice(voice)
        buf = ctypes.create_string_buffer(text.replace("\x00", " ").encode("utf-8"))
        ptr = ctypes.c_void_p(ctypes.addressof(buf))
        clauses = []
        while ptr.value:  # eSpeak advances ptr clause by clause and sets it to NULL at the end
            before = ptr.value
            out = self.lib.espeak_TextToPhonemes(ctypes.byref(ptr), _CHARS_UTF8, _PHONEMES_IPA)
            if out:
                clauses.append(out.decode("utf-8", "replace").strip())
            if ptr.value == before:
                break
        return " ".join(c for c in clauses if c)


_LOCK = threading.Lock()
_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    """The engine, created on first use. Call with ``_LOCK`` held."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE


# --------------------------------------------------------------------------- voices
def _norm(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def _primary(code: str) -> str:
    return code.split("-", 1)[0]


def _unknown_voice(spec: str) -> InputError:
    return InputError(f"unknown voice {spec!r}; run `paksatalker voices` to list them")


def _find_voice(engine: _Engine, spec: str) -> tuple[VoiceInfo, str]:
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


def _voice_for_language(engine: _Engine, language: str) -> VoiceInfo:
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


# --------------------------------------------------------------------------- phonemes
_STRESS_MARKS = {"ˈ": 2, "ˌ": 1}
_ESPEAK_TO_IPA = {
    # eSpeak's Mandarin phoneme names that are ASCII mnemonics rather than IPA.
    "ph": "pʰ", "th": "tʰ", "kh": "kʰ", "tsh": "tsʰ", "tɕh": "tɕʰ",
    "ts.": "ʈʂ", "ts.h": "ʈʂʰ", "s.": "ʂ", "i.": "ɻ̩", "o-": "ɤ",
}
PAUSE = "_"


def _parse_symbol(raw: str) -> tuple[str, int] | None:
    """A phoneme event's name -> (IPA symbol, stress); None for language-switch markers."""
    if not raw:
        return PAUSE, 0
    if raw.startswith("("):
        return None
    stress = max((s for mark, s in _STRESS_MARKS.items() if mark in raw), default=0)
    symbol = raw.replace("ˈ", "").replace("ˌ", "")
    symbol = _ESPEAK_TO_IPA.get(symbol, symbol.rstrip("-"))  # French "ə-", "a-": optional vowels
    return (symbol, stress) if symbol else None


def _is_modifier(symbol: str) -> bool:
    """Symbols like "ʲ" or "ː" alone: they modify the previous phoneme."""
    return all(unicodedata.category(c) in ("Lm", "Mn") for c in symbol)


def _collect_phonemes(
    events: Sequence[tuple[str, int]], offset: int, count: int, out: list[list]
) -> None:
    """Append [symbol, start sample, stress] items of one utterance to ``out``.

    ``offset`` is the utterance's first sample in the whole speech, ``count`` its length. Pauses
    mark its start and end, so phonemes tile the audio once :func:`_timeline` has run.
    """
    out.append([PAUSE, offset, 0])
    for raw, sample in events:
        parsed = _parse_symbol(raw)
        if parsed is None:
            continue
        symbol, stress = parsed
        start = max(offset + min(max(sample, 0), count), out[-1][1])
        if symbol != PAUSE and _is_modifier(symbol):
            if out[-1][0] != PAUSE:
                out[-1][0] += symbol
            continue
        out.append([symbol, start, stress])
    out.append([PAUSE, offset + count, 0])


_SILENT = 1
"""Largest |int16 sample| that counts as eSpeak's digital silence."""
_MIN_CLOSURE = 0.005
"""Shortest digital silence inside speech that is a stop closure (s)."""
_RELEASE_SLACK = 0.002
"""Most sound (s) allowed between a closure's end and the event that follows it."""


def _closure_onsets(
    phonemes: list[tuple[str, int, int, int]], pcm: np.ndarray, rate: int
) -> list[tuple[str, int, int, int]]:
    """Move each stop's start back to its closure.

    eSpeak sends a stop's event (p, t, k, often b, d) at its release: the closure, 20-50 ms of
    digital silence, comes before the event and would count as the end of the previous phoneme
    (a vowel would stay open through it). Annotated speech, and the face, which shuts the lips
    over a p/b/m, put the closure in the stop. A phoneme that follows a spoken phoneme whose
    audio ends in at least :data:`_MIN_CLOSURE` s of silence (up to :data:`_RELEASE_SLACK` s
    before the event) starts where that silence starts. ``phonemes`` are (symbol, start, end,
    stress) in samples of ``pcm`` (int16, the whole speech).
    """
    quiet = np.abs(pcm.astype(np.int32)) <= _SILENT
    slack, shortest = int(_RELEASE_SLACK * rate), int(_MIN_CLOSURE * rate)
    out = list(phonemes)
    for k in range(1, len(out)):
        before, (symbol, start, end, stress) = out[k - 1], out[k]
        if PAUSE in (symbol, before[0]) or start - before[1] <= shortest:
            continue
        near = before[1] + max(0, start - slack - before[1])
        tail = np.flatnonzero(quiet[near:start])
        if not tail.size:
            continue
        stop = near + int(tail[-1]) + 1
        sound = np.flatnonzero(~quiet[before[1]:stop])
        begin = before[1] + (int(sound[-1]) + 1 if sound.size else 0)
        if stop - begin >= shortest and begin > before[1]:
            out[k - 1] = (before[0], before[1], begin, before[3])
            out[k] = (symbol, begin, end, stress)
    return out


def _vowel_ends(
    phonemes: list[tuple[str, int, int, int]], pcm: np.ndarray, rate: int
) -> list[tuple[str, int, int, int]]:
    """Move each vowel-to-consonant boundary to where the vowel's sound ends.

    eSpeak's event for a consonant after a vowel comes 20-60 ms after the vowel's loudness has
    fallen (the vowel fades into the transition), where annotated speech puts the boundary at
    the fall: on the 7 reference clips of bench/lipsync_bench.py (PocketSphinx and Praat
    annotations), the vowel's short-time energy (20 ms windows, two voice periods) at the
    annotated end is -3.2 dB (median of 102) below its peak. So the boundary moves to the
    centre of the last window at or above half the vowel's peak energy (never
    earlier than the vowel's middle, never later than eSpeak's event). ``phonemes`` are
    (symbol, start, end, stress) in samples of ``pcm`` (int16, the whole speech).
    """
    from ..face.visemes import is_vowel  # light module (names only); lazy: no import cycle

    out = list(phonemes)
    win, hop = max(1, int(0.02 * rate)), max(1, int(0.0025 * rate))
    for k in range(len(out) - 1):
        symbol, start, end, stress = out[k]
        after = out[k + 1]
        if after[0] == PAUSE or not is_vowel(symbol) or is_vowel(after[0]):
            continue
        x = pcm[start:end].astype(np.float64)
        n = (len(x) - win) // hop + 1
        if n < 3:
            continue
        energy = np.array([np.mean(x[j * hop:j * hop + win] ** 2) for j in range(n)])
        if energy.max() <= 0.0:
            continue
        last = int(np.flatnonzero(energy >= energy.max() / 2)[-1])
        cut = max(start + last * hop + win // 2, (start + end) // 2)
        if cut < end:
            out[k] = (symbol, start, cut, stress)
            out[k + 1] = (after[0], cut, after[2], after[3])
    return out


def _timeline(items: list[list], total: int) -> list[tuple[str, int, int, int]]:
    """Items [symbol, start, stress] -> (symbol, start, end, stress), end = next start.

    Zero-length pauses go, consecutive pauses merge; the last item ends at ``total`` samples.
    """
    out: list[tuple[str, int, int, int]] = []
    for k, (symbol, start, stress) in enumerate(items):
        end = items[k + 1][1] if k + 1 < len(items) else total
        if symbol == PAUSE:
            if end == start:
                continue
            if out and out[-1][0] == PAUSE:
                out[-1] = (PAUSE, out[-1][1], end, 0)
                continue
        out.append((symbol, start, end, stress))
    return out


# --------------------------------------------------------------------------- words
_TOKEN = re.compile(r"\S+")
_UNSPACED_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HALFWIDTH", "THAI", "LAO", "KHMER",
                     "MYANMAR", "TIBETAN")


def _unspaced(char: str) -> bool:
    """True for characters of scripts written without spaces between words."""
    return unicodedata.name(char, "").split(" ", 1)[0] in _UNSPACED_SCRIPTS


_READ_ALOUD = frozenset("%‰&@#")


def _silent(char: str) -> bool:
    """Punctuation that is not read as a word (unlike "%" or "&")."""
    return unicodedata.category(char).startswith("P") and char not in _READ_ALOUD


def _strip_punctuation(token: str) -> tuple[str, int]:
    """``token`` without silent punctuation at its ends, and how many characters left its front."""
    lead = 0
    while lead < len(token) and _silent(token[lead]):
        lead += 1
    end = len(token)
    while end > lead and _silent(token[end - 1]):
        end -= 1
    return token[lead:end], lead


def _speakable(token: str) -> bool:
    """False for tokens of punctuation only ("—", "..."), which eSpeak does not read."""
    return not all(_silent(c) for c in token)


def _word_spans(text: str, events: Sequence[tuple[int, int]]) -> list[tuple[str, int, int]]:
    """Word events -> (word, char_start, sample), one per spoken word of ``text``.

    Words are the whitespace-separated tokens of ``text`` (punctuation at their ends removed);
    an event's character position picks its token, the last one starting at or before it.
    eSpeak's positions are hints, not exact:

    - a token read as several words ("1999", "$20", "GmbH") gets events inside itself: they
      stay one word;
    - an event that lands in or before the current token while the next token gets no event
      of its own belongs to that next token (eSpeak places the second word of dictionary
      phrases like "déjà vu" one character after the first, and sometimes a word's position
      one character early);
    - in scripts written without spaces (Chinese, Japanese, Thai) an event inside a token
      starts a new word there.
    """
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text) if _speakable(m.group())]
    starts = [s for s, _ in tokens]
    hints = [max(0, bisect_right(starts, pos) - 1) for pos, _ in events]
    last_hint = {hint: k for k, hint in enumerate(hints)}
    spans: list[tuple[int, int, int]] = []  # (token index, char_start, sample)
    for k, ((pos, sample), hint) in enumerate(zip(events, hints)):
        if not tokens:
            break
        if not spans or hint > spans[-1][0]:
            spans.append((hint, tokens[hint][0], sample))
            continue
        current, current_start, _ = spans[-1]
        if hint == current and current_start < pos < tokens[current][1] and _unspaced(text[pos]):
            spans.append((current, pos, sample))
        elif current + 1 < len(tokens) and last_hint.get(current + 1, -1) < k:
            spans.append((current + 1, tokens[current + 1][0], sample))
    out = []
    for k, (ti, start, sample) in enumerate(spans):
        same_token = k + 1 < len(spans) and spans[k + 1][0] == ti
        end = spans[k + 1][1] if same_token else tokens[ti][1]
        word, lead = _strip_punctuation(text[start:end])
        if word:
            out.append((word, start + lead, sample))
    return out


def _word_times(
    spans: list[tuple[str, int, int]], events: list[tuple[str, int, int, int]],
    phonemes: list[tuple[str, int, int, int]], offset: int, end: int,
) -> list[tuple[int, int]]:
    """(start, end) samples of each word: the span of its non-pause phonemes.

    A phoneme belongs to the word whose event precedes the phoneme's own event: ``events`` are
    the phonemes at eSpeak's event times, ``phonemes`` the same phonemes with refined
    boundaries, which give the times (``offset`` shifts event samples into the whole speech;
    ``end`` closes the last word). A word without phonemes keeps its event time and lasts until
    the next word.
    """
    marks = [offset + s for _, _, s in spans] + [end]
    starts = [p[1] for p in events]
    out = []
    for k in range(len(spans)):
        lo, hi = marks[k], max(marks[k], marks[k + 1])
        i, j = bisect_right(starts, lo - 1), bisect_right(starts, hi - 1)
        own = [p for p in phonemes[i:j] if p[0] != PAUSE]
        out.append((own[0][1], own[-1][2]) if own else (lo, hi))
    for k in range(1, len(out)):  # keep word starts monotonic
        if out[k][0] < out[k - 1][0]:
            out[k] = (out[k - 1][0], max(out[k - 1][0], out[k][1]))
    return out


def _split_merged(
    text: str, spans: list[tuple[str, int, int]], times: list[tuple[int, int]]
) -> tuple[list[tuple[str, int, int]], list[tuple[int, int]]]:
    """Give every token its own word when eSpeak read several as one ("I am" is one event).

    Tokens that got no word of their own share the time of the word before them, split in
    proportion to their lengths in characters.
    """
    words = []
    for m in _TOKEN.finditer(text):
        if _speakable(m.group()):
            word, lead = _strip_punctuation(m.group())
            words.append((word, m.start() + lead))
    out_spans: list[tuple[str, int, int]] = []
    out_times: list[tuple[int, int]] = []
    for k, (span, (a, b)) in enumerate(zip(spans, times)):
        nxt = spans[k + 1][1] if k + 1 < len(spans) else len(text)
        group = [span] + [(w, st, span[2]) for w, st in words
                          if w and span[1] + len(span[0]) <= st < nxt]
        weights = np.cumsum([0] + [max(1, len(w)) for w, _, _ in group], dtype=float)
        edges = a + (b - a) * weights / weights[-1]
        for g, lo, hi in zip(group, edges[:-1], edges[1:]):
            out_spans.append(g)
            out_times.append((int(round(lo)), int(round(hi))))
    return out_spans, out_times


# --------------------------------------------------------------------------- backend
def list_voices() -> list[VoiceInfo]:
    """eSpeak NG's language voices. A variant suffix such as ``+f3`` (female) or ``+klatt``
    can follow any of them in SpeechSettings.voice."""
    with _LOCK:
        return list(_engine().voices)


def phonemize(text: str, voice: str = "en-us") -> str:
    """eSpeak's IPA for ``text``: stress marks (``ˈ``, ``ˌ``) before vowels, words separated by
    spaces, e.g. ``phonemize("Hello world") == "həlˈoʊ wˈɜːld"``. ``voice`` as in
    SpeechSettings. The string is eSpeak's own (Mandarin keeps tone digits and ``s.``-style
    names, which speech events turn into IPA)."""
    with _LOCK:
        engine = _engine()
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
        with _LOCK:
            engine = _engine()
            voice, variant = _find_voice(engine, settings.voice)
            utterances: list[_Utterance | None] = []
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


def _assemble(script: Script, utterances: list[_Utterance | None], rate: int,
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
        _collect_phonemes(() if utt is None else utt.phonemes, offset, count, items)
        bounds.append((offset, offset + count))
        gap = int(round(seg.pause_after * rate))
        parts.append(np.zeros(gap, np.int16))
        offset += count + gap
    if not any(utt is not None and len(utt.samples) for utt in utterances):
        raise InputError("eSpeak NG produced no audio for the script")
    pcm = np.concatenate(parts)
    events = _timeline(items, offset)  # eSpeak's own timings: they place words
    phonemes = _closure_onsets(events, pcm, rate)
    if vowel_ends:
        phonemes = _vowel_ends(phonemes, pcm, rate)
    words: list[Word] = []
    for index, (seg, utt) in enumerate(zip(script.segments, utterances)):
        if utt is None:
            continue
        spans = _word_spans(seg.text, utt.words)
        times = _word_times(spans, events, phonemes, bounds[index][0], bounds[index][1])
        spans, times = _split_merged(seg.text, spans, times)
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
