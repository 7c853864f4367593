# SPDX-License-Identifier: GPL-3.0-or-later
"""Render-speed benchmark: the same shot naively and with the optimisations, in one run.

    .venv/bin/python bench/render_bench.py [--frames 3] [--resolution 1920x1080] [--samples 16]
                                           [--camera medium] [--background studio_room]
                                           [--no-eevee]

One talking avatar shot (the bundled human, a studio room, three-point light) is rendered:

1. Cycles, naive: every frame whole, no adaptive sampling, no persistent data, OpenImageDenoise.
2. Cycles, optimised (the default path): background rendered once to EXR, then only the
   character's screen box per frame with the floor as a shadow catcher, composited in linear
   light; adaptive sampling (same maximum samples), persistent data, OpenImageDenoise.
3. EEVEE at the same samples (first frame, with shader compilation, reported apart).

Prints seconds per frame for each, the ratios, the one-off background cost and the ratio once it
is spread over the run and over a 10 s clip, and how far the optimised frames are from the naive
ones (mean absolute difference of 8-bit values, a noise-level number when they match).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

TEXT = "Hello! Today I want to show you how our new avatar speaks, moves and smiles."


def _timed_frames(scene, settings, folder: Path, hook=None) -> list[float]:
    """Render settings.frames into ``folder``; return the seconds each frame took."""
    from paksatalker.scenes.render import render_frames

    stamps = [time.perf_counter()]
    render_frames(scene, settings, folder, hook=hook,
                  progress=lambda done, total: stamps.append(time.perf_counter()))
    return [b - a for a, b in zip(stamps, stamps[1:], strict=False)]


def _pixels(path: Path):
    import bpy
    import numpy as np

    image = bpy.data.images.load(str(path))
    w, h = image.size
    rgb = np.array(image.pixels[:], dtype=np.float32).reshape(h, w, 4)[..., :3]
    bpy.data.images.remove(image)
    return rgb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=3, help="frames per variant (default 3)")
    ap.add_argument("--resolution", default="1920x1080")
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--camera", default="medium")
    ap.add_argument("--background", default="studio_room")
    ap.add_argument("--no-eevee", action="store_true")
    args = ap.parse_args()
    w, h = (int(v) for v in args.resolution.lower().split("x"))
    os.environ.setdefault("MESA_SHADER_CACHE_DIR",
                          str(Path.home() / ".cache" / "paksatalker" / "mesa"))

    import numpy as np

    from paksatalker.addon.pipeline import RenderJob, make_performance, setup_scene
    from paksatalker.core.settings import GenerateSettings
    from paksatalker.scenes import fast
    from paksatalker.scenes.render import RenderSettings, configure
    from paksatalker.scenes.studio import SceneSettings

    frames = (1, args.frames)
    studio = SceneSettings(camera=args.camera, background=args.background)
    base = dict(resolution=(w, h), samples=args.samples, frames=frames, fps=30)
    naive = RenderSettings(engine="cycles", fast=False, adaptive=False, persistent=False,
                           output=Path("naive"), **base)
    optimised = RenderSettings(engine="cycles", output=Path("optimised"), **base)
    eevee = RenderSettings(engine="eevee", output=Path("eevee"), **base)
    job = RenderJob(render=naive, text=TEXT, generate=GenerateSettings(fps=30), scene=studio)
    t0 = time.perf_counter()
    perf = make_performance(job)
    scene = setup_scene(perf, job)
    print(f"shot: {w}x{h}, {args.samples} samples, camera {args.camera}, background "
          f"{args.background}, frames {frames[0]}..{frames[1]} of {perf.frames}; "
          f"set-up {time.perf_counter() - t0:.1f} s; cpus {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="render-bench-") as tmp:
        tmp = Path(tmp)
        configure(scene, naive, perf.frames)
        results["naive"] = _timed_frames(scene, naive, tmp / "naive")
        print(f"cycles naive      {np.mean(results['naive']):8.1f} s/frame  "
              f"({', '.join(f'{s:.1f}' for s in results['naive'])}; load {os.getloadavg()[0]:.1f})",
              flush=True)
        if not args.no_eevee:
            configure(scene, eevee, perf.frames)
            results["eevee"] = _timed_frames(scene, eevee, tmp / "eevee")
            print(f"eevee             {np.mean(results['eevee'][1:] or results['eevee']):8.1f}"
                  f" s/frame  (first frame with shader compile {results['eevee'][0]:.1f}; "
                  f"load {os.getloadavg()[0]:.1f})",
                  flush=True)
        configure(scene, optimised, perf.frames)
        t = time.perf_counter()
        hook = fast.prepare(scene, tmp / "optimised")
        background = time.perf_counter() - t
        results["optimised"] = _timed_frames(scene, optimised, tmp / "optimised", hook)
        fast.restore(scene)
        opt = float(np.mean(results["optimised"]))
        nai = float(np.mean(results["naive"]))
        print(f"cycles optimised  {opt:8.1f} s/frame  "
              f"({', '.join(f'{s:.1f}' for s in results['optimised'])}) "
              f"+ background once {background:.1f} s (load {os.getloadavg()[0]:.1f})")
        diffs = [np.abs(_pixels(a) - _pixels(b)).mean() * 255 for a, b in zip(
            sorted((tmp / "naive").glob("frame_*.png")),
            sorted((tmp / "optimised").glob("frame_*.png")), strict=True)]
    n = args.frames
    print(f"ratio naive / optimised per frame:            {nai / opt:5.2f}x")
    print(f"ratio with the background spread over {n} frames: "
          f"{nai / (opt + background / n):5.2f}x")
    print(f"ratio with the background spread over 300 frames (10 s): "
          f"{nai / (opt + background / 300):5.2f}x")
    print(f"optimised vs naive frames: mean |difference| {np.mean(diffs):.2f} of 255")
    if "eevee" in results:
        ee = float(np.mean(results["eevee"][1:] or results["eevee"]))
        print(f"ratio cycles naive / eevee: {nai / ee:5.2f}x;  "
              f"cycles optimised / eevee: {opt / ee:5.2f}x")


if __name__ == "__main__":
    main()
