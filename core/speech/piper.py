# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``piper`` speech backend: a Piper voice (``.onnx`` + its ``.onnx.json``) via piper-tts.

A voice is chosen by ``SpeechSettings.model`` (path of the ``.onnx``; ``config`` defaults to the
file beside it with ``.json`` appended), or by ``voice`` naming a ``.onnx`` in
``core.paths.cache_dir("voices", "piper")`` by its stem. piper-tts reads text with its own
bundled eSpeak NG (no system package needed). ``speaker`` picks a speaker of a multi-speaker voice
by name (its ``speaker_id_map``) or index. The rate goes to Piper's ``length_scale``; timings come
from forced alignment.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import BackendError, InputError
from ..paths import cache_dir
from ..settings import SpeechSettings
from ..types import Script, Speech
from . import VoiceInfo, hygiene, neural
from .cache import file_identity


def voices_folder() -> Path:
    """Folder whose ``<name>.onnx`` (+ ``<name>.onnx.json``) voices are offered by name."""
    return cache_dir("voices", "piper")


def resolve(settings: SpeechSettings) -> tuple[Path, Path]:
    """``(model .onnx, config .json)`` named by ``settings`` (see the module doc)."""
    if settings.model:
        model = Path(settings.model).expanduser()
    else:
        model = voices_folder() / f"{settings.voice}.onnx"
        if not model.is_file():
            raise InputError(f"no Piper voice {settings.voice!r}: pass --voice-model VOICE.onnx "
                             f"or put {settings.voice}.onnx(.json) in {voices_folder()}")
    config = Path(settings.config).expanduser() if settings.config else Path(f"{model}.json")
    for path, what in ((model, "voice model"), (config, "voice config")):
        if not path.is_file():
            raise InputError(f"Piper {what} {path} does not exist")
    return model, config


@lru_cache(maxsize=2)
def _load(model: str, config: str, stamp: str):
    """A loaded PiperVoice (``stamp`` = the files' identity, so edited files reload)."""
    try:
        from piper import PiperVoice
    except ImportError:
        raise BackendError("the piper voice needs piper-tts: pip install piper-tts") from None
    try:
        return PiperVoice.load(model, config_path=config)
    except (KeyError, ValueError, json.JSONDecodeError) as err:
        raise InputError(f"bad Piper voice config {config}: {err!r}") from None
    except Exception as err:  # onnxruntime raises its own exception types
        raise BackendError(f"cannot load Piper voice {model}: {err}".splitlines()[0]) from None


class PiperEngine:
    """One Piper voice; see :class:`.neural.Engine`."""

    backend = "piper"
    max_chars = 400

    def __init__(self, model: Path, config: Path, speaker: str = "") -> None:
        self.files = f"{file_identity(model)};{file_identity(config)}"
        self.voice = _load(str(model), str(config), self.files)
        cfg = self.voice.config
        self.sample_rate = int(cfg.sample_rate)
        self.speaker_id = _speaker_id(speaker, dict(cfg.speaker_id_map), int(cfg.num_speakers))

    def identity(self) -> dict[str, object]:
        return {"files": self.files, "speaker": self.speaker_id}

    def resolve_language(self, language: str) -> str:
        """A Piper voice speaks one language: its eSpeak voice (``en-us``) names it."""
        return str(self.voice.config.espeak_voice or language)

    def speak(self, text: str, language: str, rate: float) -> np.ndarray:
        from piper import SynthesisConfig

        cfg = self.voice.config
        syn = SynthesisConfig(speaker_id=self.speaker_id, length_scale=cfg.length_scale / rate,
                              normalize_audio=False)
        try:
            chunks = [c.audio_float_array for c in self.voice.synthesize(text, syn_config=syn)]
        except KeyError as err:
            raise InputError(f"the Piper voice has no phoneme {err} needed for {text[:40]!r}"
                             ) from None
        if not chunks:
            raise InputError(f"Piper produced no audio for {text[:40]!r}")
        if len(chunks) == 1:
            return chunks[0]
        return hygiene.join(chunks, self.sample_rate, [neural.SENTENCE_GAP] * (len(chunks) - 1))[0]


def _speaker_id(speaker: str, names: dict[str, int], count: int) -> int | None:
    if count <= 1:
        return None
    if not speaker:
        return None
    if speaker in names:
        return int(names[speaker])
    if speaker.isdigit() and int(speaker) < count:
        return int(speaker)
    known = ", ".join(sorted(names)) or f"0..{count - 1}"
    raise InputError(f"the Piper voice has no speaker {speaker!r}; it has {known}")


class PiperBackend:
    """Speech backend ``piper``."""

    def voices(self) -> list[VoiceInfo]:
        out = []
        for model in sorted(voices_folder().glob("*.onnx")):
            try:
                cfg = json.loads(Path(f"{model}.json").read_text(encoding="utf-8"))
                language = str(cfg.get("espeak", {}).get("voice", "")) or "unknown"
            except (OSError, ValueError):
                continue
            out.append(VoiceInfo(model.stem, model.stem, (language,), "unknown"))
        return out

    def synthesize(self, script: Script, settings: SpeechSettings) -> Speech:
        model, config = resolve(settings)
        return neural.synthesize(PiperEngine(model, config, settings.speaker), script, settings)
