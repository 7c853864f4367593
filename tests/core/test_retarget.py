# SPDX-License-Identifier: GPL-3.0-or-later
"""Retarget maths on a synthetic A-posed armature whose bones have arbitrary rest frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from paksatalker.core.body.skeleton import REST_JOINTS, forward_kinematics
from paksatalker.core.errors import InputError
from paksatalker.core.names import JOINT_INDEX, SMPLX_JOINTS, SMPLX_PARENTS
from paksatalker.core.retarget import (
    SMPLX_TO_BLENDER,
    BoneMap,
    TargetRest,
    load_bone_map,
    plan_retarget,
    retarget_rotations,
    root_locations,
    world_deltas,
)
from paksatalker.core.rotations import axis_angle_to_matrix, quaternion_to_matrix

K = SMPLX_TO_BLENDER
MAP_FILE = Path(__file__).resolve().parents[2] / "rigs" / "maps" / "anny_default.toml"


def _a_pose_heads() -> np.ndarray:
    """SMPL-X rest joints in Blender axes, with arms lowered 45 deg and elbows bent forward."""
    joints = REST_JOINTS @ K.T
    heads = joints.copy()
    for side, sign in (("left", 1.0), ("right", -1.0)):
        pivot = joints[JOINT_INDEX[f"{side}_shoulder"]]
        down = axis_angle_to_matrix(np.array([0.0, sign * -np.pi / 4, 0.0]))  # about Y
        arm = [i for i, n in enumerate(SMPLX_JOINTS) if n.startswith(side) and _below(i, pivot)]
        heads[arm] = (joints[arm] - pivot) @ down.T + pivot
        elbow = heads[JOINT_INDEX[f"{side}_elbow"]].copy()
        axis = heads[JOINT_INDEX[f"{side}_elbow"]] - heads[JOINT_INDEX[f"{side}_shoulder"]]
        axis = np.cross(axis, [0.0, -1.0, 0.0])
        bend = axis_angle_to_matrix(axis / np.linalg.norm(axis) * np.radians(30))
        fore = [i for i in arm if i != JOINT_INDEX[f"{side}_elbow"] and _below_elbow(i, side)]
        heads[fore] = (heads[fore] - elbow) @ bend.T + elbow
    return heads


def _ancestors(i: int) -> set[int]:
    out = set()
    while i >= 0:
        out.add(i)
        i = SMPLX_PARENTS[i]
    return out


def _below(i: int, _pivot) -> bool:
    name = SMPLX_JOINTS[i]
    side = name.split("_")[0]
    return JOINT_INDEX.get(f"{side}_shoulder", -1) in _ancestors(i)


def _below_elbow(i: int, side: str) -> bool:
    return JOINT_INDEX[f"{side}_elbow"] in _ancestors(i)


def _random_frames(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return axis_angle_to_matrix(rng.normal(size=(n, 3)))


def _target(seed: int = 0) -> tuple[TargetRest, BoneMap]:
    """One bone per SMPL-X joint (except the jaw) plus a 3-bone neck and an idle twist bone."""
    heads = _a_pose_heads()
    names, parents, pos = [], [], []
    bone_of: dict[str, str] = {}
    for j, joint in enumerate(SMPLX_JOINTS):
        if joint == "jaw":
            continue
        parent = SMPLX_PARENTS[j]
        if joint == "head":
            neck = names.index("neck_b")
            mid = (heads[JOINT_INDEX["neck"]] + heads[j]) / 2
            for extra, at in (("neck_mid", mid), ("neck_top", mid + (heads[j] - mid) / 2)):
                names.append(extra)
                parents.append(neck)
                pos.append(at)
                neck = len(names) - 1
            names.append("head_b")
            parents.append(neck)
        else:
            names.append(f"{joint}_b")
            parents.append(names.index(bone_of[SMPLX_JOINTS[parent]]) if parent >= 0 else -1)
        pos.append(heads[j])
        bone_of[joint] = names[-1]
        if joint == "left_shoulder":  # an unmapped twist bone halfway down the upper arm
            names.append("twist_l")
            parents.append(len(names) - 2)
            pos.append((heads[j] + heads[JOINT_INDEX["left_elbow"]]) / 2)
    fix = {n: i for i, n in enumerate(names)}
    parents = [fix[names[p]] if p >= 0 else -1 for p in parents]
    # the left elbow hangs off the twist bone, as in MakeHuman
    parents[fix["left_elbow_b"]] = fix["twist_l"]
    mats = np.tile(np.eye(4), (len(names), 1, 1))
    mats[:, :3, :3] = _random_frames(len(names), seed)
    mats[:, :3, 3] = np.asarray(pos)
    rest = TargetRest(tuple(names), tuple(parents), mats)
    bone_map = BoneMap(
        joints=bone_of,
        share={"neck": ("neck_b", "neck_mid", "neck_top")},
        keep_rest=frozenset({"pelvis", "spine1", "spine2", "spine3", "neck", "head"}),
    )
    return rest, bone_map


def _pose_target(rest: TargetRest, plan, quats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Target forward kinematics for one frame: world rotations (B,3,3) and heads (B,3)."""
    m = rest.matrices[:, :3, :3]
    h = rest.matrices[:, :3, 3]
    local = np.tile(np.eye(3), (len(rest.names), 1, 1))
    for k, b in enumerate(plan.bones):
        local[b] = quaternion_to_matrix(quats[k])
    rot = np.empty_like(local)
    head = np.empty_like(h)
    for b, p in enumerate(rest.parents):
        if p < 0:
            rot[b] = m[b] @ local[b]
            head[b] = h[b]
        else:
            rel = m[p].T @ m[b]
            rot[b] = rot[p] @ rel @ local[b]
            head[b] = head[p] + rot[p] @ m[p].T @ (h[b] - h[p])
    return rot, head


