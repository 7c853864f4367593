# SPDX-License-Identifier: GPL-3.0-or-later
"""Lip-sync accuracy on the real speech clips against their reference phone alignments.

    .venv/bin/python bench/lipsync_bench.py [--fps 30]

Every path ends in the product's face stage (``core.face.animate``, default backend) at ``--fps``;
what differs is where the phonemes come from:

- ``reference``: the reference alignment itself (a control: what the face makes of perfect
  timings; its offset is the face model's own lead or lag);
- ``audio``: lip-sync from audio with the transcript (``speech_from_audio``: forced alignment);
- ``audio-rec``: lip-sync from audio without transcript (PocketSphinx phone recognition);
- ``energy``: the no-phoneme fallback for other languages (``energy_mouth``);
- ``text``: the text path, eSpeak NG speaking the transcript with its own phoneme timings. To
  compare it with the clip, the eSpeak audio is placed on the clip's timeline by DTW of its MFCCs
  onto the clip's (``align_dtw``; the eSpeak rate is matched to the clip first) and every eSpeak
  phoneme time is carried through that warp;
- ``text-own``: the same eSpeak phonemes on eSpeak's own audio, scored against eSpeak's own
  timings: this is what a viewer of a text-path video sees (audio and mouth from one source).

Columns (pooled over all clips in the summary):

- ``closures``: % of reference bilabials (p, b, m) with a lip closure in the face within +-1 frame
  of the phone (closed = lip gap ``max(0, jawOpen - mouthClose) + mean(mouthLowerDown,
  mouthUpperUp) / 2 + mouthFunnel / 3`` below 0.05);
- ``phone med``: median phone-boundary error (ms) of the path's phonemes against the reference
  (phones paired by matching the label sequences on viseme classes);
- ``viseme acc``: % of frames whose dominant face viseme (argmax of FaceTrack.visemes; none ->
  ``sil``) equals the viseme of the reference phone at that frame's time;
- ``offset``: audio-visual offset (ms), the lag of the cross-correlation peak between jawOpen and
  the audio's RMS envelope (40 ms windows at the frame times), searched within +-5 frames
  (parabolic sub-frame peak; positive: the jaw follows the sound). One clip of a few seconds
  gives a noisy peak (the reference path spans -23..+46 ms over the clips), so the summary
  also prints the peak of the clips' mean (z-scored) cross-correlation.
"""

from __future__ import annotations

import argparse

import numpy as np
from speech_refs import Clip, clips, phone_boundary_errors

from paksatalker.core import face as face_stage
from paksatalker.core.audio import read_wav
from paksatalker.core.face.visemes import viseme
from paksatalker.core.names import ARKIT_INDEX, VISEMES
from paksatalker.core.settings import FaceSettings
from paksatalker.core.speech.align import make_words, tile
from paksatalker.core.speech.align_dtw import align_dtw, resynthesize
from paksatalker.core.speech.from_audio import speech_from_audio
from paksatalker.core.types import FaceTrack, Phoneme, Script, Segment, Speech

BILABIAL = ("p", "b", "m")
PATHS = ("reference", "audio", "audio-rec", "energy", "text", "text-own")


def lip_closed(face: FaceTrack) -> np.ndarray:
    """(T,) bool: the lips are shut in the ARKit curves."""
    a = face.arkit
    idx = ARKIT_INDEX

    def mean(*names: str) -> np.ndarray:
        return np.mean([a[:, idx[n]] for n in names], axis=0)

    gap = (np.maximum(0.0, a[:, idx["jawOpen"]] - a[:, idx["mouthClose"]])
           + 0.5 * mean("mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
                        "mouthUpperUpRight") + a[:, idx["mouthFunnel"]] / 3.0)
    return gap < 0.05


def closures(phones: list[tuple[str, float, float]], closed: np.ndarray, fps: float):
    """(matched, total) reference bilabials with a closed frame within +-1 frame."""
    hits = total = 0
    for sym, a, b in phones:
        if sym not in BILABIAL:
            continue
        total += 1
        first, last = int(np.ceil(a * fps - 1e-9)), int(np.floor(b * fps + 1e-9))
        if last < first:
            first = last = int(round((a + b) / 2 * fps))
        lo, hi = max(0, first - 1), min(closed.size, last + 2)
        hits += bool(closed[lo:hi].any())
    return hits, total


def viseme_frames(phones: list[tuple[str, float, float]], frames: int, fps: float) -> list[str]:
    """Viseme of the phone covering each frame's time ("sil" outside every phone)."""
    out = ["sil"] * frames
    for sym, a, b in phones:
        for k in range(max(0, int(np.ceil(a * fps))), min(frames, int(np.ceil(b * fps)))):
            out[k] = viseme(sym)
    return out


def av_correlation(face: FaceTrack, samples: np.ndarray, rate: int,
                   max_lag: int = 5) -> np.ndarray:
    """(2 * max_lag + 1,) cross-correlation of jawOpen with the audio's RMS envelope (40 ms
    windows at the frame times), both z-scored, at lags -max_lag..max_lag frames, divided by
    the frame count (a correlation coefficient per lag; lag > 0: jaw after sound)."""
    fps, frames = face.fps, face.frames
    half = int(0.02 * rate)
    centres = (np.arange(frames) / fps * rate).astype(int)
    env = np.array([np.sqrt(np.mean(samples[max(0, c - half):c + half] ** 2) + 1e-12)
                    for c in centres])
    jaw = face.arkit[:, ARKIT_INDEX["jawOpen"]].astype(np.float64)
    env = (env - env.mean()) / (env.std() + 1e-12)
    jaw = (jaw - jaw.mean()) / (jaw.std() + 1e-12)
    lags = np.arange(-max_lag, max_lag + 1)
    return np.array([np.dot(jaw[max(0, lag):frames + min(0, lag)],
                            env[max(0, -lag):frames - max(0, lag)]) for lag in lags]) / frames


