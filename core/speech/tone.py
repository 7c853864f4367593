# SPDX-License-Identifier: GPL-3.0-or-later
"""Tone of neural voices: rate, pitch and volume from settings, script markup and emotion.

Three sources multiply (rate, volume) or add (pitch, semitones):

- the job's :class:`SpeechSettings` (``rate`` in words per minute, 165 = the voice's own pace;
  ``pitch`` 0..100, 50 = the voice's own pitch, each 50 steps = 6 semitones),
- the segment's markup (``[rate 1.2]``, ``[pitch -2]``, ``[volume 0.8]``, ``[emph]``),
- the segment's emotion, scaled by its intensity (:data:`EMOTION_PROSODY`).

Rate goes to the engine itself (Kokoro ``speed``, Piper ``length_scale``, Coqui ``speed`` or
``length_scale``), so timing stays natural. None of the three engines takes a pitch control, so
pitch is shifted afterwards (librosa phase vocoder + resampling, duration unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import BackendError
from ..settings import SpeechSettings
from ..types import Segment

NORMAL_WPM = 165.0
"""SpeechSettings.rate that means "the voice's own pace"."""
SEMITONES_PER_50 = 6.0

EMOTION_PROSODY: dict[str, tuple[float, float, float]] = {
    "neutral": (1.0, 0.0, 1.0),
    "happy": (1.05, 1.5, 1.1),
    "sad": (0.9, -1.5, 0.85),
    "angry": (1.06, 0.5, 1.25),
    "surprised": (1.04, 2.5, 1.1),
    "fearful": (1.1, 1.5, 0.9),
    "disgusted": (0.95, -1.0, 1.0),
}
"""Emotion at intensity 1 -> (rate factor, pitch semitones, gain factor)."""


@dataclass(frozen=True)
class Prosody:
    rate: float = 1.0
    """Speaking-rate factor (> 1 is faster)."""
    pitch: float = 0.0
    """Semitones."""
    volume: float = 1.0
    """Gain factor."""


def prosody_for(segment: Segment, settings: SpeechSettings) -> Prosody:
    """The combined prosody of one script segment; rate clipped to 0.5..2."""
    er, ep, ev = EMOTION_PROSODY.get(segment.emotion, (1.0, 0.0, 1.0))
    k = float(segment.intensity)
    rate = settings.rate / NORMAL_WPM * segment.rate * (1.0 + (er - 1.0) * k)
    pitch = (settings.pitch - 50) / 50 * SEMITONES_PER_50 + segment.pitch + ep * k
    volume = segment.volume * (1.0 + (ev - 1.0) * k)
    return Prosody(round(float(np.clip(rate, 0.5, 2.0)), 4), round(pitch, 3), round(volume, 4))


def shift_pitch(samples: np.ndarray, sample_rate: int, semitones: float) -> np.ndarray:
    """``samples`` (N,) shifted by ``semitones`` with the same length (float32)."""
    if abs(semitones) < 1e-3 or samples.size < 2048:
        return np.asarray(samples, dtype=np.float32)
    try:
        import librosa
    except ImportError:
        raise BackendError("pitch changes of neural voices need librosa: pip install librosa"
                           ) from None
    y = librosa.effects.pitch_shift(np.asarray(samples, dtype=np.float32), sr=int(sample_rate),
                                    n_steps=float(semitones))
    return np.asarray(y, dtype=np.float32)
