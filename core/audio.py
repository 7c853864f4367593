# SPDX-License-Identifier: GPL-3.0-or-later
"""Audio files in and out, and resampling.

Samples are float32 in -1..1: mono arrays have shape (N,), multi-channel ones (N, C). Files are
written as 16-bit PCM WAV, atomically: a temporary file in the target directory is renamed over
the target, so a failed write leaves nothing behind and never a half-written file.
"""

from __future__ import annotations

import contextlib
import math
import os
import uuid

import numpy as np
import soundfile
from scipy.signal import resample_poly

from .errors import InputError, OutputError

_PCM16_SCALE = 32768.0
"""libsndfile reads 16-bit PCM as q / 32768; writing with the same scale round-trips."""


def _reason(err: BaseException) -> str:
    """One line describing an OS or libsndfile error."""
    text = (getattr(err, "error_string", None) or getattr(err, "strerror", None) or str(err)
            or type(err).__name__)
    return " ".join(str(text).split())


def read_wav(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read any file soundfile understands (WAV, FLAC, OGG, ...) as mono.

    Returns ``(samples, sample_rate)``: samples float32 (N,) in -1..1, channels averaged.
    Raises :class:`InputError` when the file is missing, unreadable, empty or holds NaN/inf.
    """
    p = os.fspath(path)
    if not os.path.exists(p):
        raise InputError(f"audio file {p} does not exist")
    if not os.path.isfile(p):
        raise InputError(f"audio file {p} is not a regular file")
    try:
        data, rate = soundfile.read(p, dtype="float32", always_2d=True)
    except (RuntimeError, ValueError, TypeError, OSError) as err:
        raise InputError(f"cannot read audio file {p}: {_reason(err)}") from None
    if data.shape[0] == 0:
        raise InputError(f"audio file {p} holds no samples")
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
    if not np.all(np.isfinite(mono)):
        raise InputError(f"audio file {p} contains NaN or infinite samples")
    return np.ascontiguousarray(mono, dtype=np.float32), int(rate)


def _to_pcm16(samples: np.ndarray) -> np.ndarray:
    """float (N,) or (N, C) in -1..1 -> int16 of the same shape, clipped."""
    q = np.rint(np.asarray(samples, dtype=np.float64) * _PCM16_SCALE)
    return np.clip(q, -32768, 32767).astype(np.int16)


def write_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int) -> None:
    """Write ``samples`` ((N,) or (N, C), float in -1..1, clipped) as a 16-bit PCM WAV file.

    Raises :class:`InputError` for bad samples or rate, :class:`OutputError` when the path
    cannot be written (nothing is left behind then).
    """
    p = os.fspath(path)
    data = np.asarray(samples)
    if data.ndim not in (1, 2) or data.shape[0] == 0:
        raise InputError(f"audio to write must have shape (N,) or (N, C), got {data.shape}")
    if not np.all(np.isfinite(data)):
        raise InputError(f"audio to write to {p} contains NaN or infinite samples")
    if int(sample_rate) <= 0:
        raise InputError(f"sample rate must be positive, got {sample_rate}")
    directory = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(directory):
        raise OutputError(f"cannot write {p}: directory {directory} does not exist")
    tmp = os.path.join(directory, f".{os.path.basename(p)}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
    except OSError as err:
        raise OutputError(f"cannot write {p}: {_reason(err)}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            soundfile.write(f, _to_pcm16(data), int(sample_rate), format="WAV",
                            subtype="PCM_16")
        os.replace(tmp, p)
    except (OSError, RuntimeError) as err:
        raise OutputError(f"cannot write {p}: {_reason(err)}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


def resample(samples: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """Resample (N,) or (N, C) float audio from ``sr_from`` to ``sr_to`` Hz (polyphase filter).

    Returns float32 of shape (ceil(N * sr_to / sr_from),) or (that, C).
    """
    sr_from, sr_to = int(sr_from), int(sr_to)
    if sr_from <= 0 or sr_to <= 0:
        raise InputError(f"sample rates must be positive, got {sr_from} -> {sr_to}")
    x = np.asarray(samples, dtype=np.float32)
    if sr_from == sr_to:
        return x.copy()
    g = math.gcd(sr_from, sr_to)
    return resample_poly(x, sr_to // g, sr_from // g, axis=0).astype(np.float32)
