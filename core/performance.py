# SPDX-License-Identifier: GPL-3.0-or-later
"""The Performance file: an EMAGE/BEAT2/AMASS-compatible SMPL-X ``.npz`` plus a WAV.

Keys (``T`` frames): ``poses`` (T,165) axis-angle in smplx joint order, ``trans`` (T,3) metres
Y-up, ``betas`` (B,), ``expressions`` (T,100) FLAME (zeros when the face came from a semantic
backend), ``mocap_frame_rate``, ``model``, ``gender``; extras: ``arkit`` (T,52) + ``arkit_names``,
``visemes`` (T,15) + ``viseme_names``, word/phoneme/segment timings, ``audio`` (the WAV's file
name, next to the npz), ``sample_rate``, ``schema_version``. Hands are relative to the MANO mean
hand (``flat_hand_mean=False``), as EMAGE writes them.

Files load with ``allow_pickle=False``: no object arrays are written or read.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import audio
from .errors import DataError, InputError, OutputError
from .names import ARKIT_52, ARKIT_INDEX, JOINT_INDEX, NUM_JOINTS, VISEMES
from .paths import atomic_file
from .rotations import (
    axis_angle_to_quaternion,
    compose_axis_angle,
    quaternion_to_axis_angle,
    slerp,
)
from .types import BodyTrack, FaceTrack, Performance, Phoneme, Speech, Word, frame_count

SCHEMA_VERSION = 1
JAW, LEYE, REYE, HEAD = (JOINT_INDEX[n] for n in ("jaw", "left_eye_smplhf", "right_eye_smplhf",
                                                   "head"))
JAW_OPEN_RADIANS = 0.35
"""Jaw rotation about +x (SMPL-X) that corresponds to ARKit jawOpen = 1."""


# --------------------------------------------------------------------------- assembly
def assemble(speech: Speech, face: FaceTrack, body: BodyTrack, *, script_text: str = "",
             source: str = "paksatalker") -> Performance:
    """Merge face and body into the canonical Performance.

    The body's jaw and eye joints take the face's jaw/eye rotations and the face's additive head
    rotation is composed onto the body's head joint, so ``body.poses`` is the full SMPL-X pose and
    ``face.head`` is zero. Saving and loading a canonical Performance is exact.
    """
    if face.frames != body.frames:
        raise DataError(f"face has {face.frames} frames, body {body.frames}")
    poses = body.poses.copy()
    poses[:, JAW] = face.jaw
    poses[:, LEYE] = face.eyes[:, 0]
    poses[:, REYE] = face.eyes[:, 1]
    if np.any(face.head):
        poses[:, HEAD] = compose_axis_angle(body.poses[:, HEAD], face.head)
    body = BodyTrack(body.fps, poses, body.trans, body.betas)
    face = FaceTrack(face.fps, face.arkit, face.visemes, face.jaw, face.eyes,
                     np.zeros_like(face.head), face.expressions)
    return Performance(speech, face, body, script_text=script_text, source=source)


# --------------------------------------------------------------------------- save
def save(perf: Performance, path: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``path`` (.npz) and the speech WAV beside it (same stem). Both atomically."""
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise OutputError(f"{path}: a Performance file must end in .npz")
    wav = path.with_suffix(".wav")
    t = perf.frames
    sp = perf.speech
    expr = perf.face.expressions
    arrays = {
        "poses": perf.body.poses.reshape(t, NUM_JOINTS * 3),
        "trans": perf.body.trans,
        "betas": perf.body.betas,
        "expressions": expr if expr is not None else np.zeros((t, 100), np.float32),
        "has_flame": np.array(expr is not None),
        "mocap_frame_rate": np.array(perf.fps, np.float64),
        "model": np.array("smplx2020"),
        "gender": np.array("neutral"),
        "arkit": perf.face.arkit,
        "arkit_names": np.array(ARKIT_52),
        "visemes": perf.face.visemes,
        "viseme_names": np.array(VISEMES),
        "word_text": np.array([w.text for w in sp.words], dtype=str).reshape(-1),
        "word_times": np.array([(w.start, w.end) for w in sp.words], np.float64).reshape(-1, 2),
        "word_index": np.array([(w.segment, w.char_start) for w in sp.words],
                               np.int64).reshape(-1, 2),
        "phoneme_symbols": np.array([p.symbol for p in sp.phonemes], dtype=str).reshape(-1),
        "phoneme_times": np.array([(p.start, p.end) for p in sp.phonemes],
                                  np.float64).reshape(-1, 2),
        "phoneme_stress": np.array([p.stress for p in sp.phonemes], np.int64),
        "segment_times": np.array(sp.segment_times, np.float64).reshape(-1, 2),
        "language": np.array(sp.language),
        "audio": np.array(wav.name),
        "sample_rate": np.array(sp.sample_rate, np.int64),
        "script_text": np.array(perf.script_text),
        "source": np.array(perf.source),
        "schema_version": np.array(SCHEMA_VERSION, np.int64),
    }
    check_output_dir(path)
    audio.write_wav(wav, sp.samples, sp.sample_rate)
    with atomic_file(path) as f:
        np.savez(f, **arrays)
    return path, wav