def _segment(rest, head, bone_map, joint, child):
    i, c = rest.index(bone_map.joints[joint]), rest.index(bone_map.joints[child])
    d = head[c] - head[i]
    return d / np.linalg.norm(d)


def _angle_deg(a, b) -> float:
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b), -1.0, 1.0))))


LIMBS = [
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_collar", "left_shoulder"), ("left_wrist", "left_middle1"),
    ("left_hip", "left_knee"), ("right_knee", "right_ankle"),
]


def test_zero_pose_gives_smplx_t_pose_directions():
    rest, bone_map = _target()
    plan = plan_retarget(rest, bone_map)
    q = retarget_rotations(plan, np.zeros((1, 55, 3)))
    _, head = _pose_target(rest, plan, q[0])
    for joint, child in LIMBS:
        want = K @ (REST_JOINTS[JOINT_INDEX[child]] - REST_JOINTS[JOINT_INDEX[joint]])
        got = _segment(rest, head, bone_map, joint, child)
        assert _angle_deg(got, want / np.linalg.norm(want)) < 0.01, (joint, child)
    # the A-pose arm really was corrected (not already a T-pose)
    rest_dir = _segment(rest, rest.matrices[:, :3, 3], bone_map, "left_shoulder", "left_elbow")
    assert _angle_deg(rest_dir, [1.0, 0.0, 0.0]) > 40


def test_elbow_bend_gives_smplx_forearm_direction():
    rest, bone_map = _target(seed=3)
    plan = plan_retarget(rest, bone_map)
    poses = np.zeros((1, 55, 3))
    poses[0, JOINT_INDEX["left_elbow"]] = [0.0, -np.pi / 2, 0.0]  # forearm swings forward
    poses[0, JOINT_INDEX["left_shoulder"]] = [0.0, 0.0, -0.6]  # arm lowered
    poses[0, JOINT_INDEX["spine2"]] = [0.2, 0.3, 0.0]
    q = retarget_rotations(plan, poses)
    _, head = _pose_target(rest, plan, q[0])
    pos, _ = forward_kinematics(poses, np.zeros((1, 3)))
    for joint, child in LIMBS:
        want = K @ (pos[0, JOINT_INDEX[child]] - pos[0, JOINT_INDEX[joint]])
        got = _segment(rest, head, bone_map, joint, child)
        assert _angle_deg(got, want / np.linalg.norm(want)) < 2.0, (joint, child)
    forearm = _segment(rest, head, bone_map, "left_elbow", "left_wrist")
    assert forearm[1] < -0.9  # points forward (-Y in Blender)


def test_unmapped_bones_follow_and_shared_chain_splits():
    rest, bone_map = _target(seed=5)
    plan = plan_retarget(rest, bone_map)
    names = [rest.names[b] for b in plan.bones]
    assert "twist_l" not in names and "neck_mid" in names
    poses = np.zeros((2, 55, 3))
    poses[1, JOINT_INDEX["neck"]] = [0.6, 0.0, 0.0]
    deltas = world_deltas(plan, poses)
    angles = [
        np.degrees(np.arccos((np.trace(deltas[1, rest.index(b)]) - 1) / 2))
        for b in ("neck_b", "neck_mid", "neck_top", "head_b")
    ]
    assert angles == pytest.approx([0.6 / 3 * 180 / np.pi * k for k in (1, 2, 3, 3)], abs=1e-6)
    # twist bone keeps its rest relative to the upper arm
    twist, upper = rest.index("twist_l"), rest.index("left_shoulder_b")
    np.testing.assert_allclose(deltas[:, twist], deltas[:, upper], atol=1e-12)


