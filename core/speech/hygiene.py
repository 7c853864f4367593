# SPDX-License-Identifier: GPL-3.0-or-later
"""Audio hygiene for synthesised speech: loudness, silence trimming, click-free joins.

- :func:`loudness` measures integrated loudness in LUFS after ITU-R BS.1770-4: K-weighting (a
  high-shelf and a high-pass biquad, designed for any sample rate from the standard's analog
  prototypes), 400 ms blocks with 75 % overlap, an absolute gate at -70 LUFS and a relative gate
  10 LU below the ungated mean.
- :func:`normalize_loudness` reaches a target LUFS with one gain and a look-ahead peak limiter
  holding peaks under -1 dBFS.
- :func:`trim_silence` cuts leading/trailing silence from a :class:`Speech` at zero crossings and
  shifts its word, phoneme and segment timings to match.
- :func:`join` concatenates pieces with short raised-cosine fades (or a crossfade when no gap is
  wanted), so no join clicks.

Samples are mono float32 (N,) in -1..1; times are seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import lfilter

from ..audio import resample
from ..errors import InputError
from ..types import Phoneme, Speech, Word

__all__ = ["join", "k_weighting", "limit_peaks", "loudness", "normalize_loudness", "resample",
           "trim_bounds", "trim_silence"]

# BS.1770 K-weighting: analog prototypes of its two stages (values of the standard's filters).
_SHELF_GAIN_DB, _SHELF_FC, _SHELF_Q = 3.999843853973347, 1681.974450955533, 0.7071752369554196
_SHELF_VB_EXP = 0.4996667741545416
_HP_FC, _HP_Q = 38.13547087602444, 0.5003270373238773
_ABS_GATE, _REL_GATE = -70.0, -10.0
_BLOCK_S, _STEP_S = 0.4, 0.1
SILENT = -math.inf
"""Loudness reported for all-zero (or fully gated) audio."""


def k_weighting(sample_rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two K-weighting biquads ``[(b, a), (b, a)]`` (shelf, high-pass) at ``sample_rate``."""
    k = math.tan(math.pi * _SHELF_FC / sample_rate)
    vh = 10 ** (_SHELF_GAIN_DB / 20)
    vb = vh ** _SHELF_VB_EXP
    a0 = 1 + k / _SHELF_Q + k * k
    shelf_b = np.array([vh + vb * k / _SHELF_Q + k * k, 2 * (k * k - vh),
                        vh - vb * k / _SHELF_Q + k * k]) / a0
    shelf_a = np.array([a0, 2 * (k * k - 1), 1 - k / _SHELF_Q + k * k]) / a0
    k = math.tan(math.pi * _HP_FC / sample_rate)
    a0 = 1 + k / _HP_Q + k * k
    hp_b = np.array([1.0, -2.0, 1.0])
    hp_a = np.array([a0, 2 * (k * k - 1), 1 - k / _HP_Q + k * k]) / a0
    return [(shelf_b, shelf_a), (hp_b, hp_a)]


