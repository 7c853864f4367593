# SPDX-License-Identifier: GPL-3.0-or-later
"""EMAGE / BEAT2 SMPL-X motion: import at any fps, root drift fix, foot locking, blending into
our idle motion, and a backend that runs the user's own PantoMatrix EMAGE installation.

EMAGE writes an ``.npz`` with ``poses`` (T,165) axis-angle in smplx joint order, ``trans``
(T,3), ``betas``, ``expressions`` (T,100) and ``mocap_frame_rate`` (30), hands relative to the
MANO mean hand (``flat_hand_mean=False``), which is the convention of our BodyTrack: the hands
are taken as they are.

**The backend** (``BodySettings.backend = "emage"``) needs, installed by the user:

1. a checkout of PantoMatrix (``git clone https://github.com/PantoMatrix/PantoMatrix``) with its
   requirements installed (``pip install -r requirements.txt``: torch, smplx, librosa...);
2. its EMAGE audio checkpoint (the repository's ``test_emage_audio.py`` downloads it from the
   Hugging Face model ``H-Liu1997/emage_audio`` on first use, or from its local cache);
3. ``BodySettings.emage_dir`` set to that checkout, and ``emage_python`` to the Python of the
   environment it is installed in (default: the running interpreter).

We write the speech as a 16 kHz mono WAV into a folder, run
``<python> test_emage_audio.py --audio_folder <in> --save_folder <out>`` in the checkout, and
import the ``.npz`` it writes. Nothing of EMAGE is shipped or imported here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .. import audio
from ..errors import BackendError
from ..names import JOINT_INDEX
from ..performance import resample_rotations
from ..rotations import (
    axis_angle_to_matrix,
    axis_angle_to_quaternion,
    matrix_to_axis_angle,
    quaternion_to_axis_angle,
    slerp,
)
from ..settings import BodySettings
from ..types import BodyTrack, Script, Segment, Speech, frame_count
from .idle import plant_legs
from .skeleton import forward_kinematics
from .smplx_npz import read_smplx_npz

J = JOINT_INDEX
EMAGE_SCRIPT = "test_emage_audio.py"
EMAGE_SAMPLE_RATE = 16000
CONTACT_HEIGHT = 0.03
"""A foot within this many metres of its lowest point in the clip may be planted."""
CONTACT_SPEED = 0.25
"""... and moving slower than this (m/s)."""
_SIDES = ("left", "right")


# --------------------------------------------------------------------------- import
def resample(body: BodyTrack, fps: float, frames: int | None = None) -> BodyTrack:
    """``body`` at ``fps`` (slerp for rotations, linear for translation); ``frames`` defaults
    to the same duration; frames past the end hold the last one."""
    if frames is None:
        frames = max(1, int(round((body.frames - 1) * fps / body.fps)) + 1)
    if abs(fps - body.fps) < 1e-9 and frames == body.frames:
        return body
    at = np.clip(np.arange(frames) * (body.fps / fps), 0, body.frames - 1)
    trans = np.stack([np.interp(at, np.arange(body.frames), body.trans[:, k]) for k in range(3)],
                     axis=-1)
    return BodyTrack(fps, resample_rotations(body.poses, body.fps, fps, frames), trans,
                     body.betas)


def fix_root(body: BodyTrack, policy: str = "in_place", remove_drift: bool = True) -> BodyTrack:
    """Root drift fix. ``in_place``: start at the origin facing +Z (the mean heading of the
    first second is removed) and, with ``remove_drift``, remove the slow horizontal drift of the
    root (what is left is the sway faster than ~0.1 Hz). ``keep``: unchanged.

    With foot locking, drift removal is left to :func:`foot_lock` (drift is mostly feet
    sliding; removing it from the root afterwards would make the planted feet slide again)."""
    if policy == "keep":
        return body
    poses = body.poses.astype(np.float64).copy()
    trans = body.trans.astype(np.float64).copy()
    r_root = axis_angle_to_matrix(poses[:, 0])
    fwd = r_root[:, :, 2]
    heading = np.arctan2(fwd[:, 0], fwd[:, 2])
    n0 = max(1, min(len(heading), int(body.fps)))
    yaw = np.arctan2(np.sin(heading[:n0]).mean(), np.cos(heading[:n0]).mean())
    undo = axis_angle_to_matrix(np.array([0.0, -yaw, 0.0]))
    poses[:, 0] = matrix_to_axis_angle(undo @ r_root)
    trans = trans @ undo.T
    trans[:, [0, 2]] -= trans[0, [0, 2]]
    if remove_drift:
        drift = gaussian_filter1d(trans[:, [0, 2]], 1.6 * body.fps, axis=0, mode="nearest")
        trans[:, [0, 2]] -= drift - drift[0]
    return BodyTrack(body.fps, poses, trans, body.betas)


def contacts(pos: np.ndarray, fps: float) -> dict[str, np.ndarray]:
    """Per side, (T,) True where the foot (ankle and toe) is planted: low and slow."""
    out = {}
    for side in _SIDES:
        pts = pos[:, [J[f"{side}_ankle"], J[f"{side}_foot"]]]
        low = pts[:, :, 1] < pts[:, :, 1].min(axis=0) + CONTACT_HEIGHT
        speed = np.linalg.norm(np.gradient(pts[:, :, [0, 2]], 1.0 / fps, axis=0), axis=-1)
        out[side] = np.all(low, axis=1) & np.all(speed < CONTACT_SPEED, axis=1)
    return out


def foot_lock(body: BodyTrack) -> BodyTrack:
    """Remove foot sliding: while a foot is planted it stays exactly where it landed.

    The root is first shifted so that the planted feet (their mean) do not slide, then each
    planted leg is re-solved (two-bone IK) to put its ankle back on its anchor with the
    orientation it had when it landed; swing phases keep the original legs.
    """
    poses = body.poses.astype(np.float64).copy()
    trans = body.trans.astype(np.float64).copy()
    pos, rot = forward_kinematics(poses, trans)
    planted = contacts(pos, body.fps)
    # 1. root shift: the mean of the planted ankles keeps its landing position
    offset = np.zeros(3)
    anchors: dict[str, np.ndarray | None] = {s: None for s in _SIDES}
    for f in range(len(poses)):
        on = [s for s in _SIDES if planted[s][f]]
        for s in _SIDES:
            if not planted[s][f]:
                anchors[s] = None
            elif anchors[s] is None:
                anchors[s] = pos[f, J[f"{s}_ankle"]] + offset
        if on:
            drift = np.mean([anchors[s] - (pos[f, J[f"{s}_ankle"]] + offset) for s in on], axis=0)
            offset = offset + np.array([drift[0], 0.0, drift[2]])
        trans[f] += offset
    # 2. leg IK onto each foot's anchor, with the ankle orientation it landed with
    pos, rot = forward_kinematics(poses, trans)
    targets, world = {}, {}
    for s in _SIDES:
        ankle = J[f"{s}_ankle"]
        tgt, rw = pos[:, ankle].copy(), rot[:, ankle].copy()
        start = None
        for f in range(len(poses)):
            if planted[s][f]:
                start = f if start is None else start
                tgt[f], rw[f] = tgt[start], rw[start]
            else:
                start = None
        targets[s], world[s] = tgt, rw
    plant_legs(poses, trans, targets, world, planted)
    return BodyTrack(body.fps, poses, trans, body.betas)


def idle_body(fps: float, frames: int, seed: int = 0) -> BodyTrack:
    """Our idle motion (procedural, energy 0) for ``frames`` frames."""
    from .procedural import animate

    speech = Speech(np.zeros(max(1, int(np.ceil(frames / fps * 16000))), np.float32), 16000)
    track = animate(Script((Segment("idle"),)), speech, fps, BodySettings(energy=0.0, seed=seed))
    return BodyTrack(fps, track.poses[:frames], track.trans[:frames], track.betas)


def blend_with_idle(body: BodyTrack, seconds: float, seed: int = 0) -> BodyTrack:
    """Ease the first and last ``seconds`` of ``body`` in from and out to our idle motion.

    Joint rotations are slerped; the translation stays the body's own (plus the idle sway
    while blended), so the blend never drags the body across the floor.
    """
    n = body.frames
    k = int(round(seconds * body.fps))
    if k <= 0 or n < 2:
        return body
    idle = idle_body(body.fps, n, seed)
    w = np.ones(n)
    ramp = np.arange(n) / max(k, 1)
    w = np.minimum(w, np.clip(ramp, 0.0, 1.0))
    w = np.minimum(w, np.clip(ramp[::-1], 0.0, 1.0))
    w = w * w * (3.0 - 2.0 * w)
    q = slerp(axis_angle_to_quaternion(idle.poses), axis_angle_to_quaternion(body.poses),
              w[:, None])
    # the body keeps its place; the idle sway fades in and out around it
    trans = body.trans + (1.0 - w)[:, None] * (idle.trans - idle.trans.mean(axis=0))
    return BodyTrack(body.fps, quaternion_to_axis_angle(q), trans, body.betas)


def import_emage(path: str | os.PathLike, fps: float, settings: BodySettings | None = None,
                 duration: float | None = None) -> BodyTrack:
    """Load an EMAGE/BEAT2 npz and make it ready to play at ``fps``.

    Resamples (any source fps), fits ``duration`` seconds when given (holding the last
    frame), fixes the root (``settings.root``), blends start and end into our idle motion
    (``settings.blend`` seconds) and locks the feet (``settings.foot_lock``), last, so that
    the blend does not slide them either.
    """
    body = read_smplx_npz(path)
    frames = frame_count(duration, fps) if duration is not None else None
    return prepare(resample(body, float(fps), frames), settings)


def prepare(body: BodyTrack, settings: BodySettings | None = None) -> BodyTrack:
    """Root fix, blend into idle and foot locking (per ``settings``) of loaded EMAGE motion."""
    settings = settings or BodySettings()
    body = fix_root(body, settings.root, remove_drift=not settings.foot_lock)
    body = blend_with_idle(body, settings.blend, settings.seed)
    return foot_lock(body) if settings.foot_lock else body


# --------------------------------------------------------------------------- backend
def emage_command(settings: BodySettings, audio_dir: Path, out_dir: Path) -> list[str]:
    """The command line that runs the user's EMAGE on every WAV in ``audio_dir``."""
    python = settings.emage_python or sys.executable
    script = Path(settings.emage_dir).expanduser() / EMAGE_SCRIPT
    return [python, str(script), "--audio_folder", str(audio_dir), "--save_folder",
            str(out_dir)]


