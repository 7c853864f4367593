# SPDX-License-Identifier: GPL-3.0-or-later
import numpy as np
import pytest
import soundfile as sf

from paksatalker.core import performance as P
from paksatalker.core.errors import InputError, OutputError
from paksatalker.core.names import ARKIT_INDEX
from paksatalker.core.types import (
    BodyTrack,
    FaceTrack,
    Phoneme,
    Speech,
    Word,
    frame_count,
)


def _perf(fps=30.0, seconds=1.3, seed=0):
    rng = np.random.default_rng(seed)
    sr = 16000
    samples = (0.1 * rng.standard_normal(int(seconds * sr))).astype(np.float32)
    words = (Word("hello", 0.1, 0.5, 0, 0), Word("world", 0.6, 1.1, 0, 6))
    phon = (Phoneme("h", 0.1, 0.2), Phoneme("ə", 0.2, 0.3, 2), Phoneme("_", 0.5, 0.6))
    speech = Speech(samples, sr, words, phon, ((0.0, 1.2),), "en-us")
    t = frame_count(speech.duration, fps)
    face = FaceTrack(fps, rng.uniform(0, 1, (t, 52)), rng.uniform(0, 1, (t, 15)),
                     rng.normal(0, 0.1, (t, 3)), rng.normal(0, 0.1, (t, 2, 3)),
                     rng.normal(0, 0.05, (t, 3)))
    body = BodyTrack(fps, rng.normal(0, 0.3, (t, 55, 3)), rng.normal(0, 0.01, (t, 3)))
    return P.assemble(speech, face, body, script_text="hello world")


def test_round_trip_is_exact(tmp_path):
    perf = _perf()
    npz, wav = P.save(perf, tmp_path / "p.npz")
    assert wav.is_file() and npz.is_file()
    back = P.load(npz)
    assert back.fps == perf.fps and back.frames == perf.frames
    for a, b in [(back.body.poses, perf.body.poses), (back.body.trans, perf.body.trans),
                 (back.face.arkit, perf.face.arkit), (back.face.visemes, perf.face.visemes),
                 (back.face.jaw, perf.face.jaw), (back.face.eyes, perf.face.eyes),
                 (back.body.betas, perf.body.betas)]:
        np.testing.assert_array_equal(a, b)
    assert back.speech.words == perf.speech.words
    assert back.speech.phonemes == perf.speech.phonemes
    assert back.speech.segment_times == perf.speech.segment_times
    assert back.script_text == "hello world"
    assert back.face.expressions is None
    np.testing.assert_allclose(back.speech.samples, perf.speech.samples, atol=1.5 / 32767)
    # saving what was loaded gives the same arrays again
    P.save(back, tmp_path / "q.npz")
    a, b = np.load(tmp_path / "p.npz"), np.load(tmp_path / "q.npz")
    for k in ("poses", "trans", "arkit", "visemes", "word_times", "phoneme_times"):
        np.testing.assert_array_equal(a[k], b[k])


def test_assemble_puts_face_jaw_eyes_and_head_into_the_pose():
    perf = _perf()
    p = perf.body.poses
    np.testing.assert_array_equal(p[:, P.JAW], perf.face.jaw)
    np.testing.assert_array_equal(p[:, P.LEYE], perf.face.eyes[:, 0])
    assert not np.any(perf.face.head)


def test_file_is_emage_compatible(tmp_path):
    perf = _perf()
    P.save(perf, tmp_path / "p.npz")
    z = np.load(tmp_path / "p.npz", allow_pickle=False)
    assert z["poses"].shape == (perf.frames, 165)
    assert z["trans"].shape == (perf.frames, 3)
    assert z["expressions"].shape == (perf.frames, 100)
    assert float(z["mocap_frame_rate"]) == 30.0
    assert str(z["model"]) == "smplx2020" and str(z["gender"]) == "neutral"


