# SPDX-License-Identifier: GPL-3.0-or-later
"""Prosody from the speech samples (pitch and loudness) and the head motion it drives.

Pitch is estimated every 20 ms on the audio resampled to 4 kHz: a normalised, unbiased
autocorrelation over 40 ms windows, searched between 60 and 400 Hz (the shortest lag whose peak
is within 90 % of the best wins, which avoids octave-down errors). A frame is voiced when its
peak exceeds 0.45 and its loudness is within 35 dB of the loudest frame. Loudness is the RMS
in dB relative to the loudest frame.

Head motion (axis-angle, rad, added to the body's head joint; x: chin down +, y: turn to the
character's left +, z: roll) follows what people do while talking:

- the head rises with the voice's pitch (about 0.35 deg per semitone above the speaker's median);
- nods (a quick chin drop and return) on loud, high-pitched stressed vowels;
- slow yaw/roll drift whose size follows how loud and busy the speech is, with a new direction
  at each phrase start; it calms down in long silences.

Everything is numpy/scipy and costs a few milliseconds per minute of speech.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.fft as sfft
from scipy.ndimage import gaussian_filter1d, median_filter
from scipy.signal import firwin, resample_poly

from ..types import Speech
from .visemes import is_vowel

HOP = 0.02
"""Analysis hop (s)."""
_RATE = 4000
_WIN = 160  # 40 ms at 4 kHz
_FMIN, _FMAX = 60.0, 400.0
_VOICED = 0.45
_FLOOR_DB = -35.0
_ST_GAIN = 0.006  # rad of head lift per semitone
_NOD = 0.035  # rad


@dataclass(frozen=True)
class Prosody:
    """Per-hop analysis of a speech: ``f0`` (F,) Hz (0 where unvoiced), ``voiced`` (F,) bool,
    ``loudness`` (F,) dB relative to the loudest frame (<= 0), ``hop`` s."""

    f0: np.ndarray
    voiced: np.ndarray
    loudness: np.ndarray
    hop: float = HOP

    def semitones(self) -> np.ndarray:
        """(F,) pitch in semitones relative to the median voiced pitch, interpolated through
        unvoiced frames (0 when nothing is voiced)."""
        if self.voiced.sum() < 3:
            return np.zeros(len(self.f0))
        st = 12.0 * np.log2(np.where(self.voiced, self.f0, 1.0) / np.median(self.f0[self.voiced]))
        idx = np.flatnonzero(self.voiced)
        return np.interp(np.arange(len(st)), idx, st[idx])

    def at(self, values: np.ndarray, times: np.ndarray) -> np.ndarray:
        """``values`` (F,) sampled at ``times`` (T,) s by linear interpolation."""
        return np.interp(times, np.arange(len(values)) * self.hop, values)


def analyse(samples: np.ndarray, sample_rate: int) -> Prosody:
    """Pitch and loudness of mono ``samples`` (N,) at ``sample_rate`` Hz, every :data:`HOP` s."""
    hop = round(HOP * _RATE)
    if not np.any(samples):
        frames = max(1, math.ceil(len(samples) / sample_rate / HOP))
        return Prosody(np.zeros(frames), np.zeros(frames, bool), np.full(frames, -120.0))
    g = math.gcd(_RATE, int(sample_rate))
    up, down = _RATE // g, int(sample_rate) // g
    # a short anti-alias filter (3 zero crossings a side) is plenty for a pitch track
    taps = firwin(2 * 3 * max(up, down) + 1, 1.0 / max(up, down), window=("kaiser", 5.0))
    x = resample_poly(np.asarray(samples, np.float32), up, down, window=taps * up)
    frames = max(1, math.ceil(len(x) / hop))
    x = np.pad(x, (_WIN // 2, _WIN + frames * hop))
    idx = np.arange(frames)[:, None] * hop + np.arange(_WIN)[None, :]
    win = x[idx]
    win = win - win.mean(axis=1, keepdims=True)
    energy = (win * win).mean(axis=1)
    loud = 10 * np.log10(energy + 1e-12)
    loud -= loud.max()
    padded = np.zeros((frames, 2 * _WIN), np.float32)
    padded[:, :_WIN] = win * np.hanning(_WIN).astype(np.float32)
    spec = sfft.rfft(padded, axis=1)
    ac = sfft.irfft(spec.real ** 2 + spec.imag ** 2, axis=1)[:, :_WIN].astype(np.float64)
    ac /= np.maximum(ac[:, :1], 1e-12)
    # undo the window's own autocorrelation taper so peaks are comparable across lags
    taper = np.fft.irfft(np.abs(np.fft.rfft(np.hanning(_WIN), 2 * _WIN)) ** 2, 2 * _WIN)[:_WIN]
    ac /= np.maximum(taper / taper[0], 0.05)
    lo, hi = int(_RATE / _FMAX), int(_RATE / _FMIN)
    band = ac[:, lo:hi]
    best = band.max(axis=1, keepdims=True)
    local = np.zeros_like(band, bool)
    local[:, 1:-1] = (band[:, 1:-1] >= band[:, :-2]) & (band[:, 1:-1] >= band[:, 2:])
    first = local & (band >= 0.9 * best)
    lag = lo + np.where(first.any(axis=1), np.argmax(first, axis=1), np.argmax(band, axis=1))
    peak = ac[np.arange(frames), lag]
    # parabolic refinement of the lag
    rows = np.arange(frames)
    a, b, c = ac[rows, lag - 1], peak, ac[rows, np.minimum(lag + 1, _WIN - 1)]
    den = a - 2 * b + c
    shift = np.where(np.abs(den) > 1e-9, 0.5 * (a - c) / np.where(den == 0, 1, den), 0.0)
    f0 = _RATE / (lag + np.clip(shift, -0.5, 0.5))
    voiced = (peak > _VOICED) & (loud > _FLOOR_DB)
    f0 = np.where(voiced, median_filter(np.where(voiced, f0, 0.0), 5), 0.0)
    voiced &= f0 > 0
    return Prosody(f0, voiced, loud)


def _noise(rng, n: int, rate: float, low_hz: float) -> np.ndarray:
    """(n,) smooth noise with unit standard deviation, energy mostly below ``low_hz``."""
    if n == 0:
        return np.zeros(0)
    sigma = rate / (2 * math.pi * low_hz)
    pad = math.ceil(4 * sigma)
    x = gaussian_filter1d(rng.standard_normal(max(n, math.ceil(20 * sigma)) + 2 * pad), sigma)
    return x[pad:pad + n] / max(x[pad:-pad].std(), 1e-9)


def _bump(out: np.ndarray, times: np.ndarray, at: float, amp: float, rise: float,
          fall: float) -> None:
    """Add a smooth bump of height ``amp`` peaking at ``at`` (s) to ``out`` in place."""
    i0, i1 = np.searchsorted(times, (at - 3 * rise, at + 3 * fall))
    u = times[i0:i1] - at
    env = np.where(u < 0, np.exp(-((u / rise) ** 2)), np.exp(-((u / fall) ** 2)))
    out[i0:i1] += amp * env


def head_motion(
    speech: Speech, prosody: Prosody, times: np.ndarray, fps: float, rng, amount: float
) -> np.ndarray:
    """(T,3) head axis-angle (rad) at ``times`` (T,) s driven by ``prosody``; zero when
    ``amount`` is 0."""
    out = np.zeros((len(times), 3))
    if amount <= 0 or not len(times):
        return out
    st = np.clip(prosody.semitones(), -8, 8)
    active = gaussian_filter1d((prosody.loudness > _FLOOR_DB).astype(float), 0.4 / prosody.hop)
    loud01 = np.clip(1 + prosody.loudness / -_FLOOR_DB, 0, 1)
    st = gaussian_filter1d(st * active, 0.06 / prosody.hop)
    activity = prosody.at(active, times)
    out[:, 0] = -_ST_GAIN * prosody.at(st, times)
    # nods on loud, raised stressed vowels
    hi_st = np.percentile(st, 60) if len(st) else 0.0
    for ph in speech.phonemes:
        if ph.stress != 2 or not is_vowel(ph.symbol):
            continue
        mid = 0.5 * (ph.start + ph.end)
        k = min(len(st) - 1, int(mid / prosody.hop))
        if loud01[k] < 0.6 or st[k] < hi_st or rng.random() > 0.6:
            continue
        _bump(out[:, 0], times, ph.start + 0.05, _NOD * rng.uniform(0.5, 1.0) * loud01[k],
              0.08, 0.18)
    # drift: slow yaw and roll, busier while speaking, a new lean at each phrase
    n = len(times)
    yaw = 0.03 * _noise(rng, n, fps, 0.15) + 0.012 * _noise(rng, n, fps, 0.6)
    roll = 0.4 * yaw * rng.choice([-1.0, 1.0]) + 0.008 * _noise(rng, n, fps, 0.3)
    lean = np.zeros(n)
    prev_end = -1.0
    for ph in speech.phonemes:
        if ph.symbol.strip() in ("_", ""):
            continue
        if ph.start - prev_end > 0.3:
            lean += (0.5 + 0.5 * np.tanh((times - ph.start) / 0.15)) * rng.normal(0, 0.015)
        prev_end = ph.end
    lean -= np.mean(lean) if n else 0.0
    out[:, 1] = (0.35 + 0.65 * activity) * yaw + lean
    out[:, 2] = (0.35 + 0.65 * activity) * roll
    return amount * out


def pitch_accent(prosody: Prosody, times: np.ndarray) -> np.ndarray:
    """(T,) pitch above the speaker's median (semitones, >= 0) at ``times``, for brow accents;
    zeros when nothing is voiced."""
    if prosody.voiced.sum() < 3:
        return np.zeros(len(times))
    st = np.where(prosody.voiced, prosody.semitones(), 0.0)
    return np.clip(prosody.at(gaussian_filter1d(st, 1.5), times), 0.0, None)
