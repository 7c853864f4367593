# SPDX-License-Identifier: GPL-3.0-or-later
"""A mouth driven by the sound itself, for speech without phonemes (any language, no transcript).

Per video frame, from a window of audio centred on the frame's time:

- loudness (RMS in dB, relative to the recording's loud speech) -> ``jawOpen``;
- spectral centroid (low for ``u``/``o``, high for ``s``/``i``) and tilt (share of energy below
  1 kHz) -> rounding (``mouthFunnel``, ``mouthPucker``) for dark, voiced sounds and a slight lip
  spread with teeth (``mouthUpperUp*``, ``mouthLowerDown*``, ``mouthStretch*``) for bright ones;
- silence -> ``mouthClose`` (lips together, jaw at rest).

Every curve lies in 0..1 and is smoothed with a Gaussian of about 35 ms so that frame-to-frame
noise in the features does not make the lips jitter. This is lower quality than phoneme-driven
lip-sync: it shows when and how much the mouth moves, not which consonant is said (no bilabial
closures inside words).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

FLOOR_DB = 30.0
"""Frames this far (dB) below the loud-speech level count as silence."""
JAW_DB = 22.0
"""The jaw opens over the top this many dB of loudness (syllable nuclei open it most)."""
SMOOTH_S = 0.035
"""Standard deviation (s) of the Gaussian smoothing of every curve."""
WINDOW_S = 0.04
"""Analysis window per frame (s), centred on the frame's time."""

CURVES = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthUpperUpLeft",
          "mouthUpperUpRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthStretchLeft",
          "mouthStretchRight")
"""The ARKit names :func:`energy_mouth` returns."""


def _frames(samples: np.ndarray, rate: int, fps: float, frames: int) -> np.ndarray:
    """(frames, W) windows of ``samples`` centred on t = k / fps, zero-padded at the ends."""
    w = max(16, int(round(WINDOW_S * rate)))
    centres = np.rint(np.arange(frames) / fps * rate).astype(np.int64)
    padded = np.pad(samples.astype(np.float64), (w, w + int(rate / fps) + 1))
    idx = centres[:, None] + np.arange(w)[None, :] + w - w // 2
    idx = np.clip(idx, 0, padded.size - 1)
    return padded[idx] * np.hanning(w)[None, :]


def _smooth(x: np.ndarray, fps: float) -> np.ndarray:
    """Gaussian smoothing (sigma :data:`SMOOTH_S`), edges held."""
    sigma = SMOOTH_S * fps
    if sigma < 0.3 or x.size < 3:
        return x
    r = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    return np.convolve(np.pad(x, r, mode="edge"), k, mode="valid")


def features(samples: np.ndarray, sample_rate: int, fps: float,
             frames: int) -> dict[str, np.ndarray]:
    """Per-frame audio features, each (frames,): ``level`` (0 silent .. 1 loud speech),
    ``jaw_level`` (the same over the top :data:`JAW_DB`), ``centroid`` (Hz), ``low`` (share of
    spectral energy below 1 kHz, 0..1)."""
    win = _frames(np.asarray(samples, np.float32), sample_rate, fps, frames)
    rms = np.sqrt(np.mean(win ** 2, axis=1)) * np.sqrt(8.0 / 3.0)  # undo Hann power loss
    db = 20.0 * np.log10(rms + 1e-9)
    loud = db[db > db.max() - 50.0]
    ref = float(np.percentile(loud, 90)) if loud.size else float(db.max())
    level = np.clip((db - (ref - FLOOR_DB)) / FLOOR_DB, 0.0, 1.0)
    spec = np.abs(np.fft.rfft(win, axis=1)) ** 2
    freqs = np.fft.rfftfreq(win.shape[1], 1.0 / sample_rate)
    total = spec.sum(axis=1) + 1e-12
    centroid = (spec * freqs[None, :]).sum(axis=1) / total
    low = spec[:, freqs < 1000.0].sum(axis=1) / total
    jaw_level = np.clip((db - (ref - JAW_DB)) / JAW_DB, 0.0, 1.0)
    return {"level": level, "jaw_level": jaw_level, "centroid": centroid, "low": low}


def energy_mouth(samples: np.ndarray, sample_rate: int, fps: float,
                 frames: int) -> dict[str, np.ndarray]:
    """ARKit mouth curves from mono audio: name -> (frames,) float32 in 0..1.

    ``samples`` is mono float audio (N,) at ``sample_rate`` Hz; frame k shows time k / fps.
    Returns the curves named in :data:`CURVES`; frames past the audio are silent.
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise InputError(f"energy_mouth needs mono audio (N,), got shape {x.shape}")
    if int(sample_rate) <= 0 or not fps > 0 or int(frames) < 0:
        raise InputError("energy_mouth needs a positive sample rate and fps, and frames >= 0")
    frames = int(frames)
    if frames == 0:
        return {name: np.zeros(0, np.float32) for name in CURVES}
    f = features(np.nan_to_num(x), int(sample_rate), float(fps), frames)
    level = f["level"]
    speaking = np.clip(level * 2.5, 0.0, 1.0)  # soft voice activity
    bright = np.clip((f["centroid"] - 1500.0) / 2500.0, 0.0, 1.0)
    dark = np.clip((f["low"] - 0.55) / 0.35, 0.0, 1.0) * np.clip((1200.0 - f["centroid"])
                                                                  / 800.0, 0.0, 1.0)
    # fricatives are loud but nearly closed
    jaw = 0.6 * f["jaw_level"] ** 1.5 * (1.0 - 0.5 * bright)
    out = {
        "jawOpen": jaw,
        "mouthClose": 0.25 * (1.0 - speaking),
        "mouthFunnel": 0.45 * dark * speaking,
        "mouthPucker": 0.35 * dark * speaking,
        "mouthUpperUpLeft": 0.25 * bright * speaking,
        "mouthUpperUpRight": 0.25 * bright * speaking,
        "mouthLowerDownLeft": 0.3 * bright * speaking + 0.2 * jaw,
        "mouthLowerDownRight": 0.3 * bright * speaking + 0.2 * jaw,
        "mouthStretchLeft": 0.2 * bright * speaking,
        "mouthStretchRight": 0.2 * bright * speaking,
    }
    return {k: np.clip(_smooth(v, float(fps)), 0.0, 1.0).astype(np.float32)
            for k, v in out.items()}