def check_installation(settings: BodySettings) -> Path:
    """The PantoMatrix checkout, or a BackendError saying what to install."""
    if not settings.emage_dir:
        raise BackendError("the emage body backend needs your PantoMatrix checkout: git clone "
                           "https://github.com/PantoMatrix/PantoMatrix, pip install -r "
                           "requirements.txt there, then set emage_dir (--emage-dir)")
    root = Path(settings.emage_dir).expanduser()
    if not (root / EMAGE_SCRIPT).is_file():
        raise BackendError(f"{root}: no {EMAGE_SCRIPT} there; point emage_dir at a PantoMatrix "
                           "checkout (https://github.com/PantoMatrix/PantoMatrix)")
    python = settings.emage_python or sys.executable
    if settings.emage_python and not Path(python).is_file():
        raise BackendError(f"{python}: no such Python; set emage_python to the interpreter of "
                           "the environment where EMAGE's requirements are installed")
    return root


def run_emage(speech: Speech, settings: BodySettings, workdir: Path,
              timeout: float = 1800.0) -> Path:
    """Run EMAGE on ``speech`` in a subprocess; returns the npz it wrote."""
    root = check_installation(settings)
    audio_dir, out_dir = workdir / "audio", workdir / "motion"
    audio_dir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    samples = audio.resample(speech.samples, speech.sample_rate, EMAGE_SAMPLE_RATE)
    audio.write_wav(audio_dir / "speech.wav", samples, EMAGE_SAMPLE_RATE)
    cmd = emage_command(settings, audio_dir, out_dir)
    try:
        done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BackendError(f"EMAGE did not run ({type(e).__name__}: {e})") from None
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BackendError(f"EMAGE failed (exit {done.returncode}): {last[0]}; check its "
                           "requirements and that its checkpoint can be downloaded or is cached")
    found = sorted(out_dir.rglob("*.npz"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise BackendError(f"EMAGE ran but wrote no .npz under {out_dir}; check its version "
                           f"(expected {EMAGE_SCRIPT} --save_folder to hold the motion)")
    return found[-1]


def animate(script: Script, speech: Speech, fps: float, settings: BodySettings) -> BodyTrack:
    """Body backend "emage": speech -> the user's EMAGE -> imported, fixed, blended motion."""
    check_installation(settings)
    with tempfile.TemporaryDirectory(prefix="paksatalker-emage-") as tmp:
        npz = run_emage(speech, settings, Path(tmp))
        return import_emage(npz, fps, settings, duration=speech.duration)
