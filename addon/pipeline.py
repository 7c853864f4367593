# SPDX-License-Identifier: GPL-3.0-or-later
"""``run_job``: the one render job behind the CLI, ``blender -b --python`` and the add-on.

One job per process (a fresh empty scene): Performance (generated or loaded) -> bundled avatar
-> animation -> studio scene -> frames -> MP4 with the speech as AAC.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import bpy

from ..core import performance as perf_io
from ..core import pipeline as core_pipeline
from ..core.audio import write_wav
from ..core.errors import InputError
from ..core.settings import GenerateSettings
from ..core.types import Performance
from ..rigs.anny_avatar import build_avatar
from ..rigs.anny_data import Phenotype
from ..rigs.retarget import apply_performance
from ..scenes.render import RenderSettings, check_output, render
from ..scenes.studio import SceneSettings, build_scene

Progress = Callable[[str, float, int | None, str], None]
"""progress(stage, done, total, detail): done/total frames, or a 0..1 fraction with total None."""


@dataclass(frozen=True)
class RenderJob:
    render: RenderSettings
    text: str | None = None
    performance: Path | None = None
    audio: Path | None = None
    generate: GenerateSettings = field(default_factory=GenerateSettings)
    phenotype: Phenotype = field(default_factory=Phenotype)
    scene: SceneSettings = field(default_factory=SceneSettings)
    work_dir: Path | None = None

    def __post_init__(self) -> None:
        if (self.text is None) == (self.performance is None):
            raise InputError("give either a script text or a Performance file, not both")


def job_from_args(args, *, text: str | None, generate: GenerateSettings) -> RenderJob:
    """Build a RenderJob from the CLI's parsed arguments (headless/cli.py)."""
    pheno_kw = {k: getattr(args, k) for k in Phenotype.__dataclass_fields__
                if getattr(args, k, None) is not None}
    rs = RenderSettings(engine=args.engine, resolution=tuple(args.resolution), fps=generate.fps,
                        samples=args.samples, frames=args.frames, output=Path(args.out))
    scene = SceneSettings(camera=args.camera, dof=not args.no_dof, fstop=args.fstop)
    return RenderJob(render=rs, text=text, performance=args.performance, audio=args.audio,
                     generate=generate, phenotype=Phenotype(**pheno_kw), scene=scene,
                     work_dir=args.work_dir)


def make_performance(job: RenderJob, progress: Progress | None = None) -> Performance:
    if job.performance is not None:
        if progress:
            progress("load", 0.0, None, str(job.performance))
        return perf_io.load(job.performance, audio_path=job.audio, fps=job.render.fps)

    def on_step(step: core_pipeline.Step) -> None:
        if progress:
            progress(step.stage, step.fraction, None, step.detail)

    return core_pipeline.generate(job.text, job.generate, on_step)


def run_job(job: RenderJob, progress: Progress | None = None) -> Path:
    """Run a whole render job in the current Blender process; returns the output path."""
    check_output(job.render.output)
    perf = make_performance(job, progress)
    frames = job.render.frames
    if frames is not None and frames[1] > perf.frames:
        raise InputError(f"--frames {frames[0]}:{frames[1]} goes past the last frame, "
                         f"{perf.frames} ({perf.speech.duration:.2f} s at {perf.fps:g} fps)")
    tmp = Path(tempfile.mkdtemp(prefix="paksatalker-"))
    try:
        work = job.work_dir or tmp / "frames"
        work.mkdir(parents=True, exist_ok=True)
        wav = tmp / "speech.wav"
        write_wav(wav, perf.speech.samples, perf.speech.sample_rate)
        scene = setup_scene(perf, job, progress)
        return render(scene, job.render, wav, work_dir=work,
                      progress=(lambda d, t: progress("render", d, t, "")) if progress else None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def setup_scene(perf: Performance, job: RenderJob, progress: Progress | None = None):
    """Empty scene -> avatar with the Performance applied -> lights, camera, background."""
    if progress:
        progress("avatar", 0.0, None, "")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    avatar = build_avatar(job.phenotype)
    if progress:
        progress("animate", 0.0, None, f"{perf.frames} frames")
    apply_performance(avatar, perf, frame_start=1)
    scene.frame_set(1)
    if progress:
        progress("scene", 0.0, None, "")
    build_scene(scene, focus=avatar.eye_midpoint(), bounds=avatar.bounds(), settings=job.scene)
    return scene
