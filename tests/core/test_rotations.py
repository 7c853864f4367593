# SPDX-License-Identifier: GPL-3.0-or-later
"""Rotation maths: known values, round trips near 0 and pi, composition order, slerp, arcs."""

from __future__ import annotations

import numpy as np
import pytest

from paksatalker.core.errors import InputError
from paksatalker.core.rotations import (
    axis_angle_to_matrix,
    axis_angle_to_quaternion,
    compose_axis_angle,
    matrix_to_axis_angle,
    matrix_to_quaternion,
    quaternion_conjugate,
    quaternion_multiply,
    quaternion_to_axis_angle,
    quaternion_to_matrix,
    rotation_between,
    slerp,
)

RZ90 = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
RX90 = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def _random_axis_angles(rng, shape, lo=0.0, hi=np.pi):
    axis = rng.normal(size=shape + (3,))
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    return axis * rng.uniform(lo, hi, size=shape)[..., None]


def _same_rotation(a, b):
    return np.allclose(axis_angle_to_matrix(a), axis_angle_to_matrix(b), atol=1e-9)


def test_known_matrices():
    np.testing.assert_allclose(axis_angle_to_matrix([0, 0, np.pi / 2]), RZ90, atol=1e-12)
    np.testing.assert_allclose(axis_angle_to_matrix([np.pi / 2, 0, 0]), RX90, atol=1e-12)
    np.testing.assert_allclose(axis_angle_to_matrix([0, np.pi, 0]), np.diag([-1.0, 1, -1]),
                               atol=1e-12)
    np.testing.assert_array_equal(axis_angle_to_matrix(np.zeros(3)), np.eye(3))
    # x goes to y under +90 deg about z
    np.testing.assert_allclose(axis_angle_to_matrix([0, 0, np.pi / 2]) @ [1, 0, 0], [0, 1, 0],
                               atol=1e-12)


def test_matrix_is_rotation_with_leading_dims():
    aa = _random_axis_angles(np.random.default_rng(0), (4, 5), 0.0, 3.0 * np.pi)
    m = axis_angle_to_matrix(aa)
    assert m.shape == (4, 5, 3, 3)
    np.testing.assert_allclose(m @ np.swapaxes(m, -1, -2), np.broadcast_to(np.eye(3), m.shape),
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=1e-12)


def test_small_angle_is_first_order_exact():
    aa = np.array([1e-9, -2e-9, 3e-9])
    m = axis_angle_to_matrix(aa)
    skew = np.array([[0, -3e-9, -2e-9], [3e-9, 0, -1e-9], [2e-9, 1e-9, 0]])
    np.testing.assert_allclose(m - np.eye(3), skew, atol=1e-17)
    np.testing.assert_allclose(matrix_to_axis_angle(m), aa, rtol=1e-6, atol=1e-17)
    np.testing.assert_allclose(quaternion_to_axis_angle(axis_angle_to_quaternion(aa)), aa,
                               rtol=1e-12, atol=0)


@pytest.mark.parametrize("lo,hi", [(0.0, 1e-6), (1e-3, 3.0), (np.pi - 1e-5, np.pi - 1e-9)])
def test_round_trips(lo, hi):
    aa = _random_axis_angles(np.random.default_rng(1), (200,), lo, hi)
    np.testing.assert_allclose(matrix_to_axis_angle(axis_angle_to_matrix(aa)), aa, atol=2e-7)
    np.testing.assert_allclose(quaternion_to_axis_angle(axis_angle_to_quaternion(aa)), aa,
                               atol=1e-12)
    q = axis_angle_to_quaternion(aa)
    np.testing.assert_allclose(matrix_to_quaternion(quaternion_to_matrix(q)), q, atol=2e-8)


def test_exact_half_turns():
    for axis in np.eye(3).tolist() + [[1 / np.sqrt(2), 1 / np.sqrt(2), 0.0]]:
        aa = np.pi * np.asarray(axis)
        back = matrix_to_axis_angle(axis_angle_to_matrix(aa))
        assert np.isclose(np.linalg.norm(back), np.pi, atol=1e-7)
        assert abs(abs(back @ np.asarray(axis)) - np.pi) < 1e-7  # +axis or -axis: same turn
        assert _same_rotation(back, aa)
    np.testing.assert_allclose(np.abs(matrix_to_quaternion(np.diag([1.0, -1, -1]))), [0, 1, 0, 0],
                               atol=1e-12)


def test_angles_above_pi_are_wrapped():
    aa = np.array([0.0, 0.0, 1.5 * np.pi])
    back = matrix_to_axis_angle(axis_angle_to_matrix(aa))
    np.testing.assert_allclose(back, [0.0, 0.0, -0.5 * np.pi], atol=1e-12)


