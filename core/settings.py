# SPDX-License-Identifier: GPL-3.0-or-later
"""Typed, frozen settings for each job, built once by a front door (CLI, add-on, job file)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InputError


@dataclass(frozen=True)
class SpeechSettings:
    backend: str = "auto"
    """"auto": Kokoro when installed, else eSpeak NG (see core.speech.default_backend)."""
    voice: str = "en-us"
    rate: int = 165
    """Words per minute (eSpeak: 80..450)."""
    pitch: int = 50
    """0..100, 50 is the voice's normal pitch."""
    model: str = ""
    """Neural voices: model file (Kokoro/Piper .onnx, Coqui checkpoint .pth); "" = packaged."""
    config: str = ""
    """Neural voices: config file (Piper .onnx.json, Coqui config.json)."""
    speaker: str = ""
    """Speaker name or index of a multi-speaker model (Coqui, Piper); "" = its default."""
    language: str = ""
    """Language id passed to multilingual models (XTTS "en", Kokoro eSpeak "en-gb"); "" = auto."""
    reference_wav: str = ""
    """XTTS v2: WAV of the voice to clone (a few seconds of clean speech)."""
    volume: float = 1.0
    """Gain factor 0..4 applied after loudness normalisation."""
    target_lufs: float = -16.0
    """Loudness of neural voices (ITU-R BS.1770 LUFS, -40..-5); 0 = leave as synthesised."""
    sample_rate: int = 0
    """Neural voices: resample to this rate (8000..96000 Hz); 0 = the model's own rate."""
    cache: bool = True
    """Neural voices: reuse synthesised sentences from the on-disk cache."""

    def __post_init__(self) -> None:
        if not 80 <= self.rate <= 450:
            raise InputError(f"speech rate must be 80..450 words per minute, got {self.rate}")
        if not 0 <= self.pitch <= 100:
            raise InputError(f"pitch must be 0..100, got {self.pitch}")
        if not 0 <= self.volume <= 4:
            raise InputError(f"volume must be 0..4, got {self.volume}")
        if not (self.target_lufs == 0 or -40 <= self.target_lufs <= -5):
            raise InputError(f"loudness must be -40..-5 LUFS (0: off), got {self.target_lufs}")
        if not (self.sample_rate == 0 or 8000 <= self.sample_rate <= 96000):
            raise InputError(f"sample rate must be 8000..96000 Hz (or 0), got {self.sample_rate}")


@dataclass(frozen=True)
class FaceSettings:
    """Face stage controls. Each slider's range is in FACE_RANGES; 1.0 is the natural default
    of the amount sliders (0 turns that part of the life layer off)."""

    backend: str = "visemes"
    seed: int = 0
    """Seed of every random choice of the face (same seed, same face)."""
    blink_rate: float = 17.0
    """Blinks per minute, 0..60 (people blink 10..25 times a minute while talking)."""
    articulation: float = 1.0
    """Scale of mouth shapes, 0..2 (0.5 mumbles, 1.2 over-articulates)."""
    emotion_strength: float = 1.0
    """Scale of the script's emotion intensities, 0..2 (results are clipped to 0..1)."""
    emotion_ease: float = 0.35
    """Seconds an emotion change between segments takes, 0.2..3."""
    gaze_at_camera: float = 0.75
    """Share of the time the eyes rest on the camera, 0..1."""
    saccades: float = 1.0
    """Amount of small eye jumps during fixations, 0..2."""
    micro_expressions: float = 1.0
    """Amount of brief involuntary expressions (brow flashes, lip presses, ...), 0..2."""
    breathing: float = 1.0
    """Visible breathing in the face (nostrils, lips parting on inhales), 0..2."""
    head_motion: float = 1.0
    """Prosody-driven head motion (pitch and loudness), 0..2."""
    asymmetry: float = 1.0
    """Left/right differences of shapes and timing, 0..2."""
    flame_model: str = ""
    """User's SMPL-X or FLAME ``.npz``; when set the face also gets FLAME-100 expressions + jaw
    fitted through that model's landmarks (docs/smplx_flame.md)."""
    sadtalker_checkpoint: str = ""
    """User's SadTalker audio2exp checkpoint (``auido2exp_00300-model.pth``) for backend
    ``"sadtalker"``."""
    bfm_model: str = ""
    """User's ``BFM_model_front.mat`` (SadTalker's BFM), to convert BFM-64 expressions to FLAME."""

    def __post_init__(self) -> None:
        for name, (lo, hi) in FACE_RANGES.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
                raise InputError(f"face {name.replace('_', ' ')} must be a number in "
                                 f"{lo:g}..{hi:g}, got {v!r}")
        if isinstance(self.seed, bool) or not hasattr(self.seed, "__index__"):
            raise InputError(f"face seed must be an integer, got {self.seed!r}")