def test_zero_hand_pose_keeps_rest_fingers():
    rest, bone_map = _target(seed=7)
    plan = plan_retarget(rest, bone_map)
    q = retarget_rotations(plan, np.zeros((1, 55, 3)))
    for k, b in enumerate(plan.bones):
        if "index" in rest.names[b] or "thumb" in rest.names[b]:
            assert abs(abs(q[0, k, 0]) - 1.0) < 1e-9, rest.names[b]


def test_quaternions_are_continuous():
    rest, bone_map = _target()
    plan = plan_retarget(rest, bone_map)
    poses = np.zeros((40, 55, 3))
    poses[:, JOINT_INDEX["left_shoulder"], 2] = np.linspace(-3.0, 3.0, 40)
    q = retarget_rotations(plan, poses)
    assert np.all(np.sum(q[1:] * q[:-1], axis=-1) > 0)


def test_root_locations_policies():
    trans = np.array([[0.0, 0.9, 0.0], [0.3, 1.0, 0.5], [0.6, 0.8, 1.0]])
    rest = np.eye(4)
    np.testing.assert_allclose(root_locations(trans, rest, policy="fixed"), 0.0)
    in_place = root_locations(trans, rest)
    np.testing.assert_allclose(in_place[:, :2], 0.0)
    np.testing.assert_allclose(in_place[:, 2], [0.0, 0.1, -0.1])
    rel = root_locations(trans, rest, policy="relative", scale=2.0)
    np.testing.assert_allclose(rel[2], [1.2, -2.0, -0.2])  # +Z forward -> -Y, Y up -> +Z
    turned = np.eye(4)
    turned[:3, :3] = axis_angle_to_matrix(np.array([0.0, 0.0, np.pi / 2]))
    loc = root_locations(trans, turned, policy="relative")
    np.testing.assert_allclose(turned[:3, :3] @ loc[2], [0.6, -1.0, -0.1], atol=1e-12)
    with pytest.raises(InputError):
        root_locations(trans, rest, policy="teleport")


def test_bundled_map_reads_and_bad_maps_fail(tmp_path):
    bone_map = load_bone_map(MAP_FILE)
    assert bone_map.joints["left_elbow"] == "lowerarm01.L"
    assert "jaw" not in bone_map.joints
    assert bone_map.share["neck"][0] == "neck01"
    bad = tmp_path / "bad.toml"
    bad.write_text('[joints]\nleft_elbo = "x"\n')
    with pytest.raises(InputError, match="left_elbo"):
        load_bone_map(bad)
    with pytest.raises(InputError):
        load_bone_map(tmp_path / "missing.toml")
    rest, bone_map = _target()
    with pytest.raises(InputError, match="no bone"):
        plan_retarget(rest, BoneMap({"pelvis": "nope"}, {}, frozenset()))


def test_leg_scale_floor_offsets_and_error_on_the_a_pose_target():
    from paksatalker.core.retarget_quality import (
        floor_offsets,
        leg_scale,
        retarget_error,
        target_pose,
    )

    rest, bone_map = _target(seed=11)
    plan = plan_retarget(rest, bone_map)
    assert leg_scale(plan) == pytest.approx(1.0, abs=1e-9)  # same legs as SMPL-X's rest
    poses = np.zeros((3, 55, 3))
    poses[1:, JOINT_INDEX["left_hip"], 0] = poses[1:, JOINT_INDEX["right_hip"], 0] = -0.5
    poses[1:, JOINT_INDEX["left_knee"], 0] = poses[1:, JOINT_INDEX["right_knee"], 0] = 1.0
    poses[2, JOINT_INDEX["left_elbow"], 1] = -1.2
    q = retarget_rotations(plan, poses)
    dz = floor_offsets(plan, q)
    assert dz[0] == pytest.approx(0.0, abs=1e-12) and dz[1] < -0.02  # bent knees: root drops
    posed = target_pose(plan, q)
    feet = [rest.index(bone_map.joints[j]) for j in ("left_ankle", "right_ankle")]
    low = posed[:, feet, 2, 3].min(axis=1) + dz
    assert np.ptp(np.minimum(low, rest.matrices[feet, 2, 3].min())) < 1e-9
    err = retarget_error(plan, poses, posed)
    assert err["all"] < 0.5 and set(err) >= {"arms", "legs", "hands", "spine/head"}
    trans = np.array([[0.0, 0.9, 0.0], [0.3, 1.0, 0.5]])
    np.testing.assert_allclose(root_locations(trans, np.eye(4), policy="keep"),
                               root_locations(trans, np.eye(4), policy="relative"))
