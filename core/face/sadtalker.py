# SPDX-License-Identifier: GPL-3.0-or-later
"""SadTalker's audio-to-expression network on the user's own checkpoint, converted to FLAME.

What runs (the published SadTalker audio2exp model, re-implemented from its layer shapes):

* audio: mono 16 kHz; pre-emphasis 0.97; STFT with n_fft 800, hop 200 (80 mel frames per second),
  Hann window 800, centred with reflect padding; 80 Slaney mel bands 55..7600 Hz; amplitude in dB
  (floor -100 dB) minus 20 dB, mapped linearly to [-4, 4] and clipped;
* one window of 16 mel frames per 25 fps video frame, starting two video frames early;
* network: 13 conv blocks (Conv2d + BatchNorm2d + ReLU, some residual) that reduce a 1x80x16 window
  to 512 features, then ``mapping1``: Linear(512 + 64 + 1 -> 64) over [audio features, reference
  expression (64), blink ratio (1)] -> 64 BFM expression coefficients per frame.

The BFM-64 output at 25 fps is resampled to the video fps and converted to FLAME expressions +
jaw with a map fitted from the user's BFM and FLAME/SMPL-X model files (:mod:`.flame_stage`).
It is never labelled FLAME before that conversion.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import BackendError, DataError, InputError
from ..names import ARKIT_52, ARKIT_INDEX, VISEMES
from ..settings import FaceSettings
from ..types import FaceTrack, Script, Speech, frame_count

SAMPLE_RATE = 16000
N_FFT, HOP, WIN, N_MELS, FMIN, FMAX = 800, 200, 800, 80, 55.0, 7600.0
PREEMPHASIS, REF_DB, MIN_DB, MAX_ABS = 0.97, 20.0, -100.0, 4.0
NET_FPS = 25.0
WINDOW = 16
"""Mel frames per network input window (0.2 s)."""
BFM_DIM = 64

# (in, out, kernel, stride, padding, residual) of each audio-encoder block, in order
_BLOCKS = (
    (1, 32, 3, 1, 1, False), (32, 32, 3, 1, 1, True), (32, 32, 3, 1, 1, True),
    (32, 64, 3, (3, 1), 1, False), (64, 64, 3, 1, 1, True), (64, 64, 3, 1, 1, True),
    (64, 128, 3, 3, 1, False), (128, 128, 3, 1, 1, True), (128, 128, 3, 1, 1, True),
    (128, 256, 3, (3, 2), 1, False), (256, 256, 3, 1, 1, True),
    (256, 512, 3, 1, 0, False), (512, 512, 1, 1, 0, False),
)


def _torch():
    try:
        import torch
    except ImportError:
        raise BackendError("the SadTalker face backend needs PyTorch: pip install torch") from None
    return torch


def build_network():
    """A SadTalker audio2exp network (``torch.nn.Module``) with fresh weights; its state_dict
    keys and shapes are those of the released checkpoint."""
    torch = _torch()
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, k, stride, pad, residual):
            super().__init__()
            self.conv_block = nn.Sequential(nn.Conv2d(cin, cout, k, stride, pad),
                                            nn.BatchNorm2d(cout))
            self.residual = residual

        def forward(self, x):
            y = self.conv_block(x)
            return torch.relu(y + x if self.residual else y)

    class AudioToBfm(nn.Module):
        def __init__(self):
            super().__init__()
            self.audio_encoder = nn.Sequential(*[Block(*b) for b in _BLOCKS])
            self.mapping1 = nn.Linear(512 + BFM_DIM + 1, BFM_DIM)

        def forward(self, mel, ref, ratio):
            """mel (N,1,80,16), ref (N,64), ratio (N,1) -> (N,64)."""
            feat = self.audio_encoder(mel).reshape(mel.shape[0], -1)
            return self.mapping1(torch.cat([feat, ref, ratio], dim=1))

    return AudioToBfm()


def load_network(path: str | Path):
    """The user's audio2exp checkpoint (``.pth``/``.tar`` via ``torch.load(weights_only=True)``,
    or SadTalker's ``.safetensors``) in :func:`build_network`, strictly matched, in eval mode."""
    p = Path(str(path)).expanduser()
    if not str(path) or not p.is_file():
        raise InputError(f"SadTalker checkpoint not found: {p}; download auido2exp_00300-model.pth"
                         " (SadTalker release) and pass --sadtalker-checkpoint")
    torch = _torch()
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(p))
        else:
            state = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same user error
        raise DataError(f"cannot read SadTalker checkpoint {p.name}: {err}") from err
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    net = build_network()
    want = set(net.state_dict())
    state = {k: v for k, v in state.items() if isinstance(k, str)}
    for prefix in ("audio2exp.", "netG.", "module."):
        if not want & set(state) and any(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise DataError(f"{p.name} is not a SadTalker audio2exp checkpoint: "
                        f"{str(err).splitlines()[0]}") from err
    return net.eval()


def melspectrogram(samples: np.ndarray) -> np.ndarray:
    """(N,) float audio at 16 kHz -> (M, 80) normalised log-mel frames, M = 1 + N // 200."""
    try:
        from librosa.filters import mel
    except ImportError:
        raise BackendError("the SadTalker backend needs librosa: pip install librosa") from None
    from scipy.signal import lfilter

    x = lfilter([1.0, -PREEMPHASIS], [1.0], np.asarray(samples, np.float64))
    x = np.pad(x, N_FFT // 2, mode="reflect")
    n = 1 + (len(x) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None] + HOP * np.arange(n)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN) / WIN)  # periodic Hann
    mag = np.abs(np.fft.rfft(x[idx] * window, axis=1))
    basis = mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN, fmax=FMAX)
    db = 20 * np.log10(np.maximum(10 ** (MIN_DB / 20), mag @ basis.T)) - REF_DB
    return np.clip(2 * MAX_ABS * (db - MIN_DB) / -MIN_DB - MAX_ABS, -MAX_ABS, MAX_ABS)