def _emage_file(tmp_path, fps=30, seconds=2.0, wav=True):
    t = int(seconds * fps)
    rng = np.random.default_rng(1)
    poses = rng.normal(0, 0.2, (t, 165)).astype(np.float32)
    poses[:, 66] = np.linspace(0, 0.35, t)  # jaw opens over the clip
    path = tmp_path / "emage_out.npz"
    np.savez(path, poses=poses, trans=np.zeros((t, 3)), betas=np.zeros(300),
             expressions=rng.normal(0, 1, (t, 100)), mocap_frame_rate=np.array(fps),
             model=np.array("smplx2020"), gender=np.array("neutral"))
    if wav:
        sf.write(tmp_path / "emage_out.wav", np.zeros(int(seconds * 16000)), 16000)
    return path, poses


def test_emage_npz_loads_with_its_wav_and_jaw_drives_jaw_open(tmp_path):
    path, poses = _emage_file(tmp_path)
    perf = P.load(path)
    assert perf.source == "emage"
    assert perf.fps == 30 and perf.frames == 60
    np.testing.assert_allclose(perf.body.poses.reshape(60, 165), poses, atol=1e-6)
    jaw_open = perf.face.arkit[:, ARKIT_INDEX["jawOpen"]]
    assert jaw_open[0] < 0.01 and jaw_open[-1] > 0.99
    assert perf.face.expressions.shape == (60, 100)


def test_emage_npz_resamples_to_the_video_fps(tmp_path):
    path, poses = _emage_file(tmp_path)
    perf = P.load(path, fps=25)
    assert perf.fps == 25 and perf.frames == 50
    # frame 5 at 25 fps is t=0.2 s = frame 6 at 30 fps
    np.testing.assert_allclose(perf.body.poses[5, 22, 0], poses[6, 66], atol=1e-5)


def test_motion_is_held_or_trimmed_to_cover_the_audio(tmp_path):
    path, _ = _emage_file(tmp_path, seconds=2.0, wav=False)
    sf.write(tmp_path / "long.wav", np.zeros(3 * 16000), 16000)
    perf = P.load(path, audio_path=tmp_path / "long.wav")
    assert perf.frames == 90
    np.testing.assert_array_equal(perf.body.poses[-1], perf.body.poses[59])


@pytest.mark.parametrize("make, msg", [
    (lambda d: d / "missing.npz", "no such Performance file"),
    (lambda d: (d / "bad.npz").write_bytes(b"not a zip") and d / "bad.npz", "not a readable"),
    (lambda d: (np.savez(d / "x.npz", poses=np.zeros((4, 10)), mocap_frame_rate=30),
                d / "x.npz")[1],
     r"shape \(T,165\)"),
    (lambda d: (np.savez(d / "y.npz", trans=np.zeros((4, 3))), d / "y.npz")[1], "missing key"),
    (lambda d: (np.savez(d / "o.npz", poses=np.array([{"a": 1}], dtype=object),
                         mocap_frame_rate=30), d / "o.npz")[1], "pickled"),
])
def test_bad_files_give_one_line_input_errors(tmp_path, make, msg):
    path = make(tmp_path)
    with pytest.raises(InputError, match=msg) as e:
        P.load(path)
    assert "\n" not in str(e.value)


def test_missing_audio_is_named(tmp_path):
    path, _ = _emage_file(tmp_path, wav=False)
    with pytest.raises(InputError, match="--audio"):
        P.load(path)


def test_save_refuses_bad_targets_and_leaves_nothing(tmp_path):
    perf = _perf()
    with pytest.raises(OutputError):
        P.save(perf, tmp_path / "nope" / "p.npz")
    with pytest.raises(OutputError):
        P.save(perf, tmp_path / "p.txt")
    assert list(tmp_path.iterdir()) == []


def test_emage_npz_is_prepared_when_body_settings_are_given(tmp_path):
    from paksatalker.core.settings import BodySettings

    path, poses = _emage_file(tmp_path)
    raw = P.load(path)
    prepared = P.load(path, body_settings=BodySettings())
    assert prepared.frames == raw.frames and prepared.source == "emage"
    # blended into our idle at the start: the first frame is no longer the file's
    first = np.abs(prepared.body.poses[0] - raw.body.poses[0]).max()
    assert first > 1e-3
    assert np.isfinite(prepared.body.poses).all()