def check_output_dir(path: Path) -> None:
    """Raise OutputError unless the folder that will hold ``path`` exists and is writable."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{path}: the folder {parent} is not writable")


# --------------------------------------------------------------------------- load
def load(path: str | os.PathLike, *, audio_path: str | os.PathLike | None = None,
         fps: float | None = None, body_settings=None) -> Performance:
    """Load our Performance npz or an EMAGE/BEAT2 SMPL-X npz (+ its WAV).

    ``audio_path`` overrides the WAV (needed for EMAGE files that name none and have no WAV of the
    same stem). With ``fps`` the motion is resampled to that rate. With ``body_settings`` (a
    :class:`~.settings.BodySettings`), EMAGE/BEAT2 motion gets its root drift fixed, its ends
    blended into our idle and its feet locked as they say; without, it loads exactly as stored.
    The motion is trimmed or held at its last frame so that it covers the audio exactly
    (``frame_count(duration, fps)`` frames).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such Performance file")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise InputError(f"{path}: not a readable .npz file (no zip header)")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except ValueError as e:
        raise InputError(f"{path}: holds pickled objects, which are refused ({e})") from None
    except Exception as e:  # zipfile.BadZipFile, OSError, EOFError ...
        raise InputError(f"{path}: not a readable .npz file ({type(e).__name__})") from None

    for key in ("poses", "mocap_frame_rate"):
        if key not in data:
            raise InputError(f"{path}: missing key {key!r} (not a SMPL-X motion npz)")
    poses = np.asarray(data["poses"], np.float32)
    if poses.ndim != 2 or poses.shape[1] != NUM_JOINTS * 3:
        raise InputError(f"{path}: 'poses' must have shape (T,165), got {poses.shape}")
    t = poses.shape[0]
    if t == 0:
        raise InputError(f"{path}: 'poses' has no frames")
    src_fps = float(np.asarray(data["mocap_frame_rate"]).reshape(-1)[0])
    trans = np.asarray(data.get("trans", np.zeros((t, 3))), np.float32)
    if trans.shape != (t, 3):
        raise InputError(f"{path}: 'trans' must have shape ({t},3), got {trans.shape}")
    betas = np.asarray(data.get("betas", np.zeros(10)), np.float32)
    betas = betas[0] if betas.ndim == 2 else betas.reshape(-1)
    ours = "arkit" in data and "schema_version" in data

    wav = _find_audio(path, data, audio_path)
    samples, sr = audio.read_wav(wav)
    try:
        body = BodyTrack(src_fps, poses.reshape(t, NUM_JOINTS, 3), trans, betas)
        if ours:
            face = _face_from_ours(data, body)
            speech = _speech_from_ours(data, samples, sr)
            perf = Performance(speech, face, body, script_text=str(data.get("script_text", "")),
                               source=str(data.get("source", "paksatalker")))
        else:
            expr = data.get("expressions")
            expr = np.asarray(expr, np.float32) if expr is not None else None
            if expr is not None and expr.shape != (t, 100):
                expr = _fit_expressions(expr, t, path)
            if body_settings is not None:
                from .body.emage import prepare

                body = prepare(body, body_settings)
            face = face_from_jaw(body, expressions=expr)
            perf = Performance(Speech(samples, sr), face, body, source="emage")
    except DataError as e:
        raise InputError(f"{path}: {e}") from None
    return conform(perf, fps or perf.fps)


def _find_audio(path: Path, data: dict, audio_path) -> Path:
    if audio_path is not None:
        return Path(audio_path)
    candidates = []
    if "audio" in data:
        candidates.append(path.parent / str(data["audio"]))
    candidates.append(path.with_suffix(".wav"))
    for c in candidates:
        if c.is_file():
            return c
    raise InputError(f"{path}: no audio found (looked for {candidates[-1].name}); "
                     "pass the WAV with --audio")


