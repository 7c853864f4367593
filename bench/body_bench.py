# SPDX-License-Identifier: GPL-3.0-or-later
"""Body benchmark on ~60 s of speech: our procedural motion, and EMAGE-format motion, side by side.

    .venv/bin/python bench/body_bench.py [--emage FILE.npz --emage-audio FILE.wav] [--seeds 3]
                                         [--mean-vel mean_vel_smplxflame_30.npy]
                                         [--speech espeak|kokoro|auto]

Speech is eSpeak NG (offline; ``--speech kokoro`` for the Kokoro voice) reading a ~60 s script
with a few cues. Prints, per motion: beat consistency (BC, EMAGE's definition, see
core/body/metrics.py) and ``bc_chance``, BC of the same motion against as many random onsets
(what BC gives with no relation to the speech; see docs/body.md); L1 diversity, gesture rate,
foot skating while planted, joint-limit violations, jerk, arm-body collision frames and the
generation time; for our motion also the arm gestures it planned per minute (the gesture rate
counts wrist speed peaks, and a gesture has two or three: preparation, stroke, retraction).
BC's "nearly still" mask is 0.3 x each joint's mean speed in the clip unless ``--mean-vel``
gives BEAT2's mean speed per joint, as EMAGE uses. Columns:

- ``procedural/<style>``: our motion at 30 fps (seed 0; BC also as the mean over ``--seeds``);
- ``emage-format(ours)``: our motion written as an EMAGE/BEAT2 npz at 30 fps and imported back
  through the EMAGE path (resample, root fix, blend, foot locking): it exercises that path, it
  is NOT EMAGE's output;
- ``emage(FILE)``: the given EMAGE/BEAT2 npz through the same import (BC needs its audio,
  ``--emage-audio``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

SCRIPT = (
    "*wave* Hello everyone, and welcome. [happy 0.6] I am really glad you are here today. "
    "Let me show you how our new avatar works. *nod* First, you write a short script. Second, "
    "the system turns it into speech. *count 3* Third, the body and the face move with the "
    "words. [neutral] This is not a small step. It is a big change for the whole team, and it "
    "opens many new doors. Maybe you wonder how it knows where to move. *shrug* Honestly, it "
    "listens to the stress in every sentence, and it lifts the hands on the important words. "
    "Look over there, *point left* on the left side of the screen, you can see the settings. "
    "You can make it calm, or you can make it excited. We built this together, and we never "
    "stopped improving it. [sad 0.5] Some days were hard, and progress was slow. [happy 0.7] But "
    "the result is here now, and it keeps getting better. Thank you for listening, and please "
    "share your ideas with us. Goodbye, and see you soon."
)
METRICS = ("bc", "bc_chance", "l1_diversity", "gesture_rate_per_min",
           "foot_skating_mm_per_frame", "foot_skating_max_mm", "limit_violations",
           "jerk_m_per_s3", "collision_frames")


def _emage_format(body, path: Path) -> Path:
    """Write ``body`` as an EMAGE/BEAT2-format npz (the keys EMAGE writes)."""
    t = body.frames
    np.savez(path, poses=body.poses.reshape(t, 165), trans=body.trans,
             betas=np.zeros(300, np.float32), expressions=np.zeros((t, 100), np.float32),
             mocap_frame_rate=np.array(30))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--emage", type=Path, help="an EMAGE/BEAT2 SMPL-X npz to compare")
    ap.add_argument("--emage-audio", type=Path, help="its speech WAV (for BC)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--mean-vel", type=Path,
                    help="BEAT2's mean joint speeds (.npy, m/s per SMPL-X joint) for BC's mask")
    ap.add_argument("--styles", default="casual,professional,lecturer,excited")
    ap.add_argument("--speech", default="espeak", choices=("espeak", "kokoro", "auto"),
                    help="speech backend (default: espeak)")
    args = ap.parse_args()

    from paksatalker.core import audio, script, speech
    from paksatalker.core.body import emage, metrics, procedural
    from paksatalker.core.performance import resample_rotations
    from paksatalker.core.settings import BodySettings, SpeechSettings
    from paksatalker.core.types import BodyTrack

    ref = None
    if args.mean_vel:
        ref = np.load(args.mean_vel, allow_pickle=False).astype(np.float64).ravel()
    sc = script.write(SCRIPT)
    sp = speech.synthesize(sc, SpeechSettings(backend=args.speech))
    print(f"speech: {sp.duration:.1f} s, {len(sp.words)} words ({args.speech})")
    columns: dict[str, dict[str, float]] = {}
    main_body = None
    for style in args.styles.split(","):
        settings = BodySettings(style=style, seed=0)
        t0 = time.perf_counter()
        body = procedural.animate(sc, sp, 30.0, settings)
        dt = time.perf_counter() - t0
        m = metrics.evaluate(body, sp.samples, sp.sample_rate, ref)
        bcs = [m["bc"]] + [metrics.evaluate(procedural.animate(
            sc, sp, 30.0, BodySettings(style=style, seed=s)), sp.samples, sp.sample_rate,
            ref)["bc"] for s in range(1, args.seeds)]
        m["bc_mean_seeds"] = float(np.mean(bcs))
        plan = procedural.plan_gestures(sc, sp, settings)
        m["planned_arm_gestures_per_min"] = sum(1 for g in plan if g.arms) / (sp.duration / 60)
        m["gen_s_per_min_speech"] = dt / (sp.duration / 60.0)
        columns[f"procedural/{style}"] = m
        main_body = main_body or body
    # the EMAGE import path on our own motion, resampled to 30 fps
    with tempfile.TemporaryDirectory() as tmp:
        src = BodyTrack(30.0, resample_rotations(main_body.poses, 30.0, 30.0, main_body.frames),
                        main_body.trans)
        npz = _emage_format(src, Path(tmp) / "ours_emage_format.npz")
        t0 = time.perf_counter()
        imported = emage.import_emage(npz, 30.0, duration=sp.duration)
        m = metrics.evaluate(imported, sp.samples, sp.sample_rate, ref)
        m["gen_s_per_min_speech"] = (time.perf_counter() - t0) / (sp.duration / 60.0)
        columns["emage-format(ours)"] = m
    if args.emage:
        t0 = time.perf_counter()
        raw = emage.read_smplx_npz(args.emage)
        imported = emage.import_emage(args.emage, 30.0)
        samples, sr = audio.read_wav(args.emage_audio) if args.emage_audio else (None, 16000)
        m = metrics.evaluate(imported, samples, sr, ref)
        m["gen_s_per_min_speech"] = (time.perf_counter() - t0) / (imported.frames / 30.0 / 60)
        columns[f"emage({args.emage.name})"] = m
        raw_m = metrics.evaluate(raw, samples, sr, ref)
        columns[f"emage raw({args.emage.name})"] = raw_m
    names = list(columns)
    rows = [*METRICS, "bc_mean_seeds", "planned_arm_gestures_per_min", "gen_s_per_min_speech"]
    print(f"{'metric':<28}" + "".join(f"{n:>24}" for n in names))
    for r in rows:
        cells = [columns[n].get(r, float("nan")) for n in names]
        print(f"{r:<28}" + "".join(f"{c:>24.4f}" for c in cells))
    print("targets: BC >= 0.78 (EMAGE reports 0.7724 on BEAT2), foot skating 0, "
          "no limit violations; bc_chance: BC against random onsets at the same rate")


if __name__ == "__main__":
    main()