def test_quaternion_product_matches_matrix_product():
    rng = np.random.default_rng(2)
    qa = axis_angle_to_quaternion(_random_axis_angles(rng, (50,)))
    qb = axis_angle_to_quaternion(_random_axis_angles(rng, (50,)))
    np.testing.assert_allclose(quaternion_to_matrix(quaternion_multiply(qa, qb)),
                               quaternion_to_matrix(qa) @ quaternion_to_matrix(qb), atol=1e-12)
    ident = quaternion_multiply(qa, quaternion_conjugate(qa))
    np.testing.assert_allclose(ident, np.tile([1.0, 0, 0, 0], (50, 1)), atol=1e-12)
    # i * j = k
    np.testing.assert_allclose(quaternion_multiply([0, 1, 0, 0], [0, 0, 1, 0]), [0, 0, 0, 1])


def test_compose_order_is_a_then_b_applied_first():
    a, b = np.array([0.0, 0.0, np.pi / 2]), np.array([np.pi / 2, 0.0, 0.0])
    np.testing.assert_allclose(axis_angle_to_matrix(compose_axis_angle(a, b)), RZ90 @ RX90,
                               atol=1e-12)
    assert not np.allclose(RZ90 @ RX90, RX90 @ RZ90)
    rng = np.random.default_rng(3)
    x, y = _random_axis_angles(rng, (3, 7)), _random_axis_angles(rng, (3, 7))
    np.testing.assert_allclose(axis_angle_to_matrix(compose_axis_angle(x, y)),
                               axis_angle_to_matrix(x) @ axis_angle_to_matrix(y), atol=1e-12)
    # relative rotation from x to y
    rel = compose_axis_angle(-x, y)
    np.testing.assert_allclose(axis_angle_to_matrix(compose_axis_angle(x, rel)),
                               axis_angle_to_matrix(y), atol=1e-12)


def test_slerp():
    q0 = np.array([1.0, 0, 0, 0])
    q1 = axis_angle_to_quaternion([0, 0, np.pi / 2])
    np.testing.assert_allclose(slerp(q0, q1, 0.0), q0, atol=1e-12)
    np.testing.assert_allclose(slerp(q0, q1, 1.0), q1, atol=1e-12)
    mid = quaternion_to_axis_angle(slerp(q0, q1, 0.5))
    np.testing.assert_allclose(mid, [0, 0, np.pi / 4], atol=1e-12)
    # the shorter arc also when q1 comes with the other sign
    np.testing.assert_allclose(quaternion_to_axis_angle(slerp(q0, -q1, 0.5)), mid, atol=1e-12)
    ts = np.linspace(0, 1, 5)
    path = quaternion_to_axis_angle(slerp(q0, q1, ts))
    np.testing.assert_allclose(path[:, 2], ts * np.pi / 2, atol=1e-12)
    # nearly identical quaternions fall back to a normalised lerp without NaN
    q2 = axis_angle_to_quaternion([0, 0, 1e-9])
    assert np.all(np.isfinite(slerp(q0, q2, 0.3)))


def test_rotation_between():
    rng = np.random.default_rng(4)
    u = rng.normal(size=(100, 3))
    v = rng.normal(size=(100, 3)) * 3.0
    aa = rotation_between(u, v)
    un = u / np.linalg.norm(u, axis=-1, keepdims=True)
    vn = v / np.linalg.norm(v, axis=-1, keepdims=True)
    np.testing.assert_allclose(np.einsum("nij,nj->ni", axis_angle_to_matrix(aa), un), vn,
                               atol=1e-12)
    # minimal: the angle is the angle between the vectors, the axis is perpendicular to both
    np.testing.assert_allclose(np.linalg.norm(aa, axis=-1),
                               np.arccos(np.clip(np.sum(un * vn, -1), -1, 1)), atol=1e-7)
    np.testing.assert_allclose(np.sum(aa * un, -1), 0.0, atol=1e-12)
    np.testing.assert_allclose(rotation_between([0, 1, 0], [0, 1, 0]), np.zeros(3), atol=0)
    np.testing.assert_allclose(rotation_between([1, 0, 0], [0, 1, 0]), [0, 0, np.pi / 2])


@pytest.mark.parametrize("u", [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 2.0], [0.3, -0.5, 0.81]])
def test_rotation_between_opposite_and_nearly_opposite(u):
    u = np.asarray(u)
    for v in (-u, -u + np.array([1e-9, -1e-9, 2e-9])):
        aa = rotation_between(u, v)
        assert np.all(np.isfinite(aa))
        assert np.isclose(np.linalg.norm(aa), np.pi, atol=1e-7)
        rotated = axis_angle_to_matrix(aa) @ (u / np.linalg.norm(u))
        np.testing.assert_allclose(rotated, v / np.linalg.norm(v), atol=1e-7)


def test_rotation_between_broadcasts():
    aa = rotation_between([0.0, 1.0, 0.0], np.eye(3))
    assert aa.shape == (3, 3)
    np.testing.assert_allclose(axis_angle_to_matrix(aa) @ [0, 1.0, 0], np.eye(3), atol=1e-12)


def test_bad_input_raises_input_error():
    with pytest.raises(InputError):
        axis_angle_to_matrix(np.zeros((3, 4)))
    with pytest.raises(InputError):
        matrix_to_quaternion(np.zeros((2, 3)))
    with pytest.raises(InputError):
        quaternion_to_matrix(np.zeros(4))
    with pytest.raises(InputError):
        rotation_between([0, 0, 0], [1, 0, 0])