def _fit_expressions(expr: np.ndarray, t: int, path: Path) -> np.ndarray:
    if expr.ndim != 2 or expr.shape[0] != t:
        raise InputError(f"{path}: 'expressions' must have shape ({t},N), got {expr.shape}")
    out = np.zeros((t, 100), np.float32)
    n = min(100, expr.shape[1])
    out[:, :n] = expr[:, :n]
    return out


def face_from_jaw(body: BodyTrack, expressions: np.ndarray | None = None) -> FaceTrack:
    """A FaceTrack for motion that carries only a jaw (EMAGE/BEAT2): jawOpen from the jaw angle."""
    t = body.frames
    jaw = body.poses[:, JAW]
    arkit = np.zeros((t, len(ARKIT_52)), np.float32)
    arkit[:, ARKIT_INDEX["jawOpen"]] = np.clip(jaw[:, 0] / JAW_OPEN_RADIANS, 0.0, 1.0)
    eyes = np.stack([body.poses[:, LEYE], body.poses[:, REYE]], axis=1)
    return FaceTrack(body.fps, arkit, np.zeros((t, len(VISEMES))), jaw, eyes, np.zeros((t, 3)),
                     expressions)


def _face_from_ours(data: dict, body: BodyTrack) -> FaceTrack:
    t = body.frames
    names = tuple(str(n) for n in data.get("arkit_names", ARKIT_52))
    if names != ARKIT_52:
        raise DataError("'arkit_names' do not match the ARKit-52 order")
    expr = data["expressions"] if bool(data.get("has_flame", True)) else None
    eyes = np.stack([body.poses[:, LEYE], body.poses[:, REYE]], axis=1)
    return FaceTrack(body.fps, data["arkit"], data["visemes"], body.poses[:, JAW], eyes,
                     np.zeros((t, 3)), expr)


def _speech_from_ours(data: dict, samples: np.ndarray, sr: int) -> Speech:
    wt = data["word_times"].reshape(-1, 2)
    wi = data["word_index"].reshape(-1, 2)
    words = tuple(Word(str(s), float(a), float(b), int(g), int(c))
                  for s, (a, b), (g, c) in zip(data["word_text"], wt, wi, strict=True))
    pt = data["phoneme_times"].reshape(-1, 2)
    phonemes = tuple(Phoneme(str(s), float(a), float(b), int(k))
                     for s, (a, b), k in zip(data["phoneme_symbols"], pt, data["phoneme_stress"],
                                             strict=True))
    segs = tuple((float(a), float(b)) for a, b in data["segment_times"].reshape(-1, 2))
    return Speech(samples, sr, words, phonemes, segs, str(data.get("language", "en")))


# --------------------------------------------------------------------------- resampling
def resample_rotations(aa: np.ndarray, src_fps: float, dst_fps: float, frames: int) -> np.ndarray:
    """Resample axis-angle rotations (T,...,3) to ``frames`` frames at ``dst_fps`` by slerp."""
    t = aa.shape[0]
    pos = np.clip(np.arange(frames) * (src_fps / dst_fps), 0, t - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, t - 1)
    w = (pos - i0).reshape((frames,) + (1,) * (aa.ndim - 2))  # leading dims only
    q0, q1 = axis_angle_to_quaternion(aa[i0]), axis_angle_to_quaternion(aa[i1])
    return quaternion_to_axis_angle(slerp(q0, q1, w)).astype(np.float32)


def _resample_linear(x: np.ndarray, src_fps: float, dst_fps: float, frames: int) -> np.ndarray:
    t = x.shape[0]
    pos = np.clip(np.arange(frames) * (src_fps / dst_fps), 0, t - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, t - 1)
    w = (pos - i0).reshape((frames,) + (1,) * (x.ndim - 1))
    return (x[i0] * (1 - w) + x[i1] * w).astype(np.float32)


def conform(perf: Performance, fps: float) -> Performance:
    """Resample ``perf`` to ``fps`` and make it cover its audio exactly.

    Frames past the end of the motion hold its last frame; frames past the audio are dropped.
    """
    frames = frame_count(perf.speech.duration, fps)
    if abs(fps - perf.fps) < 1e-9 and frames == perf.frames:
        return perf
    src = perf.fps
    b, f = perf.body, perf.face
    rot = lambda a: resample_rotations(a, src, fps, frames)  # noqa: E731
    lin = lambda a: _resample_linear(a, src, fps, frames)  # noqa: E731
    body = BodyTrack(fps, rot(b.poses), lin(b.trans), b.betas)
    face = FaceTrack(fps, lin(f.arkit), lin(f.visemes), rot(f.jaw), rot(f.eyes), rot(f.head),
                     None if f.expressions is None else lin(f.expressions))
    return Performance(perf.speech, face, body, script_text=perf.script_text, source=perf.source)