def mel_windows(mel: np.ndarray, frames: int) -> np.ndarray:
    """(frames, 80, 16) network inputs: for video frame i the 16 mel frames from
    ``int(80 * (i - 2) / 25)``, indices clamped to the spectrogram."""
    start = (80.0 * (np.arange(frames) - 2) / NET_FPS).astype(np.int64)
    idx = np.clip(start[:, None] + np.arange(WINDOW)[None], 0, len(mel) - 1)
    return mel[idx].transpose(0, 2, 1)


def blink_ratio(frames: int, seed: int, per_minute: float) -> np.ndarray:
    """(frames,) SadTalker-style eye-blink control in 0..1 at 25 fps, seeded."""
    r = np.zeros(frames)
    if per_minute <= 0:
        return r
    rng = np.random.default_rng(seed)
    shape = np.array([0.5, 0.9, 1.0, 0.9, 0.5])
    t = rng.uniform(0.5, 1.5) * 60 / per_minute * NET_FPS
    while t + len(shape) < frames:
        i = int(t)
        r[i: i + len(shape)] = shape
        t += rng.uniform(0.6, 1.4) * 60 / per_minute * NET_FPS
    return r


def run_bfm(net, samples: np.ndarray, sample_rate: int, ratio: np.ndarray | None = None,
            ref: np.ndarray | None = None, batch: int = 64) -> np.ndarray:
    """Audio -> (T,64) BFM expression coefficients at 25 fps, T = floor(seconds * 25).
    ``ref`` (64,) is the reference expression (neutral by default), ``ratio`` (T,) the blinks."""
    from ..audio import resample

    torch = _torch()
    x = resample(np.asarray(samples, np.float32), sample_rate, SAMPLE_RATE)
    frames = int(len(x) / (SAMPLE_RATE / NET_FPS))
    if frames < 1:
        raise InputError("audio is shorter than one 25 fps frame (40 ms)")
    x = np.pad(x, (0, max(0, int(frames * SAMPLE_RATE / NET_FPS) - len(x))))
    x = x[: int(frames * SAMPLE_RATE / NET_FPS)]
    win = mel_windows(melspectrogram(x), frames)
    given = np.zeros(0) if ratio is None else np.asarray(ratio, np.float64).ravel()[:frames]
    ratio = np.pad(given, (0, frames - len(given)))
    ref = np.zeros(BFM_DIM) if ref is None else np.asarray(ref, np.float64)
    out = []
    with torch.no_grad():
        for s in range(0, frames, batch):
            m = torch.tensor(win[s: s + batch, None], dtype=torch.float32)
            n = m.shape[0]
            r = torch.tensor(np.repeat(ref[None], n, 0), dtype=torch.float32)
            b = torch.tensor(ratio[s: s + n, None], dtype=torch.float32)
            out.append(net(m, r, b).numpy())
    return np.concatenate(out).astype(np.float64)


def resample_frames(x: np.ndarray, fps_from: float, fps_to: float, frames: int) -> np.ndarray:
    """(T, ...) per-frame values at ``fps_from`` -> (frames, ...) at ``fps_to`` (linear, held
    at the ends)."""
    x = np.asarray(x, np.float64)
    src = np.arange(len(x)) / fps_from
    dst = np.arange(frames) / fps_to
    flat = x.reshape(len(x), -1)
    out = np.stack([np.interp(dst, src, flat[:, k]) for k in range(flat.shape[1])], 1)
    return out.reshape((frames,) + x.shape[1:])


class SadTalkerFace:
    """Face backend ``"sadtalker"``: needs ``FaceSettings.sadtalker_checkpoint``, ``bfm_model``
    and ``flame_model``. The track's ``expressions`` are FLAME (converted), ``jaw`` comes from
    the same fit, ARKit carries only jawOpen and the blinks SadTalker was given."""

    def animate(self, script: Script, speech: Speech, fps: float,
                settings: FaceSettings) -> FaceTrack:
        from .flame_stage import bfm_to_flame_for

        if not settings.bfm_model or not settings.flame_model:
            raise InputError("the sadtalker face backend converts BFM to FLAME: pass --bfm-model "
                             "(BFM_model_front.mat) and --flame-model (SMPL-X/FLAME .npz)")
        conv = bfm_to_flame_for(settings.bfm_model, settings.flame_model)
        net = load_network(settings.sadtalker_checkpoint)
        n25 = int(len(speech.samples) / speech.sample_rate * NET_FPS)
        ratio = blink_ratio(max(n25, 1), settings.seed, settings.blink_rate)
        bfm = run_bfm(net, speech.samples, speech.sample_rate, ratio)
        frames = frame_count(speech.duration, fps)
        bfm_v = resample_frames(bfm, NET_FPS, fps, frames)
        blink_v = resample_frames(ratio[: len(bfm)], NET_FPS, fps, frames)
        expr, jaw = conv.convert(bfm_v)
        arkit = np.zeros((frames, len(ARKIT_52)))
        from .procedural import JAW_RADIANS

        arkit[:, ARKIT_INDEX["jawOpen"]] = np.clip(jaw[:, 0] / JAW_RADIANS, 0, 1)
        for side in ("Left", "Right"):
            arkit[:, ARKIT_INDEX["eyeBlink" + side]] = np.clip(blink_v, 0, 1)
        zeros3 = np.zeros((frames, 3))
        return FaceTrack(fps=fps, arkit=arkit, visemes=np.zeros((frames, len(VISEMES))),
                         jaw=jaw, eyes=np.zeros((frames, 2, 3)), head=zeros3, expressions=expr)
