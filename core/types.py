# SPDX-License-Identifier: GPL-3.0-or-later
"""Plain data passed between the stages: frozen dataclasses over numpy arrays.

Every type carries its own rate (``sample_rate`` or ``fps``) and validates itself on
construction, raising :class:`~.errors.DataError` with a one-line message.

Shapes use T for frames, N for samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import DataError
from .names import ARKIT_52, EMOTIONS, NUM_JOINTS, VISEMES

MAX_TEXT_CHARS = 20_000
"""Longest script accepted (about 25 minutes of speech)."""


# --------------------------------------------------------------------------- script
@dataclass(frozen=True)
class Cue:
    """A gesture/head cue such as ``*nod*`` or ``*point left*``.

    ``name`` is the first word (lower case), ``args`` the rest (``("left",)``, ``("3",)``);
    ``char_index`` is its offset in the segment text.
    """

    name: str
    char_index: int = 0
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Segment:
    """A run of text spoken with one emotion. ``text`` is plain (markup removed)."""

    text: str
    language: str = "en"
    emotion: str = "neutral"
    intensity: float = 1.0
    cues: tuple[Cue, ...] = ()
    pause_after: float = 0.0
    rate: float = 1.0
    """Speaking-rate factor from markup (``[rate 1.2]``, ``[emph]``), 0.5..2."""
    pitch: float = 0.0
    """Pitch offset in semitones from markup (``[pitch +2]``), -12..12."""
    volume: float = 1.0
    """Gain factor from markup (``[volume 0.8]``), 0..4."""
    emotion2: str = ""
    """Optional second emotion blended with the first (``[happy 0.6 + surprised 0.3]``)."""
    intensity2: float = 0.0
    """Intensity 0..1 of ``emotion2`` (0 when there is none)."""

    def __post_init__(self) -> None:
        if self.emotion not in EMOTIONS:
            raise DataError(f"unknown emotion {self.emotion!r}; known: {', '.join(EMOTIONS)}")
        if self.emotion2 and self.emotion2 not in EMOTIONS:
            raise DataError(f"unknown emotion {self.emotion2!r}; known: {', '.join(EMOTIONS)}")
        if not 0.0 <= self.intensity2 <= 1.0 or (self.intensity2 and not self.emotion2):
            raise DataError(f"second emotion intensity must be in 0..1 and needs emotion2, "
                            f"got {self.intensity2} for {self.emotion2!r}")
        if not (0.5 <= self.rate <= 2.0 and -12 <= self.pitch <= 12 and 0 <= self.volume <= 4):
            raise DataError(f"segment tone out of range: rate {self.rate} (0.5..2), pitch "
                            f"{self.pitch} (-12..12 semitones), volume {self.volume} (0..4)")
        if not 0.0 <= self.intensity <= 1.0:
            raise DataError(f"emotion intensity must be in 0..1, got {self.intensity}")
        if self.pause_after < 0:
            raise DataError(f"pause must be >= 0 s, got {self.pause_after}")


@dataclass(frozen=True)
class Script:
    segments: tuple[Segment, ...]

    def __post_init__(self) -> None:
        if not self.segments or not any(s.text.strip() for s in self.segments):
            raise DataError("the script has no words to speak")

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text)


# --------------------------------------------------------------------------- speech
@dataclass(frozen=True)
class Word:
    """A spoken word; ``segment``/``char_start`` locate it in the Script (for cues)."""

    text: str
    start: float
    end: float
    segment: int = 0
    char_start: int = 0


@dataclass(frozen=True)
class Phoneme:
    """One phoneme in IPA (``"p"``, ``"aɪ"``, ``"tʃ"``); ``"_"`` is a pause.

    ``stress`` is 2 for a primary-stressed vowel, 1 for secondary, 0 otherwise.
    """

    symbol: str
    start: float
    end: float
    stress: int = 0


def _check_timings(items, duration: float, what: str) -> None:
    last = -1e-9
    tol = 1e-3
    for it in items:
        if not (np.isfinite(it.start) and np.isfinite(it.end)):
            raise DataError(f"{what} {it!r} has a non-finite time")
        if it.end < it.start:
            raise DataError(f"{what} {it!r} ends before it starts")
        if it.start < last - tol:
            raise DataError(f"{what} timings are not monotonic at {it!r}")
        if it.start < -tol or it.end > duration + tol:
            raise DataError(f"{what} {it!r} lies outside the audio (0..{duration:.3f} s)")
        last = it.start


@dataclass(frozen=True)
class Speech:
    """Mono float32 ``samples`` (N,) at ``sample_rate`` Hz with word and phoneme timings (s).

    ``segment_times`` holds (start, end) of each Script segment, in order.
    """

    samples: np.ndarray
    sample_rate: int
    words: tuple[Word, ...] = ()
    phonemes: tuple[Phoneme, ...] = ()
    segment_times: tuple[tuple[float, float], ...] = ()
    language: str = "en"

    def __post_init__(self) -> None:
        s = np.asarray(self.samples)
        if s.ndim != 1:
            raise DataError(f"speech samples must be mono (N,), got shape {s.shape}")
        if s.size == 0:
            raise DataError("speech has no samples")
        if int(self.sample_rate) <= 0:
            raise DataError(f"bad sample rate {self.sample_rate}")
        s = s.astype(np.float32, copy=False)
        if not np.all(np.isfinite(s)):
            raise DataError("speech samples contain NaN or inf")
        object.__setattr__(self, "samples", s)
        object.__setattr__(self, "sample_rate", int(self.sample_rate))
        _check_timings(self.words, self.duration, "word")
        _check_timings(self.phonemes, self.duration, "phoneme")

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


# --------------------------------------------------------------------------- motion
def _arr(x, shape_tail: tuple[int, ...], name: str, frames: int | None) -> np.ndarray:
    a = np.asarray(x, dtype=np.float32)
    if a.ndim != 1 + len(shape_tail) or a.shape[1:] != shape_tail:
        want = "(T," + ",".join(map(str, shape_tail)) + ")"
        raise DataError(f"{name} must have shape {want}, got {a.shape}")
    if frames is not None and a.shape[0] != frames:
        raise DataError(f"{name} has {a.shape[0]} frames, expected {frames}")
    if not np.all(np.isfinite(a)):
        raise DataError(f"{name} contains NaN or inf")
    return a


def _check_fps(fps: float) -> float:
    fps = float(fps)
    if not (np.isfinite(fps) and 1.0 <= fps <= 240.0):
        raise DataError(f"fps must be in 1..240, got {fps}")
    return fps


@dataclass(frozen=True)
class FaceTrack:
    """Per-frame face motion at ``fps``.

    arkit:   (T,52) ARKit weights in 0..1, order :data:`~.names.ARKIT_52`.
    visemes: (T,15) Oculus viseme weights in 0..1, order :data:`~.names.VISEMES`.
    jaw:     (T,3) jaw axis-angle (SMPL-X jaw joint, radians).
    eyes:    (T,2,3) left/right eye axis-angle.
    head:    (T,3) head axis-angle added on top of the body's head joint.
    expressions: optional (T,100) FLAME expression coefficients.
    """

    fps: float
    arkit: np.ndarray
    visemes: np.ndarray
    jaw: np.ndarray
    eyes: np.ndarray
    head: np.ndarray
    expressions: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "fps", _check_fps(self.fps))
        a = _arr(self.arkit, (len(ARKIT_52),), "arkit", None)
        t = a.shape[0]
        object.__setattr__(self, "arkit", a)
        object.__setattr__(self, "visemes", _arr(self.visemes, (len(VISEMES),), "visemes", t))
        object.__setattr__(self, "jaw", _arr(self.jaw, (3,), "jaw", t))
        object.__setattr__(self, "eyes", _arr(self.eyes, (2, 3), "eyes", t))
        object.__setattr__(self, "head", _arr(self.head, (3,), "head", t))
        if self.expressions is not None:
            object.__setattr__(
                self, "expressions", _arr(self.expressions, (100,), "expressions", t)
            )
        if a.size and (a.min() < -1e-4 or a.max() > 1 + 1e-4):
            raise DataError("arkit weights must lie in 0..1")

    @property
    def frames(self) -> int:
        return self.arkit.shape[0]

    @classmethod
    def zeros(cls, frames: int, fps: float) -> FaceTrack:
        z = np.zeros
        return cls(fps, z((frames, 52)), z((frames, 15)), z((frames, 3)), z((frames, 2, 3)),
                   z((frames, 3)))


@dataclass(frozen=True)
class BodyTrack:
    """Per-frame SMPL-X body motion at ``fps``.

    poses: (T,55,3) axis-angle per joint (radians), order :data:`~.names.SMPLX_JOINTS`;
           hands relative to the MANO mean hand (``flat_hand_mean=False``), as EMAGE writes them.
    trans: (T,3) root translation, metres, SMPL-X Y-up.
    betas: (B,) shape coefficients (zeros when unknown).
    """

    fps: float
    poses: np.ndarray
    trans: np.ndarray
    betas: np.ndarray = field(default_factory=lambda: np.zeros(10, np.float32))

    def __post_init__(self) -> None:
        object.__setattr__(self, "fps", _check_fps(self.fps))
        p = _arr(self.poses, (NUM_JOINTS, 3), "poses", None)
        object.__setattr__(self, "poses", p)
        object.__setattr__(self, "trans", _arr(self.trans, (3,), "trans", p.shape[0]))
        b = np.asarray(self.betas, dtype=np.float32).reshape(-1)
        if not np.all(np.isfinite(b)):
            raise DataError("betas contain NaN or inf")
        object.__setattr__(self, "betas", b)

    @property
    def frames(self) -> int:
        return self.poses.shape[0]


@dataclass(frozen=True)
class Performance:
    """Speech + FaceTrack + BodyTrack at one fps; the unit every renderer and exporter takes."""

    speech: Speech
    face: FaceTrack
    body: BodyTrack
    script_text: str = ""
    source: str = "paksatalker"

    def __post_init__(self) -> None:
        if abs(self.face.fps - self.body.fps) > 1e-6:
            raise DataError(f"face fps {self.face.fps} != body fps {self.body.fps}")
        if self.face.frames != self.body.frames:
            raise DataError(f"face has {self.face.frames} frames, body {self.body.frames}")

    @property
    def fps(self) -> float:
        return self.body.fps

    @property
    def frames(self) -> int:
        return self.body.frames


def frame_count(duration: float, fps: float) -> int:
    """Frames needed to cover ``duration`` seconds: the video ends within one frame of the audio."""
    return max(1, int(np.ceil(duration * fps - 1e-6)))
