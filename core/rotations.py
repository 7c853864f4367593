# SPDX-License-Identifier: GPL-3.0-or-later
"""Batched rotation maths in numpy: axis-angle, rotation matrices and unit quaternions.

Every function accepts any number of leading dimensions ``...``:

- axis-angle: ``(..., 3)``, the rotation axis scaled by the angle in radians;
- matrix:     ``(..., 3, 3)``, proper rotations acting on column vectors (``v' = R @ v``);
- quaternion: ``(..., 4)`` in ``(w, x, y, z)`` order, Hamilton convention, so that
  ``quaternion_to_matrix(quaternion_multiply(a, b)) == quaternion_to_matrix(a) @ ...(b)``.

Quaternions returned by this module are normalised with ``w >= 0``; axis-angles returned have
angles in ``[0, pi]``. Conversions stay accurate near 0 and near pi.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError

__all__ = [
    "axis_angle_to_matrix", "matrix_to_axis_angle", "axis_angle_to_quaternion",
    "quaternion_to_axis_angle", "matrix_to_quaternion", "quaternion_to_matrix",
    "quaternion_multiply", "quaternion_conjugate", "compose_axis_angle", "slerp",
    "rotation_between",
]


def _last(x, tail: tuple[int, ...], what: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim < len(tail) or a.shape[a.ndim - len(tail):] != tail:
        want = "(...," + ",".join(map(str, tail)) + ")"
        raise InputError(f"{what} must have shape {want}, got {a.shape}")
    return a


def _normalise_quaternion(q: np.ndarray) -> np.ndarray:
    """Unit length and ``w >= 0`` (the same rotation; makes results canonical)."""
    n = np.linalg.norm(q, axis=-1, keepdims=True)
    if np.any(n < 1e-12):
        raise InputError("a quaternion has zero length")
    q = q / n
    return np.where(q[..., :1] < 0, -q, q)


def axis_angle_to_matrix(aa) -> np.ndarray:
    """Rodrigues' formula: ``(..., 3)`` axis-angle -> ``(..., 3, 3)`` rotation matrix.

    Uses ``R = I + a K + b (r r^T - t^2 I)`` with ``a = sin t / t`` and
    ``b = (1 - cos t) / t^2 = sinc(t/2)^2 / 2``, both evaluated without cancellation at t = 0.
    """
    r = _last(aa, (3,), "axis-angle")
    t2 = np.sum(r * r, axis=-1)
    t = np.sqrt(t2)
    a = np.sinc(t / np.pi)[..., None, None]
    b = 0.5 * np.sinc(t / (2.0 * np.pi))[..., None, None] ** 2
    x, y, z = r[..., 0], r[..., 1], r[..., 2]
    zero = np.zeros_like(x)
    k = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=-1).reshape(r.shape + (3,))
    eye = np.eye(3)
    outer = r[..., :, None] * r[..., None, :]
    return eye + a * k + b * (outer - t2[..., None, None] * eye)


def axis_angle_to_quaternion(aa) -> np.ndarray:
    """``(..., 3)`` axis-angle -> ``(..., 4)`` unit quaternion (w, x, y, z), ``w >= 0``."""
    r = _last(aa, (3,), "axis-angle")
    t = np.linalg.norm(r, axis=-1)
    w = np.cos(0.5 * t)
    xyz = r * (0.5 * np.sinc(t / (2.0 * np.pi)))[..., None]
    q = np.concatenate([w[..., None], xyz], axis=-1)
    return np.where(q[..., :1] < 0, -q, q)


def quaternion_to_axis_angle(q) -> np.ndarray:
    """``(..., 4)`` quaternion (w, x, y, z; any length > 0) -> ``(..., 3)`` axis-angle.

    The angle is ``2 atan2(|v|, w)`` in ``[0, pi]``: accurate near 0 and near pi.
    """
    q = _normalise_quaternion(_last(q, (4,), "quaternion"))
    w, v = q[..., 0], q[..., 1:]
    n = np.linalg.norm(v, axis=-1)
    angle = 2.0 * np.arctan2(n, w)
    big = n > 1e-8
    # angle / n -> 2 / w as n -> 0 (w is then ~1)
    scale = np.where(big, angle / np.where(big, n, 1.0), 2.0 / np.where(big, 1.0, w))
    return v * scale[..., None]


def matrix_to_quaternion(m) -> np.ndarray:
    """``(..., 3, 3)`` rotation matrix -> ``(..., 4)`` unit quaternion (w, x, y, z), ``w >= 0``.

    Shepperd's method: of the four candidates (from 4w^2, 4x^2, 4y^2, 4z^2) the one with the
    largest square (always >= 1) is used, so no division by a small number happens.
    """
    m = _last(m, (3, 3), "rotation matrix")
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    sq = np.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22,
                   1 - m00 + m11 - m22, 1 - m00 - m11 + m22], axis=-1)
    d = 2.0 * np.sqrt(np.maximum(sq, 1e-12))  # 4 * |component| for each candidate
    cands = np.stack([
        np.stack([d[..., 0] / 4, (m21 - m12) / d[..., 0], (m02 - m20) / d[..., 0],
                  (m10 - m01) / d[..., 0]], axis=-1),
        np.stack([(m21 - m12) / d[..., 1], d[..., 1] / 4, (m01 + m10) / d[..., 1],
                  (m02 + m20) / d[..., 1]], axis=-1),
        np.stack([(m02 - m20) / d[..., 2], (m01 + m10) / d[..., 2], d[..., 2] / 4,
                  (m12 + m21) / d[..., 2]], axis=-1),
        np.stack([(m10 - m01) / d[..., 3], (m02 + m20) / d[..., 3], (m12 + m21) / d[..., 3],
                  d[..., 3] / 4], axis=-1),
    ], axis=-2)
    best = np.argmax(sq, axis=-1)[..., None, None]
    q = np.take_along_axis(cands, best, axis=-2)[..., 0, :]
    return _normalise_quaternion(q)


def quaternion_to_matrix(q) -> np.ndarray:
    """``(..., 4)`` quaternion (w, x, y, z; normalised here) -> ``(..., 3, 3)`` matrix."""
    q = _normalise_quaternion(_last(q, (4,), "quaternion"))
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    rows = [
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ]
    return np.stack(rows, axis=-1).reshape(q.shape[:-1] + (3, 3))


def matrix_to_axis_angle(m) -> np.ndarray:
    """``(..., 3, 3)`` rotation matrix -> ``(..., 3)`` axis-angle (angle in [0, pi])."""
    return quaternion_to_axis_angle(matrix_to_quaternion(m))


def quaternion_multiply(a, b) -> np.ndarray:
    """Hamilton product ``a * b`` of ``(..., 4)`` quaternions (broadcasting); not normalised.

    As rotations: apply ``b`` first, then ``a`` (``R(a*b) = R(a) @ R(b)``).
    """
    a = _last(a, (4,), "quaternion")
    b = _last(b, (4,), "quaternion")
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], axis=-1)


def quaternion_conjugate(q) -> np.ndarray:
    """``(..., 4)`` -> ``(..., 4)`` conjugate (w, -x, -y, -z): the inverse of a unit quaternion."""
    q = _last(q, (4,), "quaternion")
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def compose_axis_angle(a, b) -> np.ndarray:
    """Axis-angle of ``R(a) @ R(b)``: rotate by ``b`` first, then by ``a`` (both ``(..., 3)``).

    For a child joint's local rotation this is ``compose_axis_angle(parent, child)``;
    the relative rotation from ``a`` to ``b`` is ``compose_axis_angle(-a, b)``.
    """
    qa = axis_angle_to_quaternion(a)
    qb = axis_angle_to_quaternion(b)
    return quaternion_to_axis_angle(quaternion_multiply(qa, qb))


def slerp(q0, q1, t) -> np.ndarray:
    """Spherical linear interpolation of ``(..., 4)`` quaternions along the shorter arc.

    ``t`` broadcasts against the leading dims (scalar, or ``(...)``); ``t = 0`` gives ``q0`` and
    ``t = 1`` gives ``q1`` (both up to sign). Returns normalised ``(..., 4)``, ``w >= 0``.
    """
    q0 = _normalise_quaternion(_last(q0, (4,), "quaternion"))
    q1 = _normalise_quaternion(_last(q1, (4,), "quaternion"))
    t = np.asarray(t, dtype=np.float64)[..., None]
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.clip(np.abs(dot), 0.0, 1.0)
    omega = np.arccos(dot)
    s = np.sin(omega)
    near = s < 1e-6
    s_safe = np.where(near, 1.0, s)
    w0 = np.where(near, 1.0 - t, np.sin((1.0 - t) * omega) / s_safe)
    w1 = np.where(near, t, np.sin(t * omega) / s_safe)
    return _normalise_quaternion(w0 * q0 + w1 * q1)


def rotation_between(u, v) -> np.ndarray:
    """Axis-angle ``(..., 3)`` of the smallest rotation taking direction ``u`` to ``v``.

    ``u`` and ``v`` are ``(..., 3)`` (broadcasting) and need not be unit length. For opposite
    vectors the result is a half turn about an axis perpendicular to ``u``.
    """
    u = _last(u, (3,), "vector")
    v = _last(v, (3,), "vector")
    nu = np.linalg.norm(u, axis=-1, keepdims=True)
    nv = np.linalg.norm(v, axis=-1, keepdims=True)
    if np.any(nu < 1e-12) or np.any(nv < 1e-12):
        raise InputError("rotation_between needs non-zero vectors")
    u, v = np.broadcast_arrays(u / nu, v / nv)
    c = np.sum(u * v, axis=-1)
    axis = np.cross(u, v)
    s = np.linalg.norm(axis, axis=-1)
    angle = np.arctan2(s, c)
    big = s > 1e-12
    aa = axis * np.where(big, angle / np.where(big, s, 1.0), 1.0)[..., None]
    opposite = (c < 0) & (s < 1e-7)
    if np.any(opposite):
        # a half turn about any axis perpendicular to u: cross u with its least aligned basis axis
        basis = np.eye(3)[np.argmin(np.abs(u), axis=-1)]
        perp = np.cross(u, basis)
        perp /= np.linalg.norm(perp, axis=-1, keepdims=True)
        aa = np.where(opposite[..., None], perp * np.pi, aa)
    return aa
