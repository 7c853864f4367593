# SPDX-License-Identifier: GPL-3.0-or-later
"""libespeak-ng from the ``espeakng-loader`` wheel through ctypes: the C API and the engine.

eSpeak runs in synchronous mode: ``espeak_Synth`` returns after calling our callback with 16-bit
audio chunks and events. Word events carry the 1-based character position of the word in the
text; phoneme events (enabled with the phoneme-event + IPA options) carry the IPA phoneme with its
stress mark (``ˈɑː``, ``ˌɪ``), ``""`` for a pause and ``"(en)"`` for a language switch. Every
event's ``sample`` field counts samples from the start of the call, so timings are exact to the
sample (its ``audio_position`` is rounded to milliseconds).

The library holds global state (voice, rate, callback): one :class:`Engine` serves the process,
created on first use by :func:`engine`, and :data:`LOCK` serialises everything that touches it.
"""

from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import dataclass

import numpy as np

from ..errors import BackendError
from . import VoiceInfo

# C API (speak_lib.h)
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
class Utterance:
    """One espeak_Synth call: int16 ``samples`` (N,), word and phoneme events.

    words: (0-based character position, sample); phonemes: (raw IPA string, sample).
    """

    samples: np.ndarray
    words: tuple[tuple[int, int], ...]
    phonemes: tuple[tuple[str, int], ...]


class Engine:
    """The process-wide eSpeak NG instance. Call its methods only while holding ``LOCK``."""

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

    def synth(self, text: str, voice: str, rate: int, pitch: int) -> Utterance:
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
        return Utterance(samples, tuple(self._words), tuple(self._phonemes))

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


LOCK = threading.Lock()
_ENGINE: Engine | None = None


def engine() -> Engine:
    """The engine, created on first use. Call with ``LOCK`` held."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine()
    return _ENGINE
