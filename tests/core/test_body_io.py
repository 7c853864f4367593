# SPDX-License-Identifier: GPL-3.0-or-later
"""Body I/O: BVH and SMPL-X npz round trips, the EMAGE/BEAT2 import path and backend, metrics."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from synthetic_models import write_synthetic_smplx

from paksatalker.core import body as body_stage
from paksatalker.core.body import emage, metrics, procedural
from paksatalker.core.body.bvh import parse_bvh, read_bvh, write_bvh
from paksatalker.core.body.skeleton import REST_JOINTS, forward_kinematics
from paksatalker.core.body.smplx_npz import read_smplx_npz, write_smplx_npz
from paksatalker.core.errors import BackendError, InputError
from paksatalker.core.names import JOINT_INDEX, SMPLX_JOINTS
from paksatalker.core.rotations import axis_angle_to_matrix, compose_axis_angle
from paksatalker.core.settings import BodySettings
from paksatalker.core.types import BodyTrack, Phoneme, Script, Segment, Speech, Word, frame_count

J = JOINT_INDEX
TEXT = "we really need a bold plan to change everything in this city now"


def speech_and_script(total=6.0):
    words, phonemes, t, pos = [], [], 0.3, 0
    for w in TEXT.split():
        char = TEXT.index(w, pos)
        pos = char + len(w)
        words.append(Word(w, t, t + 0.3, 0, char))
        phonemes += [Phoneme("t", t, t + 0.06), Phoneme("a", t + 0.06, t + 0.24, 2),
                     Phoneme("n", t + 0.24, t + 0.3)]
        t += 0.3
    speech = Speech(np.zeros(int(16000 * total), np.float32), 16000, tuple(words),
                    tuple(phonemes))
    return Script((Segment(TEXT),)), speech


@pytest.fixture(scope="module")
def motion():
    script, speech = speech_and_script()
    return procedural.animate(script, speech, 30.0, BodySettings(energy=1.0, seed=2))


# --------------------------------------------------------------------------- BVH
def test_bvh_round_trip(motion, tmp_path):
    path = write_bvh(motion, tmp_path / "talk.bvh")
    back, rest = read_bvh(path)
    assert back.fps == 30.0 and back.frames == motion.frames
    np.testing.assert_allclose(rest, REST_JOINTS, atol=1e-6)
    np.testing.assert_allclose(axis_angle_to_matrix(back.poses), axis_angle_to_matrix(
        motion.poses.astype(np.float64)), atol=1e-5)
    np.testing.assert_allclose(back.trans, motion.trans, atol=1e-6)
    a, _ = forward_kinematics(motion.poses, motion.trans)
    b, _ = forward_kinematics(back.poses, back.trans, rest)
    assert np.abs(a - b).max() < 1e-5
    parsed = parse_bvh(path)
    assert set(parsed.names) == set(SMPLX_JOINTS) and parsed.channels[0][0] == "Xposition"
    assert path.read_text().count("End Site") == sum(
        1 for i in range(55) if i not in set(p for p in parsed.parents if p >= 0))


def test_bvh_any_fps_and_rest(motion, tmp_path):
    rest = REST_JOINTS * 1.1
    path = write_bvh(motion, tmp_path / "talk24.bvh", fps=24.0, rest=rest)
    back, got_rest = read_bvh(path)
    assert back.fps == 24.0
    assert back.frames == int(round((motion.frames - 1) * 24 / 30)) + 1
    np.testing.assert_allclose(got_rest - got_rest[0], rest - rest[0], atol=1e-6)
    # frame 4 at 24 fps is frame 5 at 30 fps
    np.testing.assert_allclose(axis_angle_to_matrix(back.poses[4]),
                               axis_angle_to_matrix(motion.poses[5].astype(np.float64)),
                               atol=1e-5)
    (tmp_path / "bad.bvh").write_text("HIERARCHY\nROOT x\n{\nOFFSET 0 0\n")
    with pytest.raises(InputError):
        read_bvh(tmp_path / "bad.bvh")


# --------------------------------------------------------------------------- SMPL-X npz
def test_smplx_npz_round_trip_and_smplx_forward(motion, tmp_path):
    torch = pytest.importorskip("torch")
    smplx = pytest.importorskip("smplx")
    expr = np.random.default_rng(0).normal(size=(motion.frames, 100)).astype(np.float32)
    path = write_smplx_npz(motion, tmp_path / "talk.npz", expressions=expr)
    back = read_smplx_npz(path)
    np.testing.assert_array_equal(back.poses, motion.poses)
    np.testing.assert_array_equal(back.trans, motion.trans)
    assert back.fps == motion.fps
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    assert str(data["gender"]) == "neutral" and str(data["surface_model_type"]) == "smplx"
    np.testing.assert_array_equal(data["pose_hand"], data["poses"][:, 75:])
    # the smplx package runs its forward on the file's arrays
    model_file = write_synthetic_smplx(tmp_path / "SMPLX_NEUTRAL.npz", seed=0)
    n = 8
    model = smplx.create(str(model_file), model_type="smplx", num_betas=10,
                         num_expression_coeffs=100, use_pca=False, flat_hand_mean=False,
                         batch_size=n)

    def t(key, cols=None):
        a = data[key][:n] if cols is None else data[key][:n, cols]
        return torch.tensor(a, dtype=torch.float32)

    out = model(betas=torch.tensor(np.tile(data["betas"][:10], (n, 1))),
                expression=t("expressions"), global_orient=t("root_orient"),
                body_pose=t("pose_body"), jaw_pose=t("pose_jaw"),
                leye_pose=t("pose_eye", slice(0, 3)), reye_pose=t("pose_eye", slice(3, 6)),
                left_hand_pose=t("pose_hand", slice(0, 45)),
                right_hand_pose=t("pose_hand", slice(45, 90)), transl=t("trans"))
    verts, joints = out.vertices.detach().numpy(), out.joints.detach().numpy()
    assert verts.shape[0] == n and np.all(np.isfinite(verts))
    # the root joint sits at its rest place plus trans; the body moves between frames
    root = joints[:, 0] - data["trans"][:n]
    np.testing.assert_allclose(root, np.broadcast_to(root[0], root.shape), atol=1e-5)
    assert np.abs(verts[-1] - verts[0]).max() > 1e-3


def test_smplx_npz_refuses_bad_files(tmp_path):
    np.savez(tmp_path / "a.npz", poses=np.zeros((3, 10)), mocap_frame_rate=30)
    with pytest.raises(InputError, match="165"):
        read_smplx_npz(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", poses=np.zeros((3, 165)))
    with pytest.raises(InputError, match="mocap_frame_rate"):
        read_smplx_npz(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", poses=np.array([object()] * 3, dtype=object))
    with pytest.raises(InputError):
        read_smplx_npz(tmp_path / "c.npz")


# --------------------------------------------------------------------------- EMAGE
def emage_format_file(motion, path, drift=0.08, yaw=0.6):
    """An npz laid out as EMAGE writes it (poses (T,165), trans, betas (300), expressions
    (T,100), mocap_frame_rate 30), made from our motion with root drift (feet sliding at
    ``drift`` m/s) and the speaker turned by ``yaw``: what the import must clean up."""
    t = np.arange(motion.frames) / motion.fps
    poses = motion.poses.astype(np.float64).copy()
    poses[:, 0] = compose_axis_angle(np.array([0.0, yaw, 0.0]), poses[:, 0])
    r = axis_angle_to_matrix(np.array([0.0, yaw, 0.0]))
    trans = motion.trans.astype(np.float64) @ r.T + np.array([0.4, 0.0, -0.2])
    trans[:, 0] += drift * t
    np.savez(path, poses=poses.reshape(-1, 165).astype(np.float32), trans=trans,
             betas=np.zeros(300, np.float32), expressions=np.zeros((len(t), 100), np.float32),
             mocap_frame_rate=np.array(30))
    return path


def test_emage_import_resamples_fixes_root_locks_feet_and_blends(motion, tmp_path):
    path = emage_format_file(motion, tmp_path / "emage.npz")
    raw = read_smplx_npz(path)
    raw_pos, _ = forward_kinematics(raw.poses, raw.trans)
    assert metrics.foot_skating(raw_pos)[0] > 2.0  # the drift slides the feet
    for fps in (24.0, 30.0, 60.0):
        out = emage.import_emage(path, fps, BodySettings(blend=0.5), duration=5.0)
        assert out.fps == fps and out.frames == frame_count(5.0, fps)
        pos, rot = forward_kinematics(out.poses, out.trans)
        mean, worst = metrics.foot_skating(pos)
        assert worst < 1.0, (fps, mean, worst)  # planted feet move < 1 mm
        assert np.ptp(out.trans[:, [0, 2]], axis=0).max() < 0.06  # no drift left
        facing = rot[: int(fps), 0] @ np.array([0.0, 0.0, 1.0])
        assert facing[:, 2].min() > 0.97  # turned to face the camera
        assert not any(np.isnan(v) for v in metrics.evaluate(out).values())
    # hands are taken as EMAGE writes them (relative to the mean hand): unchanged mid-clip
    out = emage.import_emage(path, 30.0, BodySettings(blend=0.5))
    mid = slice(40, 120)
    np.testing.assert_allclose(axis_angle_to_matrix(out.poses[mid, 25:]),
                               axis_angle_to_matrix(motion.poses[mid, 25:].astype(np.float64)),
                               atol=1e-5)
    # the first frame is our idle pose for the upper body
    idle = emage.idle_body(30.0, out.frames)
    upper = [J[n] for n in ("spine3", "neck", "left_shoulder", "right_elbow")]
    np.testing.assert_allclose(out.poses[0, upper], idle.poses[0, upper], atol=1e-5)


def test_emage_import_keep_root(motion, tmp_path):
    path = emage_format_file(motion, tmp_path / "emage.npz", drift=0.0, yaw=0.0)
    out = emage.import_emage(path, 30.0, BodySettings(root="keep", foot_lock=False, blend=0.0))
    np.testing.assert_allclose(out.trans, read_smplx_npz(path).trans, atol=1e-6)


def test_emage_backend_command_and_errors(tmp_path):
    settings = BodySettings(backend="emage", emage_dir=str(tmp_path), emage_python="/opt/py")
    cmd = emage.emage_command(settings, tmp_path / "in", tmp_path / "out")
    assert cmd == ["/opt/py", str(tmp_path / "test_emage_audio.py"), "--audio_folder",
                   str(tmp_path / "in"), "--save_folder", str(tmp_path / "out")]
    assert emage.emage_command(BodySettings(emage_dir="x"), tmp_path, tmp_path)[0] == \
        sys.executable
    script, speech = speech_and_script(5.0)
    with pytest.raises(BackendError, match="PantoMatrix"):
        body_stage.animate(script, speech, 30.0, BodySettings(backend="emage"))
    with pytest.raises(BackendError, match="test_emage_audio.py"):
        body_stage.animate(script, speech, 30.0, BodySettings(backend="emage",
                                                              emage_dir=str(tmp_path)))
    (tmp_path / "test_emage_audio.py").write_text("")
    with pytest.raises(BackendError, match="no such Python"):
        emage.check_installation(settings)


# --------------------------------------------------------------------------- metrics
def test_metrics_on_known_motion(motion):
    pos, _ = forward_kinematics(motion.poses, motion.trans)
    assert metrics.foot_skating(pos) == (pytest.approx(0.0, abs=1e-3),
                                        pytest.approx(0.0, abs=1e-3))
    sliding = pos + np.arange(len(pos))[:, None, None] * np.array([0.002, 0.0, 0.0])
    assert metrics.foot_skating(sliding)[0] == pytest.approx(2.0, rel=1e-3)
    assert metrics.l1_diversity(np.repeat(pos[:1], 10, axis=0)) == pytest.approx(0.0, abs=1e-9)
    assert metrics.l1_diversity(pos) > 0.0
    # upper body slowing down exactly on the onsets: BC 1; 0.15 s off: exp(-0.15^2 / 2 sigma^2)
    fps, n = 30.0, 300
    t = np.arange(n) / fps
    onsets = np.arange(1.0, 9.0, 0.5) + 0.013  # off the frame grid
    speed = 1.0 - 0.6 * np.exp(-0.5 * ((t[:, None] - onsets) / 0.05) ** 2).sum(1)
    x = np.cumsum(speed) / fps
    synth = np.zeros((n, 55, 3))
    synth[:, :, 0] = x[:, None]
    assert metrics.beat_consistency(synth, fps, onsets) == pytest.approx(1.0, abs=0.01)
    assert metrics.beat_consistency(synth, fps, onsets + 0.15) == pytest.approx(
        np.exp(-0.15 ** 2 / (2 * 0.09)), abs=0.03)
    # chance: the same motion against random onsets; sparse beats make it clearly lower
    sparse = np.array([1.5, 4.5, 7.5]) + 0.013
    speed = 1.0 - 0.6 * np.exp(-0.5 * ((t[:, None] - sparse) / 0.05) ** 2).sum(1)
    synth[:, :, 0] = (np.cumsum(speed) / fps)[:, None]
    assert metrics.beat_consistency(synth, fps, sparse) == pytest.approx(1.0, abs=0.01)
    chance = metrics.beat_consistency_chance(synth, fps, sparse, draws=20)
    assert 0.05 < chance < 0.6, chance
    wave = np.zeros((n, 55, 3))
    wave[:, J["right_wrist"], 1] = 0.1 * np.sin(2 * np.pi * 1.0 * t)  # two peaks per cycle
    assert metrics.gesture_rate(wave, fps) == pytest.approx(120.0, rel=0.1)
    assert metrics.jerk(np.repeat(pos[:1], 10, axis=0), fps) == pytest.approx(0.0, abs=1e-9)
    knee_forward = np.zeros((2, 55, 3))
    knee_forward[1, J["left_knee"], 0] = -1.0
    bad = BodyTrack(30.0, knee_forward, np.zeros((2, 3)))
    assert metrics.evaluate(bad)["limit_violations"] == 1.0


def test_motion_beats_on_real_speech():
    """Procedural motion on ~33 s of eSpeak speech scores BC >= 0.75 (0.81-0.84 measured; the
    60 s benchmark checks the 0.78 target), with the elbows and wrists scoring too, not only the
    torso. (eSpeak's timings vary by a few ms from call to call, so BC does a little too.)"""
    from paksatalker.core import script as script_stage
    from paksatalker.core import speech as speech_stage
    from paksatalker.core.settings import SpeechSettings

    sc = script_stage.write(
        "Hello everyone, and welcome. I am really glad you are here today. Let me show you how "
        "our new avatar works. First, you write a short script. Second, the system turns it "
        "into speech. Third, the body and the face move with the words. This is not a small "
        "step. It is a big change for the whole team, and it opens many new doors. Maybe you "
        "wonder how it knows where to move. Honestly, it listens to the stress in every "
        "sentence, and it lifts the hands on the important words. We built this together, and "
        "we never stopped improving it.")
    sp = speech_stage.synthesize(sc, SpeechSettings(backend="espeak"))
    onsets = metrics.audio_onsets(sp.samples, sp.sample_rate)
    assert sp.duration > 30.0 and len(onsets) > 4 * sp.duration
    keep = [J[f"{s}_{j}"] for s in ("left", "right") for j in ("elbow", "wrist")]
    for style in ("casual", "professional"):
        track = procedural.animate(sc, sp, 30.0, BodySettings(style=style, seed=0))
        pos, _ = forward_kinematics(track.poses.astype(np.float64),
                                    track.trans.astype(np.float64))
        bc = metrics.beat_consistency(pos, 30.0, onsets)
        assert bc >= 0.75, (style, bc)
        arms = pos.copy()
        arms[:, [j for j in metrics.UPPER_BODY if j not in keep]] = 0.0  # still: they score 0
        assert metrics.beat_consistency(arms, 30.0, onsets) * 13 / 4 > 0.6, style
