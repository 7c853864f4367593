# SPDX-License-Identifier: GPL-3.0-or-later
"""SMPL-X / FLAME loading and the numpy forward, cross-checked against the smplx package."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic_models import (
    smplx_package_flame_dir,
    write_synthetic_flame,
    write_synthetic_smplx,
)

from paksatalker.core.errors import DataError, InputError
from paksatalker.core.smplx_model import FLAME_URL, SMPLX_URL, load_model, rodrigues


@pytest.fixture(scope="module")
def smplx_file(tmp_path_factory):
    return write_synthetic_smplx(tmp_path_factory.mktemp("m") / "SMPLX_NEUTRAL.npz", seed=1)


@pytest.fixture(scope="module")
def flame_file(tmp_path_factory):
    return write_synthetic_flame(tmp_path_factory.mktemp("f") / "FLAME_NEUTRAL.npz", seed=2)


def test_synthetic_files_are_deterministic(tmp_path):
    a = write_synthetic_flame(tmp_path / "a.npz", seed=5)
    b = write_synthetic_flame(tmp_path / "b.npz", seed=5)
    c = write_synthetic_flame(tmp_path / "c.npz", seed=6)
    with np.load(a) as za, np.load(b) as zb, np.load(c) as zc:
        assert np.array_equal(za["shapedirs"], zb["shapedirs"])
        assert not np.array_equal(za["shapedirs"], zc["shapedirs"])


def test_smplx_forward_matches_smplx_package(smplx_file):
    torch = pytest.importorskip("torch")
    smplx = pytest.importorskip("smplx")
    model = load_model(smplx_file)
    assert model.kind == "smplx" and model.num_joints == 55
    assert (model.num_betas, model.num_expressions) == (300, 100)
    assert len(model.v_template) >= 9930
    rng = np.random.default_rng(0)
    betas, expr = rng.normal(size=10), rng.normal(size=100)
    pose = rng.normal(0, 0.3, (55, 3))
    ref = smplx.create(str(smplx_file), model_type="smplx", num_betas=10,
                       num_expression_coeffs=100, use_pca=False, flat_hand_mean=True)
    t = lambda a: torch.tensor(np.asarray(a)[None], dtype=torch.float32)  # noqa: E731
    out = ref(betas=t(betas), expression=t(expr), global_orient=t(pose[0]),
              body_pose=t(pose[1:22].ravel()), jaw_pose=t(pose[22]), leye_pose=t(pose[23]),
              reye_pose=t(pose[24]), left_hand_pose=t(pose[25:40].ravel()),
              right_hand_pose=t(pose[40:55].ravel()), transl=t([0.1, 0.2, 0.3]))
    ours = model.forward(betas, expr, pose, transl=[0.1, 0.2, 0.3])
    ref_v = out.vertices[0].detach().numpy()
    ref_j = out.joints[0].detach().numpy()
    assert np.abs(ours.vertices - ref_v).max() < 1e-4
    assert np.abs(ours.joints - ref_j[:55]).max() < 1e-4
    # smplx appends the 51 static landmarks last (use_face_contour=False)
    assert np.abs(model.landmarks(ours.vertices, 51) - ref_j[-51:]).max() < 1e-4
    assert ours.vertices.std() > 0.1  # a posed body, not a collapsed one


def test_flame_forward_matches_smplx_package(flame_file, tmp_path):
    torch = pytest.importorskip("torch")
    smplx = pytest.importorskip("smplx")
    model = load_model(flame_file)
    assert model.kind == "flame" and model.joint_names[2] == "jaw"
    rng = np.random.default_rng(1)
    expr, pose = rng.normal(size=100), rng.normal(0, 0.2, (5, 3))
    ref = smplx.FLAME(str(smplx_package_flame_dir(flame_file, tmp_path)), ext="npz",
                      num_expression_coeffs=100)
    t = lambda a: torch.tensor(np.asarray(a)[None], dtype=torch.float32)  # noqa: E731
    out = ref(expression=t(expr), global_orient=t(pose[0]), neck_pose=t(pose[1]),
              jaw_pose=t(pose[2]), leye_pose=t(pose[3]), reye_pose=t(pose[4]))
    ours = model.forward(None, expr, pose)
    assert np.abs(ours.vertices - out.vertices[0].detach().numpy()).max() < 1e-4
    assert np.abs(model.landmarks(ours.vertices, 51)
                  - out.joints[0, -51:].detach().numpy()).max() < 1e-4


def test_landmarks_sit_on_a_face(flame_file):
    model = load_model(flame_file)
    lm = model.landmarks(model.v_template, 68)
    assert lm.shape == (68, 3)
    assert lm[8, 1] < lm[57, 1] < lm[51, 1] < lm[30, 1] < lm[19, 1]  # chin < lips < nose < brow
    assert lm[48, 0] < 0 < lm[54, 0] and lm[36, 0] < 0 < lm[45, 0]  # right side is -X
    assert 0.0 < np.linalg.norm(lm[62] - lm[66]) < 0.006  # a slightly parted mouth


def test_rodrigues_is_a_rotation():
    r = rodrigues(np.array([[0.0, 0.0, np.pi / 2], [0.0, 0.0, 0.0]]))
    assert np.allclose(r[0] @ [1, 0, 0], [0, 1, 0], atol=1e-6)
    assert np.allclose(r[1], np.eye(3))


def test_missing_model_names_the_download_site(tmp_path):
    with pytest.raises(InputError, match="smpl-x.is.tue.mpg.de"):
        load_model(tmp_path / "nope.npz")
    with pytest.raises(InputError, match="download"):
        load_model(tmp_path)  # an empty folder
    assert SMPLX_URL.startswith("https://") and FLAME_URL.startswith("https://")


def test_pickle_files_are_refused(tmp_path):
    p = tmp_path / "SMPLX_NEUTRAL.pkl"
    p.write_bytes(b"not read")
    with pytest.raises(InputError, match="pickle"):
        load_model(p)
    obj = tmp_path / "obj.npz"
    np.savez(obj, v_template=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError, match="pickled"):
        load_model(obj)


def test_object_arrays_beside_the_model_are_skipped(tmp_path, flame_file):
    """Real SMPL-X files carry dicts (joint2num, part2num) that need pickle: ignored."""
    with np.load(flame_file) as z:
        data = {k: z[k] for k in z.files}
    data["joint2num"] = np.array([{"pelvis": 0}], dtype=object)
    p = tmp_path / "with_objects.npz"
    np.savez(p, **data)
    assert load_model(p).num_expressions == 100


def test_incomplete_file_is_a_data_error(tmp_path):
    p = tmp_path / "x.npz"
    np.savez(p, v_template=np.zeros((3, 3)))
    with pytest.raises(DataError, match="lacks"):
        load_model(p)