def peak_ms(corr: np.ndarray, fps: float) -> float:
    """Lag (ms) of the peak of ``corr`` (lags -L..L frames), parabolic sub-frame refinement.

    Lags up to L = 5 frames (167 ms at 30 fps) are searched: syllables repeat every ~200 ms,
    so wider searches find the neighbouring syllable's peak. A result at the edge of the range
    means no peak was found inside it."""
    max_lag = len(corr) // 2
    k = int(np.argmax(corr))
    shift = 0.0
    if 0 < k < len(corr) - 1:
        y0, y1, y2 = corr[k - 1:k + 2]
        denom = y0 - 2 * y1 + y2
        shift = 0.5 * (y0 - y2) / denom if denom else 0.0
    return 1000.0 * (k - max_lag + shift) / fps


def av_offset_ms(face: FaceTrack, samples: np.ndarray, rate: int, max_lag: int = 5) -> float:
    """Lag (ms) of the jawOpen / RMS-envelope cross-correlation peak; > 0: jaw after sound."""
    return peak_ms(av_correlation(face, samples, rate, max_lag), face.fps)


def _reference_speech(clip: Clip, x: np.ndarray, rate: int) -> Speech:
    duration = x.size / rate
    phonemes = tile([(s, a, b, 0) for s, a, b in clip.phones], duration)
    words = make_words([(w, 0, 0, a, b) for w, a, b in clip.words], duration)
    return Speech(x, rate, words, phonemes)


def _path_speech(path: str, clip: Clip, x: np.ndarray, rate: int, script: Script) -> Speech:
    duration = x.size / rate
    if path == "reference":
        return _reference_speech(clip, x, rate)
    if path == "audio":
        return speech_from_audio(clip.wav, script)
    if path == "audio-rec":
        return speech_from_audio(clip.wav, None, "en")
    if path == "energy":
        return Speech(x, rate, (), (Phoneme("_", 0.0, duration),))
    if path == "text":
        words, phonemes = align_dtw(x, rate, script)
        return Speech(x, rate, make_words(words, duration), tile(phonemes, duration))
    return resynthesize(script)  # text-own


def score(path: str, clip: Clip, fps: float) -> dict:
    x, rate = read_wav(clip.wav)
    script = Script((Segment(clip.transcript),))
    speech = _path_speech(path, clip, x, rate, script)
    face = face_stage.animate(script, speech, fps, FaceSettings())
    own = [(p.symbol, p.start, p.end) for p in speech.phonemes if p.symbol != "_"]
    ref = own if path == "text-own" else clip.phones
    hits, total = closures(ref, lip_closed(face), fps)
    truth = viseme_frames(ref, face.frames, fps)
    dominant = [VISEMES[int(np.argmax(v))] if v.max() > 0 else "sil" for v in face.visemes]
    if path in ("energy", "text-own", "reference"):
        perr: list[float] = []
    else:
        perr, _ = phone_boundary_errors(own, clip.phones)
    corr = av_correlation(face, speech.samples, speech.sample_rate)
    return {"hits": hits, "total": total, "perr": perr,
            "acc": [t == d for t, d in zip(truth, dominant)],
            "corr": corr, "offset": peak_ms(corr, fps)}


def _row(name: str, path: str, hits: int, total: int, perr, acc, offset: float) -> str:
    pm = f"{1000 * np.median(perr):9.1f}" if len(perr) else "        -"
    return (f"{name:<6} {path:<9} {100 * hits / max(1, total):6.1f}% ({hits:>3}/{total:<3}) "
            f"{pm} {100 * np.mean(acc):9.1f}% {offset:8.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fps", type=float, default=30.0)
    fps = ap.parse_args().fps
    header = (f"{'clip':<6} {'path':<9} {'closures':>17} {'phone med':>9} {'viseme acc':>10} "
              f"{'offset ms':>9}")
    print(header)
    pooled = {p: {"hits": 0, "total": 0, "perr": [], "acc": [], "offset": [], "corr": []}
              for p in PATHS}
    for clip in clips():
        for path in PATHS:
            r = score(path, clip, fps)
            print(_row(clip.name, path, r["hits"], r["total"], r["perr"], r["acc"], r["offset"]))
            pool = pooled[path]
            pool["hits"] += r["hits"]
            pool["total"] += r["total"]
            pool["perr"] += r["perr"]
            pool["acc"] += r["acc"]
            pool["offset"].append(r["offset"])
            pool["corr"].append(r["corr"])
    print(f"summary at {fps:g} fps (offset: median over clips)")
    print(header)
    for path, pool in pooled.items():
        print(_row("ALL", path, pool["hits"], pool["total"], pool["perr"], pool["acc"],
                   float(np.median(pool["offset"]))))
    print("offset ms from the clips' mean cross-correlation (steadier than the per-clip median):")
    print("  " + "  ".join(f"{path} {peak_ms(np.mean(pool['corr'], axis=0), fps):.1f}"
                           for path, pool in pooled.items()))


if __name__ == "__main__":
    main()
