# SPDX-License-Identifier: GPL-3.0-or-later
"""FLAME fitting and SadTalker speed, on synthetic models (no user model files needed).

    .venv/bin/python bench/flame_bench.py

Prints, side by side: the one-off precompute of the ARKit -> FLAME map, the per-frame cost of the
fit (a matrix product plus the jaw skinning of the landmark vertices), the numpy SMPL-X forward
per frame, and SadTalker's audio2exp network (random weights, same architecture) in frames per
second of 25 fps output. Also prints how well the fit reaches the landmark targets (the share of
each ARKit shape's target the model's expression basis reproduces) and the inner-lip gap on a
p/b/m frame, in millimetres.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from synthetic_models import write_synthetic_flame, write_synthetic_smplx  # noqa: E402

from paksatalker.core.face.flame import ArkitToFlame  # noqa: E402
from paksatalker.core.names import ARKIT_INDEX  # noqa: E402
from paksatalker.core.smplx_model import load_model  # noqa: E402


def _timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="flame-bench-"))
    rng = np.random.default_rng(0)
    for kind, path in (("FLAME", write_synthetic_flame(tmp / "FLAME_NEUTRAL.npz")),
                       ("SMPL-X", write_synthetic_smplx(tmp / "SMPLX_NEUTRAL.npz"))):
        model = load_model(path)
        pre = _timed(lambda m=model: ArkitToFlame(m))
        fit = ArkitToFlame(model)
        arkit = rng.uniform(0, 0.5, (3000, 52))
        per = _timed(lambda f=fit, a=arkit: f.fit(a)) / len(arkit)
        fwd = _timed(lambda m=model: m.forward(None, rng.normal(size=100)), 2)
        reach = 1 - np.linalg.norm(fit.A @ fit.PD - fit.D, axis=0) / np.maximum(
            np.linalg.norm(fit.D, axis=0), 1e-12)
        moving = np.linalg.norm(fit.D, axis=0) > 0
        closed = np.zeros((1, 52))
        closed[0, ARKIT_INDEX["mouthClose"]] = 0.7
        res = fit.fit(closed)
        pose = np.zeros((model.num_joints, 3))
        pose[model.jaw_index] = res.jaw[0]
        lm = model.landmarks(model.forward(None, res.expressions[0, :model.num_expressions],
                                           pose).vertices, 68)
        gap0 = np.linalg.norm(fit.rest_lmk[62] - fit.rest_lmk[66]) * 1000
        print(f"{kind:6s} V={len(model.v_template):5d}  precompute {pre * 1000:7.1f} ms  "
              f"fit {per * 1e6:6.1f} us/frame  numpy forward {fwd * 1000:6.1f} ms/frame  "
              f"target reached (median) {np.median(reach[moving]):.2f}  lip gap rest "
              f"{gap0:.2f} mm -> p/b/m {np.linalg.norm(lm[62] - lm[66]) * 1000:.2f} mm")
    try:
        import torch

        from paksatalker.core.face import sadtalker as sad
    except ImportError:
        print("SadTalker: torch missing, skipped")
        return
    net = sad.build_network().eval()
    seconds = 10.0
    audio = rng.normal(0, 0.1, int(16000 * seconds)).astype(np.float32)
    mel = _timed(lambda: sad.melspectrogram(audio), 2)
    torch.set_num_threads(2)
    run = _timed(lambda: sad.run_bfm(net, audio, 16000), 2)
    frames = int(seconds * 25)
    print(f"SadTalker audio2exp: {seconds:.0f} s audio -> {frames} frames: mel {mel * 1000:.0f} ms,"
          f" whole run {run:.2f} s = {frames / run:.0f} frames/s ({seconds / run:.1f}x real time)")


if __name__ == "__main__":
    main()
