# SPDX-License-Identifier: GPL-3.0-or-later
"""Idle life: breathing, weight shifts with the feet planted, slow sway and posture changes.

Also :func:`plant_legs`, the two-bone leg IK that keeps both ankles exactly at their rest
positions with the soles flat whatever the pelvis does: the weight shifts move the pelvis over
the standing leg and the free knee softens, and the feet never slide.
"""

from __future__ import annotations

import numpy as np

from ..names import JOINT_INDEX
from ..rotations import axis_angle_to_matrix, matrix_to_axis_angle, rotation_between
from .skeleton import REST_JOINTS

J = JOINT_INDEX
SOFT_KNEES = 0.012
"""Metres the pelvis sits below its rest height, so the knees are never locked straight."""
SHIFT_X = 0.022
"""Metres the pelvis moves toward the standing foot in a full weight shift."""


def noise(rng: np.random.Generator, t: np.ndarray, f_lo: float, f_hi: float,
          n: int = 3) -> np.ndarray:
    """(T,) smooth seeded noise in [-1, 1]: ``n`` sinusoids of frequency ``f_lo..f_hi`` Hz."""
    f = rng.uniform(f_lo, f_hi, n)
    phase = rng.uniform(0.0, 2.0 * np.pi, n)
    w = rng.uniform(0.5, 1.0, n)
    w /= w.sum()
    return np.sum(w[:, None] * np.sin(2.0 * np.pi * f[:, None] * t[None, :] + phase[:, None]), 0)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def events(rng: np.random.Generator, t: np.ndarray, every: tuple[float, float],
           values: np.ndarray, ramp: float) -> np.ndarray:
    """(T,) a value held for ``every`` = (min, max) seconds, then eased into the next one.

    Each change picks one of ``values`` (not the current one) and takes ``ramp`` seconds.
    """
    out = np.zeros_like(t)
    if t.size == 0:
        return out
    current = float(rng.choice(values))
    out[:] = current
    time = rng.uniform(0.3, 1.0) * every[0]
    while time < t[-1]:
        nxt = float(rng.choice([v for v in values if v != current] or [current]))
        out += (nxt - current) * _smoothstep((t - time) / ramp)
        current = nxt
        time += ramp + rng.uniform(*every)
    return out


