# SPDX-License-Identifier: GPL-3.0-or-later
"""Face realism: our text path next to real iPhone ARKit captures, with the same measures.

    .venv/bin/python bench/face_realism_bench.py [--seeds 3] [--fps 30]

Ours: a ~60 s script spoken by eSpeak NG and animated by the embedded face ("visemes") at 30 fps
(the captures' rate), one row per seed. Captures: every Live Link Face CSV in
../shared/assets/face_anim/livelinkface_mit (MIT; no audio).

Columns, computed identically for every row:

- blinks/min: onsets where the mean of eyeBlinkLeft/Right rises through 0.5;
- blink ms: mean time the lids stay above 0.5 (crossings interpolated between frames);
- jaw 5-95 %: 5th-95th percentile range of jawOpen while talking. "Talking" is found from the
  curves alone for every row (a 0.5 s window whose jawOpen std exceeds 0.03), since the captures
  carry no audio; talk % is the share of frames counted;
- >8 Hz: share of the (mean-removed) spectral power of 16 mouth curves above 8 Hz (Welch);
  higher means jerkier mouths;
- face x: (ours only) seconds of speech animated per second of compute.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.signal import welch

from paksatalker.core.face import animate
from paksatalker.core.face.io import read_livelink_csv
from paksatalker.core.names import ARKIT_INDEX
from paksatalker.core.script.markup import parse
from paksatalker.core.settings import FaceSettings, SpeechSettings
from paksatalker.core.speech import synthesize
from paksatalker.core.types import FaceTrack

CAPTURES = Path(__file__).resolve().parents[2] / "shared/assets/face_anim/livelinkface_mit"
SCRIPT = (
    "Hello, and thank you for joining me today. I want to tell you a short story about a small "
    "bakery at the end of my street. Every morning, long before the sun comes up, the baker "
    "opens the door and switches on the big oven. [happy 0.6] The smell of fresh bread fills "
    "the whole block. People walk past, stop, and come back with a warm loaf under their arm. "
    "[neutral] Last winter the oven broke. For three weeks there was no bread, and the street "
    "felt empty. Nobody knew how much they would miss it. [sad 0.5] Some neighbours even "
    "wrote letters. [neutral] Then, one Monday, the light was on again. [surprised 0.6] The "
    "baker had fixed the oven himself, with a few parts from a friend. [happy 0.7] That "
    "morning, half the street stood in line, and nobody complained about the wait. So here is "
    "my point. Small things matter. The people who make them matter even more. Thank you for "
    "listening, and have a wonderful day."
)
MOUTH = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthSmileLeft",
         "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight", "mouthLowerDownLeft",
         "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight", "mouthPressLeft",
         "mouthPressRight", "mouthRollLower", "mouthRollUpper")


def _crossings(x: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Sub-frame times (in frames) where ``x`` rises through / falls through ``level``."""
    above = x > level
    up = np.flatnonzero(~above[:-1] & above[1:])
    down = np.flatnonzero(above[:-1] & ~above[1:])
    frac = lambda i: i + (level - x[i]) / (x[i + 1] - x[i])
    return frac(up), frac(down)


def blink_stats(face: FaceTrack) -> tuple[float, float]:
    """(blinks per minute, mean blink duration in ms) from eyeBlinkLeft/Right."""
    lids = 0.5 * (face.arkit[:, ARKIT_INDEX["eyeBlinkLeft"]]
                  + face.arkit[:, ARKIT_INDEX["eyeBlinkRight"]])
    up, down = _crossings(lids, 0.5)
    durations = [down[down > u][0] - u for u in up if np.any(down > u)]
    minutes = face.frames / face.fps / 60.0
    return len(up) / minutes, 1000.0 * float(np.mean(durations)) / face.fps if durations else 0.0


def talking(face: FaceTrack) -> np.ndarray:
    """(T,) bool: frames in a 0.5 s window where jawOpen moves (std > 0.03)."""
    jaw = face.arkit[:, ARKIT_INDEX["jawOpen"]].astype(float)
    size = max(3, round(0.5 * face.fps))
    mean = uniform_filter1d(jaw, size)
    var = uniform_filter1d(jaw * jaw, size) - mean * mean
    return np.sqrt(np.clip(var, 0, None)) > 0.03


def high_band_share(face: FaceTrack, cutoff: float = 8.0) -> float:
    """Share of the mouth curves' spectral power above ``cutoff`` Hz."""
    curves = face.arkit[:, [ARKIT_INDEX[n] for n in MOUTH]].astype(float)
    curves = curves - curves.mean(axis=0)
    f, p = welch(curves, fs=face.fps, nperseg=min(256, face.frames), axis=0)
    total = p[f > 0].sum()
    return float(p[f > cutoff].sum() / total) if total > 0 else 0.0


def row(name: str, face: FaceTrack, speed: str = "") -> str:
    rate, dur = blink_stats(face)
    talk = talking(face)
    jaw = face.arkit[talk, ARKIT_INDEX["jawOpen"]] if talk.any() else np.zeros(1)
    lo, hi = np.percentile(jaw, [5, 95])
    return (f"{name:<26} {face.frames / face.fps:6.1f} {rate:8.1f} {dur:8.0f} "
            f"{lo:5.2f}-{hi:4.2f} {100 * talk.mean():6.0f} {high_band_share(face):7.3f} {speed:>8}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="rows of ours, one per seed")
    ap.add_argument("--fps", type=float, default=30.0)
    args = ap.parse_args()

    script = parse(SCRIPT)
    speech = synthesize(script, SpeechSettings())
    print(f"ours: eSpeak NG en-us, {len(SCRIPT.split())} words, {speech.duration:.1f} s; "
          f"captures: {CAPTURES}")
    print(f"{'source':<26} {'sec':>6} {'blink/min':>8} {'blink ms':>8} {'jaw 5-95%':>9} "
          f"{'talk %':>6} {'>8 Hz':>7} {'face x':>8}")
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        face = animate(script, speech, args.fps, FaceSettings(seed=seed))
        speed = f"{speech.duration / (time.perf_counter() - t0):.0f}x"
        print(row(f"ours seed {seed}", face, speed))
    for path in sorted(CAPTURES.glob("*.csv")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            face = read_livelink_csv(path)
        note = f" ({len(caught)} bad rows)" if caught else ""
        print(row(path.stem + note, face))
    print("human reference: 10-25 blinks/min in conversation, blinks ~100-400 ms "
          "(anim_alex_rom_3 is a range-of-motion take, not speech)")


if __name__ == "__main__":
    main()