FACE_RANGES: dict[str, tuple[float, float]] = {
    "blink_rate": (0.0, 60.0), "articulation": (0.0, 2.0), "emotion_strength": (0.0, 2.0),
    "emotion_ease": (0.2, 3.0), "gaze_at_camera": (0.0, 1.0), "saccades": (0.0, 2.0),
    "micro_expressions": (0.0, 2.0), "breathing": (0.0, 2.0), "head_motion": (0.0, 2.0),
    "asymmetry": (0.0, 2.0),
}
"""Valid range of each FaceSettings slider (inclusive)."""


BODY_STYLES = ("professional", "casual", "lecturer", "excited")
HANDEDNESS = ("right", "left", "both")
EMAGE_ROOT_POLICIES = ("in_place", "keep")


@dataclass(frozen=True)
class BodySettings:
    backend: str = "procedural"
    seed: int = 0
    energy: float = 0.6
    """0 keeps still, 1 is very animated."""
    gesture_rate: float = 1.0
    """Multiplier on how many stressed words get a gesture (0..3)."""
    amplitude: float = 1.0
    """Multiplier on gesture size (0..2)."""
    handedness: str = "right"
    """Dominant hand: right, left, or both (symmetric)."""
    style: str = "casual"
    """Preset: professional, casual, lecturer or excited (see core/body/styles.py)."""
    root: str = "in_place"
    """EMAGE import: in_place removes root drift, keep leaves the translation as it is."""
    foot_lock: bool = True
    """EMAGE import: pin planted feet (removes foot sliding)."""
    blend: float = 0.5
    """EMAGE import: seconds to blend its start and end into our idle motion."""
    emage_dir: str = ""
    """Backend "emage": folder of the user's PantoMatrix checkout (with its EMAGE script)."""
    emage_python: str = ""
    """Backend "emage": Python of the environment EMAGE is installed in (default: this one)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.energy <= 1.0:
            raise InputError(f"gesture energy must be 0..1, got {self.energy}")
        if not 0.0 <= self.gesture_rate <= 3.0:
            raise InputError(f"gesture rate must be 0..3, got {self.gesture_rate}")
        if not 0.0 <= self.amplitude <= 2.0:
            raise InputError(f"gesture amplitude must be 0..2, got {self.amplitude}")
        if self.handedness not in HANDEDNESS:
            raise InputError(f"handedness must be one of {', '.join(HANDEDNESS)}, "
                             f"got {self.handedness!r}")
        if self.style not in BODY_STYLES:
            raise InputError(f"body style must be one of {', '.join(BODY_STYLES)}, "
                             f"got {self.style!r}")
        if self.root not in EMAGE_ROOT_POLICIES:
            raise InputError(f"root policy must be one of {', '.join(EMAGE_ROOT_POLICIES)}, "
                             f"got {self.root!r}")
        if not 0.0 <= self.blend <= 5.0:
            raise InputError(f"blend must be 0..5 s, got {self.blend}")


@dataclass(frozen=True)
class ScriptSettings:
    """How an LLM script backend ("qwen-local", "openai") writes a script from a brief.

    The pass-through "markup" backend ignores these. See docs/llm.md.
    """

    endpoint: str = ""
    """qwen-local: model folder or HF repo id (read from the HF cache, offline); openai: base URL
    such as ``http://127.0.0.1:8000/v1``."""
    model: str = ""
    """openai: the server's model name (e.g. ``Qwen/Qwen2.5-7B-Instruct``, ``qwen2.5:7b``)."""
    api_key_env: str = ""
    """openai: NAME of the environment variable holding the API key (the key is never stored)."""
    language: str = ""
    """Script language id; empty: the voice's language (pipeline) or the brief's (CLI)."""
    duration: float = 30.0
    """Target length of the spoken script, seconds."""
    words_per_minute: int = 150
    persona_name: str = ""
    persona_role: str = "presenter"
    tone: str = "friendly"
    formality: str = "neutral"
    """casual, neutral or formal."""
    glossary: tuple[tuple[str, str], ...] = ()
    """(term, meaning or required spelling) pairs the script must respect."""
    temperature: float = 0.7
    max_tokens: int = 1024
    attempts: int = 3
    """Generations tried (the validation error is fed back each time) before giving up."""
    on_failure: str = "error"
    """"error", or "brief": speak the brief itself as markup (reported as a fallback)."""
    block_terms: tuple[str, ...] = ()
    """Extra words/phrases that block a brief or a script (moderation)."""
    timeout: float = 120.0
    """openai: seconds per HTTP request."""
    retries: int = 3
    """openai: extra tries after HTTP 429/5xx, timeouts or dropped connections."""
    stream: bool = False
    """openai: stream tokens (server-sent events)."""
    device: str = "auto"
    """qwen-local: auto, cpu or cuda."""
    dtype: str = "auto"
    """qwen-local: auto, float32, bfloat16 or float16."""
    quantization: str = ""
    """qwen-local: "", "4bit" or "8bit" (bitsandbytes, CUDA only)."""
    cache: bool = True
    """Reuse answers for the same model, prompt and parameters (see core/script/llm_cache.py)."""
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1.0 <= self.duration <= 1800.0:
            raise InputError(f"script duration must be 1..1800 s, got {self.duration}")
        if not 60 <= self.words_per_minute <= 300:
            raise InputError(f"words per minute must be 60..300, got {self.words_per_minute}")
        if self.formality not in ("casual", "neutral", "formal"):
            raise InputError(f"formality must be casual, neutral or formal, got {self.formality!r}")
        if not 0.0 <= self.temperature <= 2.0:
            raise InputError(f"temperature must be 0..2, got {self.temperature}")
        if not 16 <= self.max_tokens <= 32768:
            raise InputError(f"max tokens must be 16..32768, got {self.max_tokens}")
        if not 1 <= self.attempts <= 10 or not 0 <= self.retries <= 10:
            raise InputError("attempts must be 1..10 and retries 0..10")
        if self.on_failure not in ("error", "brief"):
            raise InputError(f"on_failure must be error or brief, got {self.on_failure!r}")
        if self.timeout <= 0:
            raise InputError(f"timeout must be > 0 s, got {self.timeout}")
        if self.quantization not in ("", "4bit", "8bit"):
            raise InputError(f"quantization must be 4bit or 8bit, got {self.quantization!r}")


@dataclass(frozen=True)
class GenerateSettings:
    fps: float = 30.0
    script_backend: str = "markup"
    script: ScriptSettings = field(default_factory=ScriptSettings)
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    face: FaceSettings = field(default_factory=FaceSettings)
    body: BodySettings = field(default_factory=BodySettings)

    def __post_init__(self) -> None:
        if not 1 <= self.fps <= 120:
            raise InputError(f"fps must be 1..120, got {self.fps}")