def loudness(samples: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness of mono audio in LUFS (:data:`SILENT` when everything is gated).

    Audio shorter than one 400 ms block is measured as a single block.
    """
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size == 0:
        raise InputError("cannot measure the loudness of empty audio")
    for b, a in k_weighting(int(sample_rate)):
        x = lfilter(b, a, x)
    block, step = int(round(_BLOCK_S * sample_rate)), int(round(_STEP_S * sample_rate))
    if x.size <= block:
        z = np.array([np.mean(x * x)])
    else:
        power = np.concatenate([[0.0], np.cumsum(x * x)])
        starts = np.arange(0, x.size - block + 1, step)
        z = (power[starts + block] - power[starts]) / block
    with np.errstate(divide="ignore"):
        level = -0.691 + 10 * np.log10(z)
    z = z[level > _ABS_GATE]
    if z.size == 0:
        return SILENT
    relative = -0.691 + 10 * math.log10(float(np.mean(z))) + _REL_GATE
    with np.errstate(divide="ignore"):
        z = z[-0.691 + 10 * np.log10(z) > relative]
    return -0.691 + 10 * math.log10(float(np.mean(z)))


def limit_peaks(samples: np.ndarray, sample_rate: int, ceiling_dbfs: float = -1.0,
                lookahead_s: float = 0.005) -> np.ndarray:
    """Look-ahead peak limiter: a gain that dips smoothly (over ``lookahead_s`` on each side)
    wherever ``|samples|`` would pass ``ceiling_dbfs``; 1 elsewhere. Returns float32 (N,)."""
    x = np.asarray(samples, dtype=np.float32)
    ceiling = 10 ** (ceiling_dbfs / 20)
    peak = np.abs(x)
    if x.size == 0 or float(peak.max()) <= ceiling:
        return x.copy()
    n = max(1, int(lookahead_s * sample_rate))
    gain = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    gain = minimum_filter1d(gain, size=2 * n + 1, mode="nearest")
    gain = uniform_filter1d(gain, size=n + 1, mode="nearest")
    return np.clip(x * gain, -ceiling, ceiling).astype(np.float32)


def normalize_loudness(samples: np.ndarray, sample_rate: int, target_lufs: float,
                       peak_dbfs: float = -1.0) -> np.ndarray:
    """``samples`` brought to ``target_lufs`` with peaks held under ``peak_dbfs``.

    One gain reaches the target; where that would push peaks past the ceiling,
    :func:`limit_peaks` holds them and the gain is corrected (up to 3 times) for what the
    limiter took. Silent audio comes back unchanged.
    """
    x = np.asarray(samples, dtype=np.float32)
    measured = loudness(x, sample_rate)
    if measured == SILENT or not np.any(x):
        return x.copy()
    y = limit_peaks(x * np.float32(10 ** ((target_lufs - measured) / 20)), sample_rate,
                    peak_dbfs)
    for _ in range(3):
        short = target_lufs - loudness(y, sample_rate)
        if short <= 0.05:
            break
        y = limit_peaks(y * np.float32(10 ** (short / 20)), sample_rate, peak_dbfs)
    return y


# --------------------------------------------------------------------------- trimming
def _frame_db(x: np.ndarray, frame: int) -> np.ndarray:
    """RMS level (dBFS) of consecutive ``frame``-sample frames; the last one may be short."""
    n = int(math.ceil(x.size / frame))
    padded = np.zeros(n * frame, np.float64)
    padded[:x.size] = x
    rms = np.sqrt(np.mean(padded.reshape(n, frame) ** 2, axis=1))
    with np.errstate(divide="ignore"):
        return 20 * np.log10(np.maximum(rms, 1e-12))


def _zero_crossing(x: np.ndarray, i: int, search: int) -> int:
    """The sample index nearest ``i`` (within ``search``) where ``x`` changes sign or is 0."""
    lo, hi = max(1, i - search), min(x.size - 1, i + search)
    if hi <= lo:
        return i
    seg = x[lo - 1:hi + 1]
    hits = np.flatnonzero((seg[:-1] <= 0) != (seg[1:] <= 0)) + lo
    hits = np.concatenate([hits, np.flatnonzero(x[lo:hi] == 0) + lo])
    return int(hits[np.argmin(np.abs(hits - i))]) if hits.size else i


def trim_bounds(samples: np.ndarray, sample_rate: int, threshold_db: float = -50.0,
                keep_s: float = 0.05) -> tuple[int, int]:
    """``(start, end)`` samples of the audio to keep: from ``keep_s`` before the first 10 ms frame
    louder than ``threshold_db`` dBFS to ``keep_s`` after the last, moved to zero crossings.

    All-quiet audio keeps everything.
    """
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    frame = max(1, int(sample_rate * 0.01))
    loud = np.flatnonzero(_frame_db(x, frame) > threshold_db)
    if loud.size == 0:
        return 0, x.size
    keep, search = int(keep_s * sample_rate), int(0.002 * sample_rate)
    start = max(0, loud[0] * frame - keep)
    end = min(x.size, (loud[-1] + 1) * frame + keep)
    start = 0 if start == 0 else _zero_crossing(x, start, search)
    end = x.size if end == x.size else _zero_crossing(x, end, search)
    return start, max(end, start + 1)


def _shift(items, offset: float, duration: float) -> tuple:
    """Items with start/end moved by ``-offset`` and clipped to 0..duration; empty ones dropped
    (a pause that only covered trimmed silence), non-pause ones always kept."""
    out = []
    for it in items:
        a = min(max(it.start - offset, 0.0), duration)
        b = min(max(it.end - offset, 0.0), duration)
        if b > a or not (isinstance(it, Phoneme) and it.symbol == "_"):
            out.append(replace(it, start=a, end=b))
    return tuple(out)


def trim_silence(speech: Speech, threshold_db: float = -50.0, keep_s: float = 0.05) -> Speech:
    """``speech`` without leading/trailing silence (see :func:`trim_bounds`); its words,
    phonemes and segment times shift by the cut at the start and are clipped to the new end."""
    start, end = trim_bounds(speech.samples, speech.sample_rate, threshold_db, keep_s)
    if (start, end) == (0, speech.samples.size):
        return speech
    offset = start / speech.sample_rate
    duration = (end - start) / speech.sample_rate
    words: tuple[Word, ...] = _shift(speech.words, offset, duration)
    phonemes: tuple[Phoneme, ...] = _shift(speech.phonemes, offset, duration)
    segments = tuple((min(max(a - offset, 0.0), duration), min(max(b - offset, 0.0), duration))
                     for a, b in speech.segment_times)
    return replace(speech, samples=speech.samples[start:end].copy(), words=words,
                   phonemes=phonemes, segment_times=segments)


# --------------------------------------------------------------------------- joining
def _ramp(n: int) -> np.ndarray:
    """Raised-cosine ramp 0 -> 1 over ``n`` samples (float32)."""
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)


def join(pieces: Sequence[np.ndarray], sample_rate: int, gaps: Sequence[float] = (),
         fade_s: float = 0.005, crossfade: bool = True
         ) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Concatenate mono ``pieces`` with ``gaps[k]`` seconds of silence after piece k.

    Every piece edge gets a ``fade_s`` raised-cosine fade; where a gap is 0 the two fades overlap
    (a crossfade) unless ``crossfade`` is False (pieces then meet end to start, both faded), so
    no join steps. Returns the audio (float32) and each piece's ``(start, end)`` sample span.
    """
    if not pieces:
        raise InputError("nothing to join: no audio pieces")
    gaps = list(gaps) + [0.0] * (len(pieces) - len(gaps))
    fade = max(1, int(fade_s * sample_rate))
    out: list[np.ndarray] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for k, piece in enumerate(pieces):
        x = np.asarray(piece, dtype=np.float32).reshape(-1).copy()
        n = min(fade, x.size // 2)
        if n:
            if k > 0:
                x[:n] *= _ramp(n)
            if k < len(pieces) - 1 or gaps[k] > 0:
                x[-n:] *= _ramp(n)[::-1]
        overlap = n if (crossfade and k > 0 and gaps[k - 1] <= 0 and out[-1].size >= n) else 0
        if overlap:
            out[-1][-overlap:] += x[:overlap]
            x = x[overlap:]
        spans.append((pos - overlap, pos - overlap + x.size + overlap))
        out.append(x)
        pos += x.size
        gap = int(round(max(0.0, gaps[k]) * sample_rate))
        if gap:
            out.append(np.zeros(gap, np.float32))
            pos += gap
    return np.concatenate(out), spans
