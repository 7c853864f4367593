# SPDX-License-Identifier: GPL-3.0-or-later
"""The SMPL-X avatar built from a (synthetic) model file: rig, weights, keys, drivers, skinning
checked against the numpy SMPL-X forward."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from mathutils import Matrix  # noqa: E402
from synthetic_models import write_synthetic_flame, write_synthetic_smplx  # noqa: E402

from paksatalker.core.errors import InputError  # noqa: E402
from paksatalker.core.names import SMPLX_JOINTS  # noqa: E402
from paksatalker.core.retarget import SMPLX_TO_BLENDER as K  # noqa: E402
from paksatalker.core.smplx_model import load_model, rodrigues  # noqa: E402
from paksatalker.rigs.smplx_avatar import build_smplx_avatar  # noqa: E402

pytestmark = pytest.mark.blender
CORRECTIVE = ("left_elbow", "jaw")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = write_synthetic_smplx(tmp_path_factory.mktemp("smplx") / "SMPLX_NEUTRAL.npz", seed=0)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    betas = np.array([0.8, -0.5, 0.3])
    avatar = build_smplx_avatar(path, betas, pose_correctives=CORRECTIVE)
    return avatar, load_model(path), betas


def _evaluated(obj) -> np.ndarray:
    bpy.context.view_layer.update()
    ev = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    me = ev.to_mesh()
    co = np.empty(len(me.vertices) * 3, np.float32)
    me.vertices.foreach_get("co", co)
    ev.to_mesh_clear()
    return co.reshape(-1, 3).astype(np.float64)


def _to_blender(v: np.ndarray, model, betas) -> np.ndarray:
    lift = -(model.shaped(betas) @ K.T)[:, 2].min()
    return v @ K.T + (0, 0, lift)


def _pose(avatar, pose: np.ndarray) -> None:
    """Set SMPL-X parent-relative rotations (55,3) on the bones: Q = M^T K R K^T M."""
    arm = avatar.armature
    for j, name in enumerate(SMPLX_JOINTS):
        m = np.array(arm.data.bones[name].matrix_local)[:3, :3]
        q = m.T @ K @ rodrigues(pose[j])[0] @ K.T @ m
        pb = arm.pose.bones[name]
        pb.rotation_mode = "QUATERNION"
        pb.rotation_quaternion = Matrix(q.tolist()).to_quaternion()


def test_rig_and_keys_follow_the_model(built):
    avatar, model, betas = built
    arm, body = avatar.armature, avatar.body
    assert sorted(b.name for b in arm.data.bones) == sorted(SMPLX_JOINTS)
    heads = np.array([arm.data.bones[n].head_local for n in SMPLX_JOINTS])
    assert np.allclose(heads, _to_blender(model.rest_joints(betas), model, betas), atol=1e-5)
    keys = [k.name for k in body.data.shape_keys.key_blocks]
    assert keys[1:11] == [f"Shape{k:03d}" for k in range(10)]
    assert [k for k in keys if k.startswith("Exp")] == [f"Exp{k:03d}" for k in range(100)]
    assert len([k for k in keys if k.startswith("Pose_")]) == 9 * len(CORRECTIVE)
    assert {g.name for g in body.vertex_groups} == set(SMPLX_JOINTS)
    co = _evaluated(body)
    assert abs(co[:, 2].min()) < 1e-5  # stands on the floor
    face = model.landmarks(_to_blender(model.shaped(betas), model, betas), 51)
    assert face[13, 1] < heads[SMPLX_JOINTS.index("head"), 1]  # nose tip towards -Y
    assert avatar.bone_map.joints["jaw"] == "jaw" and avatar.eye_bones[0] in arm.data.bones


def test_skinning_matches_the_numpy_forward(built):
    avatar, model, betas = built
    rng = np.random.default_rng(0)
    pose = np.zeros((55, 3))
    for j in ("left_shoulder", "right_elbow", "spine2", "head", "left_knee", "left_index2"):
        pose[SMPLX_JOINTS.index(j)] = rng.normal(0, 0.4, 3)
    _pose(avatar, pose)
    no_corr = dataclasses.replace(model, posedirs=np.zeros_like(model.posedirs))
    want = _to_blender(no_corr.forward(betas, None, pose).vertices, model, betas)
    assert np.abs(_evaluated(avatar.body) - want).max() < 2e-4
    _pose(avatar, np.zeros((55, 3)))


def test_expression_keys_and_driven_correctives(built):
    avatar, model, betas = built
    kb = avatar.body.data.shape_keys.key_blocks
    expr = np.zeros(100)
    expr[[0, 5, 42]] = (1.5, -2.0, 3.0)
    for k in (0, 5, 42):
        kb[f"Exp{k:03d}"].value = expr[k]
    pose = np.zeros((55, 3))
    pose[SMPLX_JOINTS.index("left_elbow")] = (0.2, -0.9, 0.3)
    pose[SMPLX_JOINTS.index("jaw")] = (0.3, 0.0, 0.05)
    _pose(avatar, pose)
    # the corrective keys' drivers evaluate (R - I) of the SMPL-X joint
    feat = (rodrigues(pose[SMPLX_JOINTS.index("jaw")])[0] - np.eye(3)).ravel()
    bpy.context.view_layer.update()
    got = [kb[f"Pose_jaw_{k}"].value for k in range(9)]
    assert np.allclose(got, feat, atol=1e-4)
    want = _to_blender(model.forward(betas, expr, pose).vertices, model, betas)
    assert np.abs(_evaluated(avatar.body) - want).max() < 2e-4


def test_wrong_or_missing_model_files_are_refused(tmp_path):
    with pytest.raises(InputError, match="smpl-x.is.tue.mpg.de"):
        build_smplx_avatar(tmp_path / "SMPLX_NEUTRAL.npz")
    flame = write_synthetic_flame(tmp_path / "FLAME_NEUTRAL.npz")
    with pytest.raises(InputError, match="FLAME"):
        build_smplx_avatar(flame)


def test_a_performance_drives_bones_and_flame_keys(built, tmp_path):
    from paksatalker.core.types import BodyTrack, FaceTrack, Performance, Speech
    from paksatalker.rigs.retarget import apply_performance

    avatar, model, betas = built
    for kb in avatar.body.data.shape_keys.key_blocks[1:]:
        if not kb.name.startswith("Pose_"):
            kb.value = 0.0
    n, fps = 4, 25.0
    expr = np.zeros((n, 100))
    expr[:, 3] = np.linspace(0, 2, n)
    jaw = np.zeros((n, 3))
    jaw[:, 0] = np.linspace(0, 0.3, n)
    face = FaceTrack(fps, np.zeros((n, 52)), np.zeros((n, 15)), jaw, np.zeros((n, 2, 3)),
                     np.zeros((n, 3)), expressions=expr)
    poses = np.zeros((n, 55, 3))
    poses[:, SMPLX_JOINTS.index("left_elbow"), 1] = np.linspace(0, -1.0, n)
    perf = Performance(Speech(np.zeros(int(n / fps * 16000), np.float32), 16000), face,
                       BodyTrack(fps, poses, np.zeros((n, 3))))
    report = apply_performance(avatar, perf, frame_start=1)
    assert "flame" in report.keys and "Exp003" in report.keys["flame"]
    scene = bpy.context.scene
    scene.frame_set(n)
    assert avatar.body.data.shape_keys.key_blocks["Exp003"].value == pytest.approx(2.0, abs=1e-3)
    # the last frame's mesh is the SMPL-X forward of that frame's pose and expression
    pose = poses[-1].copy()
    pose[SMPLX_JOINTS.index("jaw")] = jaw[-1]
    want = _to_blender(model.forward(betas, expr[-1], pose).vertices, model, betas)
    elbow = model.weights[:, SMPLX_JOINTS.index("left_elbow")] > 0.5
    got = _evaluated(avatar.body)
    assert np.abs(got[elbow] - want[elbow]).max() < 5e-3
    head = model.weights[:, SMPLX_JOINTS.index("head")] > 0.5
    assert np.abs(got[head] - want[head]).max() < 5e-3
