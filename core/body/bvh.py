# SPDX-License-Identifier: GPL-3.0-or-later
"""BVH export of the SMPL-X skeleton at any fps, and a BVH reader.

The file holds the 55 SMPL-X joints (names as :data:`~..names.SMPLX_JOINTS`) with offsets from
the rest skeleton (:data:`~.skeleton.REST_JOINTS`, or a real model's joints), in centimetres by
default (``scale=100``), Y up, facing +Z, as in SMPL-X. The root has six channels
(``Xposition Yposition Zposition Zrotation Xrotation Yrotation``), every other joint three
(``Zrotation Xrotation Yrotation``): the local rotation is ``Rz @ Rx @ Ry`` in degrees. Leaves
get an ``End Site``. The rest pose is the SMPL-X T-pose, so the channels are the SMPL-X local
rotations themselves. Hand rotations are written as stored (relative to the MANO mean hand).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..names import JOINT_INDEX, NUM_JOINTS, SMPLX_JOINTS, SMPLX_PARENTS
from ..paths import atomic_file
from ..rotations import axis_angle_to_matrix, matrix_to_axis_angle
from ..types import BodyTrack
from .skeleton import REST_JOINTS

_AXES = {"X": 0, "Y": 1, "Z": 2}


def matrix_to_euler_zxy(m: np.ndarray) -> np.ndarray:
    """(...,3) angles (z, x, y) in radians with ``m = Rz(z) @ Rx(x) @ Ry(y)`` for (...,3,3)."""
    x = np.arcsin(np.clip(m[..., 2, 1], -1.0, 1.0))
    y = np.arctan2(-m[..., 2, 0], m[..., 2, 2])
    z = np.arctan2(-m[..., 0, 1], m[..., 1, 1])
    return np.stack([z, x, y], axis=-1)


def _axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    aa = np.zeros(angle.shape + (3,))
    aa[..., axis] = angle
    return axis_angle_to_matrix(aa)


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {i: [] for i in range(NUM_JOINTS)}
    for i, parent in enumerate(SMPLX_PARENTS):
        if parent >= 0:
            kids[parent].append(i)
    return kids


def write_bvh(body: BodyTrack, path: str | os.PathLike, *, fps: float | None = None,
              rest: np.ndarray | None = None, scale: float = 100.0) -> Path:
    """Write ``body`` as BVH (resampled to ``fps`` when given). Atomic; returns the path.

    ``rest``: (55,3) rest joints in metres (default the built-in skeleton); ``scale`` converts
    metres to file units (100: centimetres).
    """
    from .emage import resample

    path = Path(path)
    joints = REST_JOINTS if rest is None else np.asarray(rest, np.float64)
    if fps is not None:
        body = resample(body, float(fps))
    poses, trans, src = body.poses.astype(np.float64), body.trans.astype(np.float64), body.fps
    kids = _children()
    lines = ["HIERARCHY"]
    order: list[int] = []

    def emit(i: int, depth: int) -> None:
        pad = "  " * depth
        parent = SMPLX_PARENTS[i]
        off = np.zeros(3) if parent < 0 else (joints[i] - joints[parent]) * scale
        lines.append(f"{pad}{'ROOT' if parent < 0 else 'JOINT'} {SMPLX_JOINTS[i]}")
        lines.append(pad + "{")
        lines.append(f"{pad}  OFFSET {off[0]:.6f} {off[1]:.6f} {off[2]:.6f}")
        if parent < 0:
            lines.append(f"{pad}  CHANNELS 6 Xposition Yposition Zposition "
                         "Zrotation Xrotation Yrotation")
        else:
            lines.append(f"{pad}  CHANNELS 3 Zrotation Xrotation Yrotation")
        order.append(i)
        for k in kids[i]:
            emit(k, depth + 1)
        if not kids[i]:
            tip = (joints[i] - joints[parent]) * 0.5 * scale if parent >= 0 else np.zeros(3)
            if SMPLX_JOINTS[i] in ("jaw", "left_eye_smplhf", "right_eye_smplhf"):
                tip = np.array([0.0, 0.0, 0.05 * scale])
            lines.append(f"{pad}  End Site")
            lines.append(pad + "  {")
            lines.append(f"{pad}    OFFSET {tip[0]:.6f} {tip[1]:.6f} {tip[2]:.6f}")
            lines.append(pad + "  }")
        lines.append(pad + "}")

    emit(0, 0)
    euler = np.degrees(matrix_to_euler_zxy(axis_angle_to_matrix(poses[:, order])))
    root = (joints[0] + trans) * scale
    values = np.concatenate([root, euler.reshape(len(poses), -1)], axis=1)
    lines += ["MOTION", f"Frames: {len(poses)}", f"Frame Time: {1.0 / src:.8f}"]
    body_text = "\n".join(lines) + "\n"
    rows = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in values)
    _write_text(path, body_text + rows + "\n")
    return path


def _write_text(path: Path, text: str) -> None:
    with atomic_file(path, "w", encoding="ascii") as f:
        f.write(text)


@dataclass(frozen=True)
class Bvh:
    """A parsed BVH file: joints in file order, with parents, offsets and channel names."""

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray
    """(J,3) in file units."""
    channels: tuple[tuple[str, ...], ...]
    frame_time: float
    values: np.ndarray
    """(T,C) channel values, degrees and file units."""


def parse_bvh(path: str | os.PathLike) -> Bvh:
    """Parse a BVH file (any joint names, channel orders and rotation orders)."""
    path = Path(path)
    try:
        tokens = path.read_text(encoding="utf-8", errors="replace").split()
    except OSError as e:
        raise InputError(f"{path}: cannot read the BVH file ({e})") from None
    names, parents, offsets, channels = [], [], [], []
    stack: list[int] = []
    i, last = 0, -1
    try:
        while tokens[i] != "MOTION":
            tok = tokens[i]
            if tok in ("ROOT", "JOINT"):
                names.append(tokens[i + 1])
                parents.append(stack[-1] if stack else -1)
                last = len(names) - 1
                offsets.append(None)
                channels.append(())
                i += 2
            elif tok == "End":
                last = -2  # an end site: its offset is skipped
                i += 2
            elif tok == "{":
                stack.append(last)
                i += 1
            elif tok == "}":
                stack.pop()
                i += 1
            elif tok == "OFFSET":
                if last >= 0:
                    offsets[last] = [float(v) for v in tokens[i + 1:i + 4]]
                i += 4
            elif tok == "CHANNELS":
                n = int(tokens[i + 1])
                channels[last] = tuple(tokens[i + 2:i + 2 + n])
                i += 2 + n
            else:
                i += 1
        frames = int(tokens[i + 2])
        frame_time = float(tokens[i + 5])
        width = sum(len(c) for c in channels)
        values = np.array(tokens[i + 6:i + 6 + frames * width], dtype=np.float64)
        values = values.reshape(frames, width)
    except (IndexError, ValueError) as e:
        raise InputError(f"{path}: not a readable BVH file ({e})") from None
    return Bvh(tuple(names), tuple(parents), np.array(offsets, np.float64), tuple(channels),
               frame_time, values)


def read_bvh(path: str | os.PathLike, *, scale: float = 100.0) -> tuple[BodyTrack, np.ndarray]:
    """Read a BVH of the SMPL-X skeleton into a BodyTrack and its (55,3) rest joints (metres).

    Joints are matched by name; any rotation channel order is accepted.
    """
    b = parse_bvh(path)
    missing = [n for n in SMPLX_JOINTS if n not in b.names]
    if missing:
        raise InputError(f"{path}: not an SMPL-X skeleton (missing joints {missing[:3]}...)")
    t = b.values.shape[0]
    poses = np.zeros((t, NUM_JOINTS, 3))
    rest = np.zeros((NUM_JOINTS, 3))
    root_pos = np.zeros((t, 3))
    col = 0
    for k, name in enumerate(b.names):
        chans = b.channels[k]
        vals = b.values[:, col:col + len(chans)]
        col += len(chans)
        r = np.broadcast_to(np.eye(3), (t, 3, 3))
        pos = np.zeros((t, 3))
        for c, ch in enumerate(chans):
            if ch.endswith("rotation"):
                r = r @ _axis_rotation(_AXES[ch[0].upper()], np.radians(vals[:, c]))
            elif ch.endswith("position"):
                pos[:, _AXES[ch[0].upper()]] = vals[:, c]
        if name not in JOINT_INDEX:
            continue
        j = JOINT_INDEX[name]
        poses[:, j] = matrix_to_axis_angle(r)
        parent = b.parents[k]
        if parent < 0:
            root_pos = (pos + b.offsets[k]) / scale
        else:
            rest[j] = rest[JOINT_INDEX[b.names[parent]]] + b.offsets[k] / scale
    # the file's root carries absolute positions: place the rest root at the SMPL-X pelvis
    rest += REST_JOINTS[0]
    fps = round(1.0 / b.frame_time, 3)  # the file stores 1/fps to 8 decimals
    return BodyTrack(fps, poses, root_pos - REST_JOINTS[0]), rest
