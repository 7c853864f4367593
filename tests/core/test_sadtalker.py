# SPDX-License-Identifier: GPL-3.0-or-later
"""SadTalker audio2exp: the architecture, checkpoint loading, audio features and the whole path to
FLAME on a random-weight network with synthetic BFM and FLAME models."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic_models import synthetic_flame_arrays, write_synthetic_flame

from paksatalker.core.errors import DataError, InputError
from paksatalker.core.face import animate
from paksatalker.core.face.flame_stage import bfm_to_flame_for, fitter_for
from paksatalker.core.settings import FaceSettings
from paksatalker.core.smplx_model import load_model
from paksatalker.core.types import Script, Segment, Speech, frame_count

torch = pytest.importorskip("torch")
sad = pytest.importorskip("paksatalker.core.face.sadtalker")


def _write_bfm(path, seed: int = 7):
    """A tiny BFM_model_front.mat: another synthetic head, in millimetres, turned 10 degrees."""
    from scipy.io import savemat

    a = synthetic_flame_arrays(seed)
    v, f = a["v_template"], a["f"]
    ang = np.radians(10.0)
    rot = np.array([[np.cos(ang), 0, np.sin(ang)], [0, 1, 0], [-np.sin(ang), 0, np.cos(ang)]])
    mean = (v @ rot.T) * 1000.0
    ex = np.einsum("ab,vbk->vak", rot, a["shapedirs"][:, :, 300:364]) * 1000.0
    fi = np.concatenate([a["dynamic_lmk_faces_idx"][0], a["lmk_faces_idx"]])
    bc = np.concatenate([a["dynamic_lmk_bary_coords"][0], a["lmk_bary_coords"]])
    kp = f[fi, np.argmax(bc, 1)] + 1  # one-based, like the real file
    savemat(path, {"meanshape": mean.reshape(1, -1), "exBase": ex.reshape(-1, 64),
                   "keypoints": kp.reshape(1, -1).astype(np.float64)})
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("sad")
    torch.manual_seed(0)
    net = sad.build_network()
    with torch.no_grad():  # give BatchNorm non-trivial statistics, like a trained model
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    ckpt = d / "auido2exp_00300-model.pth"
    torch.save({"model": net.state_dict(), "epoch": 300}, ckpt)
    return {"ckpt": ckpt, "bfm": _write_bfm(d / "BFM_model_front.mat"),
            "flame": write_synthetic_flame(d / "FLAME_NEUTRAL.npz", seed=3), "net": net}


def test_architecture_has_the_checkpoint_layout():
    sd = sad.build_network().state_dict()
    assert sd["audio_encoder.0.conv_block.0.weight"].shape == (32, 1, 3, 3)
    assert sd["audio_encoder.9.conv_block.0.weight"].shape == (256, 128, 3, 3)
    assert sd["audio_encoder.12.conv_block.0.weight"].shape == (512, 512, 1, 1)
    assert sd["audio_encoder.12.conv_block.1.running_var"].shape == (512,)
    assert sd["mapping1.weight"].shape == (64, 577)
    assert len([k for k in sd if k.startswith("audio_encoder.")]) == 13 * 7
    out = sad.build_network().eval()(torch.zeros(3, 1, 80, 16), torch.zeros(3, 64),
                                     torch.zeros(3, 1))
    assert out.shape == (3, 64)


def test_checkpoint_loads_strictly_and_safely(files, tmp_path):
    net = sad.load_network(files["ckpt"])
    x = torch.randn(2, 1, 80, 16)
    ref, ratio = torch.zeros(2, 64), torch.ones(2, 1)
    with torch.no_grad():
        assert torch.allclose(net(x, ref, ratio), files["net"].eval()(x, ref, ratio))
    bad = tmp_path / "bad.pth"
    sd = dict(files["net"].state_dict())
    sd.pop("mapping1.bias")
    torch.save(sd, bad)
    with pytest.raises(DataError, match="not a SadTalker"):
        sad.load_network(bad)
    with pytest.raises(InputError, match="sadtalker-checkpoint"):
        sad.load_network(tmp_path / "missing.pth")
    from safetensors.torch import save_file

    st = tmp_path / "SadTalker_V0.0.2_256.safetensors"
    save_file({"audio2exp." + k: v.contiguous() for k, v in files["net"].state_dict().items()},
              str(st))
    assert torch.allclose(sad.load_network(st).mapping1.weight, files["net"].mapping1.weight)


def test_melspectrogram_matches_the_reference_recipe():
    import librosa
    from scipy.signal import lfilter

    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.normal(size=t.size)
    mel = sad.melspectrogram(x)
    assert mel.shape == (1 + len(x) // 200, 80)
    stft = librosa.stft(lfilter([1, -0.97], [1], x), n_fft=800, hop_length=200, win_length=800,
                        pad_mode="reflect")
    ref = librosa.amplitude_to_db(
        librosa.filters.mel(sr=16000, n_fft=800, n_mels=80, fmin=55, fmax=7600) @ np.abs(stft),
        ref=1.0, amin=1e-5, top_db=None) - 20
    ref = np.clip(8 * (ref + 100) / 100 - 4, -4, 4).T
    assert np.abs(mel - ref).max() < 1e-3
    assert sad.melspectrogram(np.zeros(3200)).max() == -4.0
    band = librosa.hz_to_mel(440.0)
    peak = np.argmax(mel[10:-10].mean(0))
    centres = librosa.mel_frequencies(82, fmin=55, fmax=7600)[1:-1]
    assert abs(librosa.hz_to_mel(centres[peak]) - band) < 60


def test_mel_windows_follow_the_video_frames():
    mel = np.arange(200)[:, None] * np.ones((1, 80))
    w = sad.mel_windows(mel, 10)
    assert w.shape == (10, 80, 16)
    assert w[0, 0, 0] == 0 and w[5, 0, 0] == int(80 * 3 / 25) and w[5, 0, 15] == w[5, 0, 0] + 15


def test_full_path_to_flame_at_the_video_fps(files):
    rng = np.random.default_rng(1)
    sr, seconds, fps = 22050, 1.3, 30.0
    t = np.arange(int(sr * seconds)) / sr
    voice = np.sin(2 * np.pi * 150 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) ** 2
    speech = Speech((0.3 * voice + 0.01 * rng.normal(size=t.size)).astype(np.float32), sr)
    settings = FaceSettings(backend="sadtalker", sadtalker_checkpoint=str(files["ckpt"]),
                            bfm_model=str(files["bfm"]), flame_model=str(files["flame"]))
    face = animate(Script((Segment("hello"),)), speech, fps, settings)
    n = frame_count(speech.duration, fps)
    assert face.expressions.shape == (n, 100) and face.jaw.shape == (n, 3)
    # the track is exactly: network -> BFM at 25 fps -> resampled -> mapped to FLAME
    net = sad.load_network(files["ckpt"])
    ratio = sad.blink_ratio(int(seconds * 25), settings.seed, settings.blink_rate)
    bfm = sad.run_bfm(net, speech.samples, sr, ratio)
    assert bfm.shape == (int(seconds * 25), 64)
    conv = bfm_to_flame_for(files["bfm"], files["flame"])
    expr, jaw = conv.convert(sad.resample_frames(bfm, 25.0, fps, n))
    assert np.allclose(face.expressions, expr) and np.allclose(face.jaw, jaw)
    assert np.abs(face.expressions).max() > 0 and np.all(np.isfinite(face.expressions))
    with pytest.raises(InputError, match="bfm-model"):
        animate(Script((Segment("hi"),)), speech, fps,
                FaceSettings(backend="sadtalker", sadtalker_checkpoint=str(files["ckpt"])))


def test_bfm_map_reproduces_landmark_motion(files):
    model = load_model(files["flame"])
    fit = fitter_for(files["flame"])
    conv = bfm_to_flame_for(files["bfm"], files["flame"])
    assert conv.scale == pytest.approx(1e-3, rel=0.2)  # millimetres -> metres
    rng = np.random.default_rng(2)
    for _ in range(3):
        e = rng.normal(0, 0.5, 64)
        want = conv.landmark_rows @ e  # BFM landmark motion in FLAME's frame
        expr, jaw = conv.convert(e[None])
        pose = np.zeros((5, 3))
        pose[model.jaw_index] = jaw[0]
        got = model.landmarks(model.forward(expression=expr[0], pose=pose).vertices, 68)
        got = (got - fit.rest_lmk).ravel()
        cos = want @ got / (np.linalg.norm(want) * np.linalg.norm(got))
        assert cos > 0.8, cos