def breathing(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """(T,) breath phase -1..1 at ~0.25 Hz (15 breaths a minute)."""
    return np.sin(2.0 * np.pi * rng.uniform(0.22, 0.28) * t + rng.uniform(0.0, 2.0 * np.pi))


def add_idle(poses: np.ndarray, trans: np.ndarray, rng: np.random.Generator, t: np.ndarray,
             posture: np.ndarray, sway_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Breathing, weight shift, sway and posture into ``poses`` (T,55,3) and ``trans``, in place.

    ``posture`` (T,) radians: chest up (+) or slumped (-) from style and emotion; occasional
    posture changes are added here. Returns the breath (T,) and the weight shift (T,) -1..1
    (+1: the weight on the left foot).
    """
    breath = breathing(rng, t)
    shift = events(rng, t, (5.0, 12.0), np.array([-1.0, -0.6, 0.6, 1.0]), 1.4)
    shift = shift + 0.1 * noise(rng, t, 0.05, 0.15)
    sway, turn = noise(rng, t, 0.04, 0.12), noise(rng, t, 0.03, 0.1)
    lean = posture + events(rng, t, (8.0, 20.0), np.array([-0.02, 0.0, 0.015, 0.03]), 2.0)
    trans[:, 0] += SHIFT_X * shift + 0.004 * sway_scale * sway
    trans[:, 1] -= SOFT_KNEES + 0.006 * np.abs(shift)
    # the pelvis drops on the free side (+z raises the left side) and turns slowly
    poses[:, 0] += np.stack([0.006 * turn, 0.02 * turn * sway_scale,
                             0.035 * shift + 0.008 * sway * sway_scale], axis=-1)
    # the spine brings the chest back over the pelvis
    poses[:, J["spine1"], 2] -= 0.025 * shift + 0.006 * sway
    poses[:, J["spine3"], 2] -= 0.012 * shift
    poses[:, J["spine1"], 1] -= 0.012 * turn
    # posture: chest up is a backward (-x) bend shared by the spine; the head compensates
    poses[:, J["spine2"], 0] -= 0.5 * lean
    poses[:, J["spine3"], 0] -= 0.5 * lean
    poses[:, J["neck"], 0] += 0.7 * lean
    # breathing: the chest lifts and the shoulders rise a little
    poses[:, J["spine2"], 0] -= 0.006 * breath
    poses[:, J["spine3"], 0] -= 0.012 * breath
    poses[:, J["neck"], 0] += 0.015 * breath
    poses[:, J["left_collar"], 2] += 0.02 * breath
    poses[:, J["right_collar"], 2] -= 0.02 * breath
    poses[:, J["left_shoulder"], 2] -= 0.012 * breath  # the arms stay hanging
    poses[:, J["right_shoulder"], 2] += 0.012 * breath
    return breath, shift


def plant_legs(poses: np.ndarray, trans: np.ndarray, targets: dict | None = None,
               ankle_world: dict | None = None, mask: dict | None = None) -> None:
    """Two-bone IK in place: ankles at their targets, soles as given, knees forward.

    Without ``targets`` both ankles stay at their rest positions with the soles flat. With them:
    ``targets[side]`` (T,3) ankle positions, ``ankle_world[side]`` (T,3,3) world rotations for
    the ankle (default flat), and ``mask[side]`` (T,) bool of the frames to solve (others are
    left alone). The knee flexion solves ``|thigh + R_x(k) shin| = |ankle - hip|`` in closed
    form; the hip takes the smallest rotation that aims the bent leg at the ankle, and the
    ankle gets the rotation that gives its world orientation. Exact while the hip stays within
    reach (the procedural pelvis sits lower than at rest, see :data:`SOFT_KNEES`).
    """
    r_pelvis = axis_angle_to_matrix(poses[:, 0])
    root = REST_JOINTS[0] + trans
    for side in ("left", "right"):
        hip, knee, ankle = J[f"{side}_hip"], J[f"{side}_knee"], J[f"{side}_ankle"]
        sel = slice(None) if mask is None else np.asarray(mask[side], bool)
        a = REST_JOINTS[knee] - REST_JOINTS[hip]
        b = REST_JOINTS[ankle] - REST_JOINTS[knee]
        hip_pos = root[sel] + r_pelvis[sel] @ (REST_JOINTS[hip] - REST_JOINTS[0])
        goal = REST_JOINTS[ankle] if targets is None else np.asarray(targets[side])[sel]
        target = goal - hip_pos
        d2 = np.sum(target * target, axis=-1)
        c = a[1] * b[1] + a[2] * b[2]
        s = a[2] * b[1] - a[1] * b[2]
        q = 0.5 * (d2 - a @ a - b @ b) - a[0] * b[0]
        flex = np.arctan2(s, c) + np.arccos(np.clip(q / np.hypot(c, s), -1.0, 1.0))
        flex = np.maximum(flex, 0.0)
        knee_aa = np.stack([flex, np.zeros_like(flex), np.zeros_like(flex)], axis=-1)
        r_knee = axis_angle_to_matrix(knee_aa)
        leg = a + r_knee @ b
        r_hip = axis_angle_to_matrix(rotation_between(leg, target))
        r_leg = r_hip @ r_knee
        if ankle_world is not None:
            r_leg = np.swapaxes(np.asarray(ankle_world[side])[sel], -1, -2) @ r_leg
        poses[sel, hip] = matrix_to_axis_angle(np.swapaxes(r_pelvis[sel], -1, -2) @ r_hip)
        poses[sel, knee] = knee_aa
        poses[sel, ankle] = matrix_to_axis_angle(np.swapaxes(r_leg, -1, -2))
        if ankle_world is None:
            poses[sel, J[f"{side}_foot"]] = 0.0
