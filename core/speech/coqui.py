# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``coqui`` speech backend: a local Coqui TTS model (VITS, XTTS v2, ...) via coqui-tts.

The model is what ``TTS(model_path=, config_path=)`` loads: ``SpeechSettings.model`` names the
checkpoint (a ``.pth`` file; for XTTS v2 the folder holding ``model.pth``, ``vocab.json`` ...)
and ``config`` its ``config.json`` (default: ``config.json`` beside the checkpoint). Without a
model, ``voice`` names a folder in ``core.paths.cache_dir("voices", "coqui")`` holding both.

- ``speaker``: a speaker name of a multi-speaker model (default: its first speaker).
- ``language``: the language of a multilingual model (default: the script's, "en-us" -> "en").
- ``reference_wav``: a WAV of the voice to clone (XTTS v2, YourTTS); it replaces ``speaker``.
- rate: XTTS gets ``speed``; VITS-style models get their ``length_scale``. Other models speak at
  their own pace (a warning says so). Pitch and volume are applied afterwards (:mod:`.tone`).

Checkpoints are loaded by coqui-tts itself (``torch.load``; Coqui's released checkpoints need
its full unpickling, so load only models you trust). Models whose config says
``use_phonemes: true`` with the ``espeak`` phonemiser need the eSpeak NG *program* on the PATH
(``apt install espeak-ng``); character-based models do not. coqui-tts 0.28 imports torchaudio
and (with torch >= 2.9) torchcodec: install CPU builds matching your torch.
"""

from __future__ import annotations

import json
import logging
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import BackendError, InputError
from ..paths import cache_dir
from ..settings import SpeechSettings
from ..types import Script, Speech
from . import VoiceInfo, neural
from .cache import file_identity

log = logging.getLogger(__name__)
_LOCK = threading.Lock()


def voices_folder() -> Path:
    """Folder whose sub-folders (each a checkpoint + ``config.json``) are voices by name."""
    return cache_dir("voices", "coqui")


def _checkpoint_in(folder: Path) -> Path | None:
    for name in ("model.pth", "model_file.pth", "best_model.pth", "checkpoint.pth"):
        if (folder / name).is_file():
            return folder / name
    found = sorted(folder.glob("*.pth"))
    return found[0] if found else None


def resolve(settings: SpeechSettings) -> tuple[Path, Path]:
    """``(checkpoint file or XTTS folder, config.json)`` named by ``settings``."""
    if settings.model:
        model = Path(settings.model).expanduser()
    else:
        model = voices_folder() / settings.voice
        if not model.is_dir():
            raise InputError(f"no Coqui voice {settings.voice!r}: pass --voice-model MODEL.pth "
                             f"--voice-config config.json, or put a folder in {voices_folder()}")
    if not model.exists():
        raise InputError(f"Coqui model {model} does not exist")
    folder = model if model.is_dir() else model.parent
    config = Path(settings.config).expanduser() if settings.config else folder / "config.json"
    if not config.is_file():
        raise InputError(f"Coqui config {config} does not exist (pass --voice-config)")
    if model.is_dir() and "xtts" not in config.read_text(encoding="utf-8", errors="replace"):
        found = _checkpoint_in(model)
        if found is None:
            raise InputError(f"no .pth checkpoint in {model}")
        model = found
    return model, config


def _identity(path: Path) -> str:
    if path.is_dir():
        return ";".join(file_identity(p) for p in sorted(path.iterdir()) if p.is_file())
    return file_identity(path)


@lru_cache(maxsize=2)
def _load(model: str, config: str, stamp: str):
    """coqui-tts's ``TTS`` object for the files (``stamp`` = their identity)."""
    try:
        from TTS.api import TTS
    except ImportError as err:
        missing = getattr(err, "name", None) or "torchaudio/torchcodec"
        raise BackendError(f"the coqui voice needs coqui-tts with its audio packages ({missing} "
                           "is missing): pip install coqui-tts torchaudio torchcodec") from None
    try:
        return TTS(model_path=model, config_path=config, progress_bar=False)
    except (KeyError, ValueError, TypeError) as err:
        raise InputError(f"cannot load Coqui model {model} with {config}: {err}"
                         .splitlines()[0]) from None
    except (OSError, RuntimeError) as err:
        raise BackendError(f"cannot load Coqui model {model}: {err}".splitlines()[0]) from None


class CoquiEngine:
    """One loaded Coqui model with a chosen speaker; see :class:`.neural.Engine`."""

    backend = "coqui"
    max_chars = 250

    def __init__(self, settings: SpeechSettings) -> None:
        model, config = resolve(settings)
        self.files = f"{_identity(model)};{file_identity(config)}"
        self.tts = _load(str(model), str(config), self.files)
        self.sample_rate = int(self.tts.synthesizer.output_sample_rate)
        self.model = self.tts.synthesizer.tts_model
        self.cloning = bool(getattr(self.model.config, "supports_cloning", False))
        self.reference = _reference(settings.reference_wav)
        self.speaker = self._speaker(settings.speaker)
        self.language = settings.language
        self._warned = False

    def _speaker(self, wanted: str) -> str | None:
        if self.reference is not None:
            return None
        speakers = list(self.tts.speakers or []) if self.tts.is_multi_speaker else []
        if not speakers:
            if wanted:
                raise InputError(f"this Coqui model has one speaker; drop --speaker {wanted!r}")
            if self.cloning:
                raise InputError("this Coqui model clones voices: pass --reference-wav VOICE.wav")
            return None
        if not wanted:
            return speakers[0]
        if wanted not in speakers:
            raise InputError(f"the Coqui model has no speaker {wanted!r}; it has "
                             f"{', '.join(speakers[:12])}{' ...' if len(speakers) > 12 else ''}")
        return wanted

    def identity(self) -> dict[str, object]:
        ref = file_identity(self.reference) if self.reference else ""
        return {"files": self.files, "speaker": self.speaker, "reference": ref,
                "language": self.language}

    def resolve_language(self, language: str) -> str:
        return self.language or language

    def _language(self, language: str) -> str | None:
        if not self.tts.is_multi_lingual:
            return None
        code = (self.language or language).strip()
        try:
            known = list(self.tts.languages or [])
        except AttributeError:  # models without a language manager (XTTS) list them in config
            known = list(getattr(self.model.config, "languages", None) or [])
        for candidate in (code, code.lower(), code.split("-")[0].lower()):
            if not known or candidate in known:
                return candidate
        raise InputError(f"the Coqui model does not speak {code!r}; it speaks {', '.join(known)}")

    def speak(self, text: str, language: str, rate: float) -> np.ndarray:
        kwargs: dict[str, object] = {}
        with _LOCK:
            if self.cloning:
                kwargs["speed"] = rate
            elif hasattr(self.model, "length_scale"):
                base = float(getattr(self.model.args, "length_scale", 1.0) or 1.0)
                self.model.length_scale = base / rate
            elif abs(rate - 1.0) > 1e-3 and not self._warned:
                log.warning("this Coqui model has no rate control; it speaks at its own pace")
                self._warned = True
            try:
                wav = self.tts.tts(text, speaker=self.speaker, language=self._language(language),
                                   speaker_wav=str(self.reference) if self.reference else None,
                                   split_sentences=False, **kwargs)
            except (ValueError, KeyError) as err:
                raise InputError(f"Coqui could not speak {text[:40]!r}: {err}".splitlines()[0]
                                 ) from None
        return np.asarray(wav, dtype=np.float32).reshape(-1)


def _reference(path: str) -> Path | None:
    if not path:
        return None
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(f"reference voice {p} does not exist")
    return p


class CoquiBackend:
    """Speech backend ``coqui``."""

    def voices(self) -> list[VoiceInfo]:
        out = []
        for folder in sorted(p for p in voices_folder().iterdir() if p.is_dir()):
            try:
                cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            langs = cfg.get("languages") or [cfg.get("phoneme_language") or "en"]
            out.append(VoiceInfo(folder.name, folder.name, tuple(map(str, langs)), "unknown"))
        return out

    def synthesize(self, script: Script, settings: SpeechSettings) -> Speech:
        return neural.synthesize(CoquiEngine(settings), script, settings)
