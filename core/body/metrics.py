# SPDX-License-Identifier: GPL-3.0-or-later
"""Motion metrics: beat consistency (BC), L1 diversity, gesture rate, foot skating, joint-limit
violations, jerk and arm-body collisions.

Joint positions come from :func:`~.skeleton.forward_kinematics` on the built-in rest skeleton
(no SMPL-X model is shipped), so numbers are close to, not identical with, those computed on a
real SMPL-X body.

**BC** follows EMAGE's alignment metric (PantoMatrix ``alignment``): audio beats are librosa
onsets of the 16 kHz speech (``onset_detect``, hop 512, in seconds); motion beats are local
minima of each upper-body joint's speed (central differences; ``argrelextrema`` with ``order`` =
7 frames at 30 fps, scaled with fps) where the joint is not nearly still: its speed there is
above 0.3 times a reference mean speed of that joint. EMAGE's reference is BEAT2's mean speed per
joint (``mean_vel_smplxflame_30.npy``, not shipped: pass it as ``mean_speed`` when you have it);
without it the clip's own mean speed per joint stands in. Each audio beat scores
``exp(-d^2 / (2 sigma^2))`` with ``d`` the distance to the nearest motion beat (none: 0) and
``sigma`` = 0.3 s; BC is the mean over audio beats, averaged over the upper-body joints
(SMPL-X 3, 6, 9, 12-21: spine, neck, collars, head, arms).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import argrelextrema, find_peaks

from ..errors import BackendError
from ..names import JOINT_INDEX
from ..types import BodyTrack
from . import collision, limits
from .skeleton import forward_kinematics

UPPER_BODY = (3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)
"""Joints EMAGE's BC averages over."""
FEET = tuple(JOINT_INDEX[n] for n in ("left_ankle", "right_ankle", "left_foot", "right_foot"))
BC_SIGMA, BC_ORDER_30FPS, BC_STILL = 0.3, 7, 0.3
"""EMAGE's sigma (s), argrelextrema order (frames at 30 fps) and still threshold (x mean speed)."""


