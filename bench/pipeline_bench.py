# SPDX-License-Identifier: GPL-3.0-or-later
"""Pipeline benchmark on a ~60-second script, all numbers from one run.

    .venv/bin/python bench/pipeline_bench.py [--frames 2] [--engines workbench,eevee,cycles]

Prints: generation speed per stage as a multiple of real time (speech seconds per wall second);
avatar build and animation bake time; seconds per 1080p frame per engine (first frame, which
includes shader compilation, reported apart) and each engine's ratio to the fastest.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

SCRIPT = (
    "Good morning, and welcome to the team. [happy 0.6] I am glad you are here. Today I will walk "
    "you through how our company works, who to ask when you are stuck, and what your first week "
    "will look like. *nod* First, the basics. Every morning at nine we meet for fifteen minutes. "
    "Each person says what they did yesterday, what they plan today, and what is blocking them. "
    "Keep it short. [neutral] Second, our tools. We keep every document in one shared drive, and "
    "every task in one tracker. If it is not in the tracker, it does not exist. Third, people. "
    "Your mentor is Maria. She has been here for six years and knows every system we run. Ask "
    "her anything, at any time. [happy 0.5] Finally, your first week. On Monday you set up your "
    "laptop. On Tuesday you shadow a senior engineer. By Friday, you will ship a small change to "
    "production. That is a big moment, and we will celebrate it together. Welcome aboard!"
)


def _stage_timer():
    marks: dict[str, float] = {}
    state = {"stage": None, "t": time.perf_counter()}

    def on_step(step):
        now = time.perf_counter()
        if state["stage"] is not None:
            marks[state["stage"]] = marks.get(state["stage"], 0.0) + now - state["t"]
        state["stage"], state["t"] = step.stage, now

    return marks, on_step


def bench_generate(speech_backend: str):
    from paksatalker.core import pipeline
    from paksatalker.core.settings import GenerateSettings, SpeechSettings

    marks, on_step = _stage_timer()
    t0 = time.perf_counter()
    settings = GenerateSettings(fps=30, speech=SpeechSettings(backend=speech_backend, cache=False))
    perf = pipeline.generate(SCRIPT, settings, on_step)
    total = time.perf_counter() - t0
    dur = perf.speech.duration
    print(f"speech backend {speech_backend}: {len(SCRIPT.split())} words -> {dur:.1f} s of "
          f"speech, {perf.frames} frames at 30 fps")
    for stage in ("script", "speech", "face", "body"):
        s = marks.get(stage, 0.0)
        print(f"  {stage:<7} {s:7.3f} s   {dur / s if s else float('inf'):9.1f}x real time")
    print(f"  total   {total:7.3f} s   {dur / total:9.1f}x real time")
    return perf


def bench_blender(perf, engines: list[str], frames: int) -> None:
    import bpy

    from paksatalker.rigs.anny_avatar import build_avatar
    from paksatalker.rigs.retarget import apply_performance
    from paksatalker.scenes.render import RenderSettings, configure, render_frames
    from paksatalker.scenes.studio import build_scene

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    t0 = time.perf_counter()
    avatar = build_avatar()
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    apply_performance(avatar, perf, frame_start=1)
    t_bake = time.perf_counter() - t0
    scene.frame_set(1)
    build_scene(scene, focus=avatar.eye_midpoint(), bounds=avatar.bounds())
    print(f"avatar build {t_build:.2f} s; bake {perf.frames} frames into Blender {t_bake:.2f} s "
          f"({perf.frames / t_bake:.0f} frames/s)")

    results = {}
    mid = perf.frames // 2
    for engine in engines:
        with tempfile.TemporaryDirectory() as d:
            rs = RenderSettings(engine=engine, resolution=(1920, 1080), fps=perf.fps,
                                frames=(mid, mid + frames), output=Path(d) / "x.mp4")
            configure(scene, rs, perf.frames)
            times = []
            last = [time.perf_counter()]

            def progress(done, total, times=times, last=last):
                now = time.perf_counter()
                times.append(now - last[0])
                last[0] = now

            render_frames(scene, rs, Path(d), progress=progress)
        first, rest = times[0], times[1:] or times
        results[engine] = sum(rest) / len(rest)
        print(f"  {engine:<9} 1080p: first frame {first:6.1f} s, then "
              f"{results[engine]:6.1f} s/frame (samples {scene_samples(scene, engine)})")
    fastest = min(results.values())
    for engine, s in results.items():
        print(f"  {engine:<9} {s / fastest:5.1f}x the fastest engine's time per frame")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max RSS {rss:.0f} MB")


def scene_samples(scene, engine: str) -> str:
    if engine == "cycles":
        return str(scene.cycles.samples)
    if engine == "eevee":
        return str(scene.eevee.taa_render_samples)
    return "-"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=2, help="timed frames per engine after the first")
    ap.add_argument("--engines", default="workbench,eevee,cycles")
    ap.add_argument("--speech", default="espeak,kokoro",
                    help="speech backends to time, side by side (the first feeds the renders)")
    args = ap.parse_args()
    os.environ.setdefault("MESA_SHADER_CACHE_DIR",
                          str(Path.home() / ".cache" / "paksatalker" / "mesa"))
    print(f"PaksaTalker pipeline benchmark ({os.cpu_count()} CPUs)")
    perfs = [bench_generate(b) for b in args.speech.split(",") if b]
    perf = perfs[0]
    bench_blender(perf, [e for e in args.engines.split(",") if e], args.frames)


if __name__ == "__main__":
    main()
