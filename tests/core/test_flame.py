# SPDX-License-Identifier: GPL-3.0-or-later
"""ARKit -> FLAME fitting through the landmarks of a synthetic FLAME / SMPL-X model."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic_models import write_synthetic_flame

from paksatalker.core.face.flame import ArkitToFlame, arkit_landmark_targets, closure_signal
from paksatalker.core.names import ARKIT_52, ARKIT_INDEX
from paksatalker.core.smplx_model import load_model


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_model(write_synthetic_flame(tmp_path_factory.mktemp("fl") / "f.npz", seed=3))


@pytest.fixture(scope="module")
def fitter(model):
    return ArkitToFlame(model)


def _arkit(**w: float) -> np.ndarray:
    a = np.zeros((1, 52))
    for k, v in w.items():
        a[0, ARKIT_INDEX[k]] = v
    return a


def _landmarks(model, fit, k: int = 0) -> np.ndarray:
    pose = np.zeros((model.num_joints, 3))
    pose[model.jaw_index] = fit.jaw[k]
    out = model.forward(expression=fit.expressions[k, : model.num_expressions], pose=pose)
    return model.landmarks(out.vertices, 68)


def test_targets_are_mirrored_and_cover_the_face():
    d = arkit_landmark_targets()
    left, right = d[ARKIT_INDEX["mouthSmileLeft"]], d[ARKIT_INDEX["mouthSmileRight"]]
    assert left[54, 0] > 0 and right[48, 0] < 0 and np.isclose(left[54, 1], right[48, 1])
    moving = [n for n in ARKIT_52 if np.abs(d[ARKIT_INDEX[n]]).sum() > 0]
    # everything but the eye-look rotations, jawOpen (a joint), mouthClose (a constraint), tongue
    assert len(moving) == 52 - 8 - 3


def test_recovers_known_coefficients_from_their_landmarks(model):
    fit = ArkitToFlame(model, regularization=1e-9)
    u, s, vt = np.linalg.svd(fit.A, full_matrices=False)
    rng = np.random.default_rng(0)
    known = vt[:20].T @ rng.normal(size=20) * 2.0  # well-observed directions
    got = fit.fit_landmarks((fit.A @ known).reshape(1, -1, 3))[0]
    assert np.linalg.norm(got - known) < 0.01 * np.linalg.norm(known)
    # and any coefficient vector's landmark displacement is reproduced
    c = rng.normal(size=model.num_expressions)
    rebuilt = fit.A @ fit.fit_landmarks((fit.A @ c).reshape(1, -1, 3))[0]
    assert np.linalg.norm(rebuilt - fit.A @ c) < 0.05 * np.linalg.norm(fit.A @ c)


def test_smile_moves_the_left_mouth_corner_up_and_out(model, fitter):
    res = fitter.fit(_arkit(mouthSmileLeft=1.0))
    moved = _landmarks(model, res) - fitter.rest_lmk
    want = arkit_landmark_targets()[ARKIT_INDEX["mouthSmileLeft"], 54] * fitter.iod
    assert moved[54, 0] > 0.5 * want[0] and moved[54, 1] > 0.5 * want[1]
    assert abs(moved[48, 1]) < 0.3 * moved[54, 1]  # the right corner stays
    assert res.expressions.shape == (1, 100)


def test_jaw_comes_from_jaw_open_and_opens_the_lips(model, fitter):
    res = fitter.fit(_arkit(jawOpen=0.6))
    assert res.jaw[0, 0] > 0.1 and np.allclose(res.jaw[0, 1:], 0)
    lm = _landmarks(model, res)
    gap0 = np.linalg.norm(fitter.rest_lmk[62] - fitter.rest_lmk[66])
    assert np.linalg.norm(lm[62] - lm[66]) > gap0 + 0.01
    assert np.allclose(res.expressions, 0, atol=1e-9)  # the jaw alone explains jawOpen


@pytest.mark.parametrize("pose", [dict(mouthClose=0.7, mouthPress=0.5),
                                  dict(jawOpen=0.3, mouthClose=0.3),
                                  dict(mouthClose=0.7, mouthSmileLeft=0.6, mouthSmileRight=0.6)])
def test_lip_closure_survives(model, fitter, pose):
    pose = {(k + "Left" if k == "mouthPress" else k): v for k, v in pose.items()}
    res = fitter.fit(_arkit(**pose))
    lm = _landmarks(model, res)
    gap0 = np.linalg.norm(fitter.rest_lmk[62] - fitter.rest_lmk[66])
    for u, lo in ((61, 67), (62, 66), (63, 65)):
        assert np.linalg.norm(lm[u] - lm[lo]) < 0.35 * gap0 + 5e-4


def test_pp_viseme_closes_like_mouth_close(fitter):
    a = _arkit(jawOpen=0.05)
    vis = np.zeros((1, 15))
    vis[0, 1] = 1.0  # PP
    assert not np.allclose(fitter.fit(a, visemes=vis).expressions, fitter.fit(a).expressions)
    assert closure_signal(_arkit(mouthClose=0.7))[0] == pytest.approx(1.0)
    assert closure_signal(_arkit(jawOpen=0.5))[0] == 0.0


def test_many_frames_are_one_matrix_product(fitter):
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 0.4, (50, 52))
    res = fitter.fit(a)
    assert res.expressions.shape == (50, 100) and res.jaw.shape == (50, 3)
    one = fitter.fit(a[7:8])
    assert np.allclose(one.expressions[0], res.expressions[7])


def test_fits_through_an_smplx_model_too(tmp_path):
    from synthetic_models import write_synthetic_smplx

    smplx_model = load_model(write_synthetic_smplx(tmp_path / "s.npz", seed=4))
    fit = ArkitToFlame(smplx_model)
    res = fit.fit(_arkit(mouthSmileRight=1.0, jawOpen=0.2))
    moved = _landmarks(smplx_model, res) - fit.rest_lmk
    assert moved[48, 1] > 0.002 and moved[48, 0] < 0  # the subject's right corner: up and out


def test_face_stage_adds_flame_expressions_and_keeps_closure(tmp_path):
    from paksatalker.core.face import animate
    from paksatalker.core.settings import FaceSettings
    from paksatalker.core.types import Phoneme, Script, Segment, Speech, Word

    path = write_synthetic_flame(tmp_path / "FLAME_NEUTRAL.npz", seed=3)
    phs = (Phoneme("m", 0.2, 0.3, 0), Phoneme("a", 0.3, 0.55, 2), Phoneme("p", 0.55, 0.65, 0),
           Phoneme("a", 0.65, 0.9, 0))
    sp = Speech(np.zeros(16000, np.float32), 16000, (Word("mapa", 0.2, 0.9),), phs)
    face = animate(Script((Segment("mapa"),)), sp, 30.0, FaceSettings(flame_model=str(path)))
    assert face.expressions is not None and face.expressions.shape == (face.frames, 100)
    model = load_model(path)
    gaps = []
    for k in range(face.frames):
        pose = np.zeros((5, 3))
        pose[model.jaw_index] = face.jaw[k]
        out = model.forward(expression=face.expressions[k], pose=pose)
        lm = model.landmarks(out.vertices, 68)
        gaps.append(np.linalg.norm(lm[62] - lm[66]))
    gaps = np.array(gaps)
    t = np.arange(face.frames) / 30.0
    at_m, at_a = gaps[np.abs(t - 0.25) < 0.02], gaps[np.abs(t - 0.45) < 0.04]
    assert at_m.max() < 0.001 and at_a.min() > 0.004  # shut on /m/, open on /a/


def test_cli_flags_reach_the_face_stage(tmp_path, capsys):
    from paksatalker.headless.cli import _generate_settings as settings_of
    from paksatalker.headless.cli import build_parser, main

    path = write_synthetic_flame(tmp_path / "FLAME_NEUTRAL.npz", seed=1)
    args = build_parser().parse_args(
        ["render", "--text", "hi", "--out", str(tmp_path / "o.mp4"), "--smplx-model", "s.npz",
         "--sadtalker-checkpoint", "a.pth", "--bfm-model", "b.mat"])
    face = settings_of(args).face
    assert (face.flame_model, face.backend, face.bfm_model) == ("s.npz", "sadtalker", "b.mat")
    out = tmp_path / "g.npz"
    assert main(["generate", "--text", "Maybe a puppy.", "--out", str(out),
                 "--flame-model", str(path)]) == 0
    with np.load(out) as z:
        assert np.abs(z["expressions"]).max() > 0.01
    assert main(["generate", "--text", "Hi.", "--out", str(out),
                 "--flame-model", str(tmp_path / "missing.npz")]) != 0
    assert "flame.is.tue.mpg.de" in capsys.readouterr().err
