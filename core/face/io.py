# SPDX-License-Identifier: GPL-3.0-or-later
"""Face animation files in and out: Live Link Face CSV, Rhubarb-style JSON, FLAME npz.

**Live Link Face CSV** (Epic's iPhone app): a header ``Timecode,BlendShapeCount,EyeBlinkLeft,
...,TongueOut,HeadYaw,HeadPitch,HeadRoll,LeftEyeYaw,LeftEyePitch,LeftEyeRoll,RightEyeYaw,
RightEyePitch,RightEyeRoll``; ARKit names in PascalCase; one row per captured frame (~30 or
60 Hz) stamped ``HH:MM:SS:FF.fff`` (FF counts frames at the timecode rate, usually 60; ``.fff``
is a sub-frame fraction). Rows are resampled onto a uniform grid at the capture rate, so dropped
frames do not shift time. Rows with the wrong number of columns or unreadable numbers are
skipped with a :class:`UserWarning` naming the line. Angles are radians. The app's pitch looks
down when positive (as ours) and its yaw looks to the character's right (the captures' eyeLookIn
and eyeLookOut curves show it), so yaw changes sign on the way in and out.

**Rhubarb-style JSON**: ``{"metadata": {...}, "mouthCues": [{"start": s, "end": s, "value":
"A".."H" | "X"}]}`` with Rhubarb Lip Sync's mouth shapes: A closed (p b m), B slightly open with
clenched teeth (most consonants, ee), C open (eh, ae), D wide open (aa), E slightly rounded
(ao, er), F puckered (uw, ow, w), G upper teeth on the lower lip (f v), H tongue raised (long l),
X idle/rest.

**FLAME npz**: ``expression`` (T,100) FLAME expression coefficients, ``jaw_pose``,
``neck_pose``, ``leye_pose``, ``reye_pose`` (T,3) axis-angle (rad), ``mocap_frame_rate``.
:func:`read_flame_npz` also accepts ``expressions``/``exp`` and an EMAGE/SMPL-X ``poses``
(T,165) for the jaw and eyes. Files load with ``allow_pickle=False``.

Every writer writes a temporary file beside the target and renames it into place.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

from ..errors import DataError, InputError, OutputError
from ..names import ARKIT_52, ARKIT_INDEX, VISEME_INDEX, VISEMES
from ..types import FaceTrack, Speech, frame_count
from .arkit import MOUTH, VISEME_POSES, close_lips
from .procedural import JAW_RADIANS
from .visemes import units

# --------------------------------------------------------------------------- Live Link Face
_POSE_COLUMNS = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch",
                 "LeftEyeRoll", "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
_LLF_ORDER = (  # the column order Live Link Face writes (differs from ARKIT_52 around the jaw)
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft",
    "EyeSquintLeft", "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight",
    "EyeLookOutRight", "EyeLookUpRight", "EyeSquintRight", "EyeWideRight", "JawForward",
    "JawRight", "JawLeft", "JawOpen", "MouthClose", "MouthFunnel", "MouthPucker", "MouthRight",
    "MouthLeft", "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft", "MouthFrownRight",
    "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft",
    "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft",
    "MouthUpperUpRight", "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft",
    "BrowOuterUpRight", "CheekPuff", "CheekSquintLeft", "CheekSquintRight", "NoseSneerLeft",
    "NoseSneerRight", "TongueOut",
)
_TIMECODE = re.compile(r"^(\d+):(\d\d):(\d\d)[:;](\d+(?:\.\d+)?)$")
_COMMON_FPS = (24.0, 25.0, 30.0, 48.0, 50.0, 60.0, 120.0)


def _arkit_name(pascal: str) -> str:
    return pascal[:1].lower() + pascal[1:]


def _parse_timecode(text: str) -> tuple[int, float]:
    """(whole seconds, frame number with its sub-frame fraction) of ``HH:MM:SS:FF.fff``."""
    m = _TIMECODE.match(text.strip())
    if not m:
        raise ValueError(f"bad timecode {text!r}")
    h, mi, s, ff = m.groups()
    return int(h) * 3600 + int(mi) * 60 + int(s), float(ff)


def _snap_fps(dt: float) -> float:
    fps = 1.0 / dt
    best = min(_COMMON_FPS, key=lambda f: abs(f - fps))
    return best if abs(best - fps) / fps < 0.04 else round(fps, 3)


def visemes_from_arkit(arkit: np.ndarray) -> np.ndarray:
    """(T,15) Oculus viseme weights that best explain the mouth channels of ``arkit`` (T,52):
    a non-negative least-squares fit of the viseme poses per frame, ``sil`` taking the rest."""
    a = VISEME_POSES[:, MOUTH].T  # (mouth channels, 15)
    out = np.zeros((len(arkit), len(VISEMES)))
    for i, frame in enumerate(arkit[:, MOUTH]):
        out[i], _ = nnls(a, frame)
    out[:, VISEME_INDEX["sil"]] = 0.0
    total = out.sum(axis=1)
    out /= np.maximum(total, 1.0)[:, None]
    out[:, VISEME_INDEX["sil"]] = np.clip(1.0 - out.sum(axis=1), 0.0, 1.0)
    return out


def read_livelink_csv(path: str | os.PathLike) -> FaceTrack:
    """Read a Live Link Face CSV into a FaceTrack at its capture rate (see the module doc).

    Raises InputError when the file is missing or not a Live Link Face CSV, DataError when no
    row is usable. Malformed rows are skipped with a warning naming the line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such Live Link Face CSV") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read it as a UTF-8 CSV ({e})") from None
    rows = csv.reader(io.StringIO(text))
    header = next(rows, [])
    if len(header) < 3 or header[0].strip() != "Timecode":
        raise InputError(f"{path}: not a Live Link Face CSV (first column must be Timecode)")
    cols = {name.strip(): i for i, name in enumerate(header)}
    shape_cols = [cols.get(_LLF_ORDER[[_arkit_name(n) for n in _LLF_ORDER].index(a)])
                  for a in ARKIT_52]
    if sum(c is not None for c in shape_cols) < 10:
        raise InputError(f"{path}: the header names no ARKit blendshapes (PascalCase expected)")
    pose_cols = [cols.get(n) for n in _POSE_COLUMNS]
    stamps: list[tuple[int, float]] = []
    values: list[list[float]] = []
    for line, row in enumerate(rows, start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            warnings.warn(f"{path.name}: line {line} has {len(row)} columns, expected "
                          f"{len(header)}; skipped", stacklevel=2)
            continue
        try:
            stamp = _parse_timecode(row[0])
            vals = [float(row[c]) if c is not None else 0.0 for c in shape_cols + pose_cols]
        except ValueError as e:
            warnings.warn(f"{path.name}: line {line} is unreadable ({e}); skipped", stacklevel=2)
            continue
        if not all(math.isfinite(v) for v in vals):
            warnings.warn(f"{path.name}: line {line} holds NaN or inf; skipped", stacklevel=2)
            continue
        stamps.append(stamp)
        values.append(vals)
    if len(values) < 2:
        raise DataError(f"{path}: fewer than two usable rows of face data")
    tc_rate = float(math.floor(max(f for _, f in stamps)) + 1)
    tc_rate = min((24.0, 25.0, 30.0, 50.0, 60.0), key=lambda r: abs(r - tc_rate))
    secs = np.array([s + f / tc_rate for s, f in stamps])
    secs = np.where(secs < secs[0] - 43200, secs + 86400, secs)  # past midnight
    order = np.argsort(secs, kind="stable")
    secs, data = secs[order] - secs[order][0], np.array(values)[order]
    keep = np.concatenate([[True], np.diff(secs) > 1e-6])
    secs, data = secs[keep], data[keep]
    fps = _snap_fps(float(np.median(np.diff(secs))))
    grid = np.arange(frame_count(secs[-1] + 1.0 / fps - 1e-9, fps)) / fps
    data = np.stack([np.interp(grid, secs, data[:, k]) for k in range(data.shape[1])], axis=1)
    arkit = np.clip(data[:, :52], 0.0, 1.0)
    pose = data[:, 52:]
    head = np.stack([pose[:, 1], -pose[:, 0], pose[:, 2]], axis=1)
    eyes = np.stack([np.stack([pose[:, 4 + 3 * k], -pose[:, 3 + 3 * k], pose[:, 5 + 3 * k]], 1)
                     for k in (0, 1)], axis=1)
    jaw = np.zeros((len(grid), 3))
    jaw[:, 0] = JAW_RADIANS * arkit[:, ARKIT_INDEX["jawOpen"]]
    return FaceTrack(fps, arkit, visemes_from_arkit(arkit), jaw, eyes, head)


def _timecode(frame: int, fps: float) -> str:
    rate = max(1, round(fps))
    secs, ff = divmod(frame, rate)
    h, rest = divmod(secs, 3600)
    m, s = divmod(rest, 60)
    return f"{h % 24:02d}:{m:02d}:{s:02d}:{ff:02d}.000"


def _write_atomic(path: Path, data: str | bytes) -> Path:
    if not path.parent.is_dir():
        raise OutputError(f"{path.parent}: the output folder does not exist")
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8", newline="")
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write it ({e})") from None
    return path


def write_livelink_csv(face: FaceTrack, path: str | os.PathLike) -> Path:
    """Write ``face`` as a Live Link Face CSV (timecodes from 00:00:00:00 at the track's fps,
    rounded to whole frames per second; head and eye angles in radians, the app's signs)."""
    path = Path(path)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Timecode", "BlendShapeCount", *_LLF_ORDER, *_POSE_COLUMNS])
    order = [ARKIT_INDEX[_arkit_name(n)] for n in _LLF_ORDER]
    for f in range(face.frames):
        e, hd = face.eyes[f], face.head[f]
        pose = (-hd[1], hd[0], hd[2], -e[0, 1], e[0, 0], e[0, 2], -e[1, 1], e[1, 0], e[1, 2])
        w.writerow([_timecode(f, face.fps), 61, *(f"{face.arkit[f, k]:.10f}" for k in order),
                    *(f"{v:.10f}" for v in pose)])
    return _write_atomic(path, buf.getvalue())


# --------------------------------------------------------------------------- Rhubarb JSON
RHUBARB_SHAPES: dict[str, tuple[tuple[str, float], ...]] = {
    "A": (("PP", 1.0),),
    "B": (("DD", 0.6), ("ih", 0.4)),
    "C": (("E", 1.0),),
    "D": (("aa", 1.0),),
    "E": (("oh", 1.0),),
    "F": (("ou", 1.0),),
    "G": (("FF", 1.0),),
    "H": (("nn", 0.5), ("TH", 0.5)),
    "X": (("sil", 1.0),),
}
"""Rhubarb mouth shape -> (Oculus viseme, weight) mix."""
_VISEME_SHAPE = {"sil": "X", "PP": "A", "FF": "G", "TH": "H", "DD": "B", "kk": "B", "CH": "B",
                 "SS": "B", "nn": "B", "RR": "E", "aa": "D", "E": "C", "ih": "B", "oh": "E",
                 "ou": "F"}


def read_rhubarb_json(path: str | os.PathLike, fps: float, frames: int | None = None
                      ) -> FaceTrack:
    """Rhubarb-style mouth cues -> FaceTrack at ``fps`` (``frames`` defaults to cover the last
    cue). Shapes blend over ~1.5 frames; A (closed) frames keep the lips fully shut."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        cues = doc["mouthCues"]
        spans = [(float(c["start"]), float(c["end"]), str(c["value"]).upper()) for c in cues]
    except FileNotFoundError:
        raise InputError(f"{path}: no such Rhubarb JSON file") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"{path}: not a Rhubarb JSON with mouthCues ({e})") from None
    for a, b, v in spans:
        if v not in RHUBARB_SHAPES or not (math.isfinite(a) and math.isfinite(b)) or b < a:
            raise DataError(f"{path}: bad mouth cue {a}..{b} {v!r} (shapes A-H and X)")
    fps = float(fps)
    if frames is None:
        frames = frame_count(max((b for _, b, _ in spans), default=0.0), fps)
    times = np.arange(frames) / fps
    vis = np.zeros((frames, len(VISEMES)))
    vis[:, VISEME_INDEX["sil"]] = 1.0
    closed = np.zeros(frames, bool)
    for a, b, v in spans:
        sel = (times >= a - 1e-9) & (times < b - 1e-9)
        if not sel.any() and v == "A":  # a closure shorter than a frame keeps its nearest one
            sel[min(frames - 1, round((a + b) / 2 * fps))] = True
        vis[sel] = 0.0
        for name, wgt in RHUBARB_SHAPES[v]:
            vis[sel, VISEME_INDEX[name]] = wgt
        closed |= sel if v == "A" else False
    from scipy.ndimage import gaussian_filter1d

    vis = gaussian_filter1d(vis, 0.6, axis=0, mode="nearest")
    arkit = np.clip(vis @ VISEME_POSES, 0.0, 1.0)
    arkit[closed] = close_lips(arkit[closed])
    vis[closed] = np.eye(len(VISEMES))[VISEME_INDEX["PP"]]
    jaw = np.zeros((frames, 3))
    jaw[:, 0] = JAW_RADIANS * arkit[:, ARKIT_INDEX["jawOpen"]]
    return FaceTrack(fps, arkit, vis, jaw, np.zeros((frames, 2, 3)), np.zeros((frames, 3)))


def _cues_from_speech(speech: Speech) -> list[tuple[float, float, str]]:
    out: list[tuple[float, float, str]] = []
    t = 0.0
    for ph in speech.phonemes:
        if ph.start > t + 1e-6:
            out.append((t, ph.start, "X"))
        main = max(units(ph.symbol), key=lambda u: u.share)
        shape = "H" if main.tongue else _VISEME_SHAPE[main.viseme]
        out.append((ph.start, ph.end, shape))
        t = max(t, ph.end)
    if speech.duration > t + 1e-6:
        out.append((t, speech.duration, "X"))
    return out


def _cues_from_face(face: FaceTrack) -> list[tuple[float, float, str]]:
    idx = face.visemes.argmax(axis=1)
    shapes = [_VISEME_SHAPE[VISEMES[k]] for k in idx]
    closed = face.arkit[:, ARKIT_INDEX["mouthClose"]] > 0.5
    shapes = ["A" if c else s for s, c in zip(shapes, closed)]
    return [(f / face.fps, (f + 1) / face.fps, s) for f, s in enumerate(shapes)]


def write_rhubarb_json(face_or_speech: FaceTrack | Speech, path: str | os.PathLike,
                       sound_file: str = "") -> Path:
    """Write Rhubarb-style mouth cues from a Speech (its phoneme timings, exact) or a FaceTrack
    (its dominant viseme per frame). Neighbouring equal shapes merge; times have 3 decimals."""
    src = face_or_speech
    if isinstance(src, Speech):
        cues, duration = _cues_from_speech(src), src.duration
    elif isinstance(src, FaceTrack):
        cues, duration = _cues_from_face(src), src.frames / src.fps
    else:
        raise InputError("write_rhubarb_json takes a FaceTrack or a Speech")
    merged: list[list] = []
    for a, b, v in cues:
        if merged and merged[-1][2] == v:
            merged[-1][1] = b
        elif b - a > 1e-6:
            merged.append([a, b, v])
    doc = {
        "metadata": {"soundFile": sound_file, "duration": round(duration, 3)},
        "mouthCues": [{"start": round(a, 3), "end": round(b, 3), "value": v}
                      for a, b, v in merged],
    }
    return _write_atomic(Path(path), json.dumps(doc, indent=2) + "\n")


# --------------------------------------------------------------------------- FLAME npz
def write_flame_npz(face: FaceTrack, path: str | os.PathLike, jaw_only: bool = False) -> Path:
    """Write ``face``'s FLAME parameters (keys in the module doc). A face without FLAME
    expressions (a semantic backend) raises OutputError unless ``jaw_only`` allows writing
    zero expressions with the jaw, eye and neck poses."""
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise OutputError(f"{path}: a FLAME parameter file must end in .npz")
    exp = face.expressions
    if exp is None:
        if not jaw_only:
            raise OutputError("this face has no FLAME expressions (set a FLAME model in the "
                              "face settings, or pass jaw_only=True for jaw/eyes only)")
        exp = np.zeros((face.frames, 100), np.float32)
    buf = io.BytesIO()
    np.savez(buf, expression=exp.astype(np.float32), jaw_pose=face.jaw.astype(np.float32),
             neck_pose=face.head.astype(np.float32), leye_pose=face.eyes[:, 0],
             reye_pose=face.eyes[:, 1], mocap_frame_rate=np.float32(face.fps))
    return _write_atomic(path, buf.getvalue())


def _key(z, *names: str):
    for n in names:
        if n in z.files:
            return np.asarray(z[n])
    return None


def read_flame_npz(path: str | os.PathLike, fps: float | None = None) -> FaceTrack:
    """Read FLAME parameters (ours, or EMAGE-style ``expressions`` + ``poses``) into a
    FaceTrack with ``expressions`` (T,100). The ARKit curves carry only jawOpen (from the jaw
    angle): mapping FLAME expressions to ARKit needs the FLAME model itself. ``fps`` is needed
    when the file stores no ``mocap_frame_rate``."""
    path = Path(path)
    try:
        z = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such FLAME npz file") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not a readable .npz ({e})") from None
    with z:
        try:
            exp = _key(z, "expression", "expressions", "exp")
            rate = _key(z, "mocap_frame_rate", "fps")
            poses = _key(z, "poses")
            jaw = _key(z, "jaw_pose", "jaw")
            leye, reye, neck = _key(z, "leye_pose"), _key(z, "reye_pose"), _key(z, "neck_pose")
        except ValueError as e:  # object arrays need pickle: refused
            raise InputError(f"{path}: unsafe or unreadable array ({e})") from None
    if exp is None or exp.ndim != 2:
        raise DataError(f"{path}: no (T,N) 'expression' array in the file")
    t = exp.shape[0]
    if rate is None and fps is None:
        raise InputError(f"{path}: the file has no frame rate; pass fps")
    fps = float(fps if fps is not None else rate)
    full = np.zeros((t, 100), np.float32)
    full[:, :min(100, exp.shape[1])] = exp[:, :100]
    zeros = np.zeros((t, 3), np.float32)
    if poses is not None and poses.shape == (t, 165):
        jaw = poses[:, 66:69] if jaw is None else jaw
        leye = poses[:, 69:72] if leye is None else leye
        reye = poses[:, 72:75] if reye is None else reye
    jaw = zeros if jaw is None else jaw
    eyes = np.stack([zeros if leye is None else leye, zeros if reye is None else reye], axis=1)
    arkit = np.zeros((t, 52))
    arkit[:, ARKIT_INDEX["jawOpen"]] = np.clip(jaw[:, 0] / JAW_RADIANS, 0.0, 1.0)
    vis = visemes_from_arkit(arkit)
    return FaceTrack(fps, arkit, vis, jaw, eyes, zeros if neck is None else neck, full)