def audio_onsets(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Onset times (s) of speech, as EMAGE detects them (librosa, 16 kHz, hop 512)."""
    try:
        import librosa
    except ImportError:
        raise BackendError("beat consistency needs librosa: pip install librosa") from None
    y = np.asarray(samples, np.float32)
    if sample_rate != 16000:
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=16000)
    return librosa.onset.onset_detect(y=y, sr=16000, hop_length=512, units="time")


def joint_speed(pos: np.ndarray, fps: float) -> np.ndarray:
    """(T,J) speed in m/s (central differences, one-sided at the ends)."""
    return np.linalg.norm(np.gradient(pos, 1.0 / fps, axis=0), axis=-1)


def beat_consistency(pos: np.ndarray, fps: float, onsets: np.ndarray,
                     sigma: float = BC_SIGMA, mean_speed: np.ndarray | None = None) -> float:
    """BC of joint positions ``pos`` (T,55,3) against audio ``onsets`` (s); see the module doc.

    ``mean_speed``: reference mean speed (m/s) per SMPL-X joint (at least 22 entries, e.g.
    BEAT2's); default: the clip's own mean speed per joint.
    """
    if len(onsets) == 0:
        return float("nan")
    speed = joint_speed(pos, fps)
    order = max(1, int(round(BC_ORDER_30FPS * fps / 30.0)))
    scores = []
    for j in UPPER_BODY:
        v = speed[:, j]
        minima = argrelextrema(v, np.less, order=order)[0]
        ref = v.mean() if mean_speed is None else float(np.asarray(mean_speed).ravel()[j])
        minima = minima[v[minima] > BC_STILL * ref] / fps
        if minima.size == 0:
            scores.append(0.0)
            continue
        d = np.min(np.abs(onsets[:, None] - minima[None, :]), axis=1)
        scores.append(float(np.mean(np.exp(-d * d / (2.0 * sigma * sigma)))))
    return float(np.mean(scores))


def beat_consistency_chance(pos: np.ndarray, fps: float, onsets: np.ndarray, draws: int = 5,
                            seed: int = 0, mean_speed: np.ndarray | None = None) -> float:
    """BC of the same motion against as many onsets drawn uniformly over the clip (mean of
    ``draws``): the score motion gets with no relation to the speech. With sigma 0.3 s and the
    5-7 onsets per second of speech, it is close to the real BC for any motion that has dense
    non-still speed minima, so read BC next to it."""
    if len(onsets) == 0:
        return float("nan")
    rng = np.random.default_rng(seed)
    duration = len(pos) / fps
    return float(np.mean([beat_consistency(pos, fps, np.sort(rng.uniform(0.0, duration,
                                                                          len(onsets))),
                                           mean_speed=mean_speed) for _ in range(draws)]))


def l1_diversity(pos: np.ndarray) -> float:
    """EMAGE's L1div: mean over frames of the summed |position - mean position| (metres)."""
    flat = pos.reshape(len(pos), -1)
    return float(np.abs(flat - flat.mean(axis=0)).sum(axis=1).mean())


def gesture_rate(pos: np.ndarray, fps: float, min_speed: float = 0.4) -> float:
    """Strokes per minute: wrist speed peaks above ``min_speed`` m/s, 0.3 s apart, both hands
    merged (peaks of the two hands within 0.15 s count once)."""
    speed = joint_speed(pos, fps)
    times = []
    for name in ("left_wrist", "right_wrist"):
        peaks, _ = find_peaks(speed[:, JOINT_INDEX[name]], height=min_speed,
                              distance=max(1, int(0.3 * fps)))
        times += list(peaks / fps)
    times.sort()
    merged = [t for i, t in enumerate(times) if i == 0 or t - times[i - 1] > 0.15]
    minutes = len(pos) / fps / 60.0
    return len(merged) / minutes if minutes > 0 else 0.0


def foot_skating(pos: np.ndarray, contact: float = 0.02) -> tuple[float, float]:
    """(mean, max) horizontal foot motion in mm per frame while a foot is planted.

    A foot joint (ankle or toe) is planted in frames where it and the next frame are within
    ``contact`` metres of its lowest height in the clip.
    """
    steps = []
    for j in FEET:
        y = pos[:, j, 1]
        planted = y < y.min() + contact
        both = planted[:-1] & planted[1:]
        d = np.linalg.norm(np.diff(pos[:, j, [0, 2]], axis=0), axis=-1)[both]
        steps.append(d)
    d = np.concatenate(steps) * 1000.0
    return (float(d.mean()), float(d.max())) if d.size else (0.0, 0.0)


def jerk(pos: np.ndarray, fps: float) -> float:
    """Mean magnitude of the third derivative of upper-body joint positions (m/s^3)."""
    if len(pos) < 4:
        return 0.0
    d3 = np.diff(pos[:, list(UPPER_BODY)], n=3, axis=0) * fps ** 3
    return float(np.linalg.norm(d3, axis=-1).mean())


def evaluate(body: BodyTrack, samples: np.ndarray | None = None, sample_rate: int = 16000,
             mean_speed: np.ndarray | None = None) -> dict[str, float]:
    """Every metric of ``body`` (and BC when the speech ``samples`` are given; ``mean_speed``:
    see :func:`beat_consistency`)."""
    poses = body.poses.astype(np.float64)
    pos, _ = forward_kinematics(poses, body.trans.astype(np.float64))
    skate_mean, skate_max = foot_skating(pos)
    pen = collision.penetration(poses, body.trans.astype(np.float64))
    out = {
        "frames": float(body.frames),
        "fps": body.fps,
        "l1_diversity": l1_diversity(pos),
        "gesture_rate_per_min": gesture_rate(pos, body.fps),
        "foot_skating_mm_per_frame": skate_mean,
        "foot_skating_max_mm": skate_max,
        "limit_violations": float(limits.violations(poses).sum()),
        "jerk_m_per_s3": jerk(pos, body.fps),
        "collision_frames": float(np.sum(np.maximum(pen["left"], pen["right"]) > 0.005)),
    }
    if samples is not None:
        onsets = audio_onsets(samples, sample_rate)
        out["bc"] = beat_consistency(pos, body.fps, onsets, mean_speed=mean_speed)
        out["bc_chance"] = beat_consistency_chance(pos, body.fps, onsets, mean_speed=mean_speed)
    return out
