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
from ..scenes import workers
from ..scenes.camera import follow_bone
from ..scenes.output import encode_video, nearest_aspect, resolution_for
from ..scenes.post import PostSettings
from ..scenes.render import RenderSettings, check_output, render
from ..scenes.studio import SceneSettings, build_scene
from ..shaders.toon import apply_toon

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
    smplx_model: Path | None = None
    """The user's SMPL-X .npz: render on an avatar built from it instead of the bundled one."""
    avatar: Path | None = None
    """The user's avatar file (.glb/.gltf/.vrm/.fbx/.blend), imported instead of the bundled one."""
    bone_map: Path | None = None
    """A bone map TOML for ``avatar`` (docs/avatars.md)."""
    root: str = "in_place"
    """Root motion policy: ``in_place`` or ``keep`` (see core.retarget.root_locations)."""
    scene: SceneSettings = field(default_factory=SceneSettings)
    work_dir: Path | None = None
    argv: tuple[str, ...] = ()
    """The CLI arguments that made this job: ``--workers`` runs them again per frame shard."""

    def __post_init__(self) -> None:
        if self.text is not None and self.performance is not None:
            raise InputError("give either a script text or a Performance file, not both")
        if self.text is None and self.performance is None and self.audio is None:
            raise InputError("give a script text, a speech recording or a Performance file")


def job_from_args(args, *, text: str | None, generate: GenerateSettings) -> RenderJob:
    """Build a RenderJob from the CLI's parsed arguments (headless/cli.py)."""
    pheno_kw = {k: getattr(args, k) for k in Phenotype.__dataclass_fields__
                if getattr(args, k, None) is not None}
    rs, scene = scene_from_args(args, generate.fps)
    return RenderJob(render=rs, text=text, performance=args.performance, audio=args.audio,
                     generate=generate, phenotype=Phenotype(**pheno_kw), scene=scene,
                     smplx_model=getattr(args, "smplx_model", None),
                     avatar=getattr(args, "avatar", None),
                     bone_map=getattr(args, "bone_map", None),
                     root=getattr(args, "root", None) or "in_place",
                     work_dir=args.work_dir, argv=tuple(getattr(args, "argv", ())))


def scene_from_args(args, fps: float) -> tuple[RenderSettings, SceneSettings]:
    """Render and scene settings from the CLI's render flags (headless/cli.py)."""
    if args.resolution is not None:
        resolution = tuple(args.resolution)
        aspect = args.aspect or nearest_aspect(resolution)
    else:
        aspect = args.aspect or "16:9"
        resolution = resolution_for(args.quality, aspect)
    rs = RenderSettings(engine=args.engine, resolution=resolution, fps=fps,
                        samples=args.samples, frames=args.frames, output=Path(args.out),
                        fast=not args.no_fast, layers=args.layers, workers=args.workers)
    post = PostSettings(view=args.view, look=args.look, grade=args.grade,
                        exposure=args.exposure, denoise=args.post_denoise,
                        sharpen=args.sharpen, bloom=args.bloom, vignette=args.vignette,
                        grain=args.grain, lens_distortion=args.lens_distortion,
                        chromatic_aberration=args.chromatic_aberration)
    scene = SceneSettings(lighting=args.lighting, intensity=args.intensity,
                          temperature=args.temperature, softness=args.softness,
                          camera=args.camera, aspect=aspect, dof=not args.no_dof,
                          fstop=args.fstop, motion_blur=args.motion_blur, handheld=args.handheld,
                          seed=args.seed, background=args.background,
                          background_file=args.background_file, post=post, toon=args.toon)
    return rs, scene


def make_performance(job: RenderJob, progress: Progress | None = None) -> Performance:
    if job.performance is not None:
        if progress:
            progress("load", 0.0, None, str(job.performance))
        return perf_io.load(job.performance, audio_path=job.audio, fps=job.render.fps,
                            body_settings=job.generate.body)

    def on_step(step: core_pipeline.Step) -> None:
        if progress:
            progress(step.stage, step.fraction, None, step.detail)

    if job.audio is not None:  # lip-sync a recording; job.text (if any) is its transcript
        steps = core_pipeline.generate_from_audio_steps(job.audio, job.text, job.generate)
        return core_pipeline.run(steps, on_step)
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
        on_frame = (lambda d, t: progress("render", d, t, "")) if progress else None
        if job.render.workers > 1 and job.argv:
            return _sharded(job, perf, work, on_frame)
        scene = setup_scene(perf, job, progress)
        return render(scene, job.render, wav, work_dir=work, progress=on_frame)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def setup_scene(perf: Performance, job: RenderJob, progress: Progress | None = None):
    """Empty scene -> avatar with the Performance applied -> lights, camera, background."""
    if progress:
        progress("avatar", 0.0, None, "")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    if job.smplx_model is not None:
        from ..rigs.smplx_avatar import build_smplx_avatar

        avatar = build_smplx_avatar(job.smplx_model, betas=perf.body.betas)
    elif job.avatar is not None:
        from ..rigs.import_avatar import import_avatar

        avatar = import_avatar(job.avatar, bone_map=job.bone_map)
    else:
        avatar = build_avatar(job.phenotype)
    if progress:
        progress("animate", 0.0, None, f"{perf.frames} frames")
    apply_performance(avatar, perf, frame_start=1, root_policy=job.root)
    scene.frame_set(1)
    if progress:
        progress("scene", 0.0, None, "")
    objects = build_scene(scene, focus=avatar.eye_midpoint(), bounds=avatar.bounds(),
                          settings=job.scene)
    follow_bone(objects["focus"], avatar.armature, avatar.head_bone)  # focus stays on the eyes
    if job.scene.toon:
        apply_toon(avatar.objects, outline=0.0025 * (avatar.bounds()[1][2] / 1.7))
    return scene


def _sharded(job: RenderJob, perf: Performance, work: Path, on_frame) -> Path:
    """``--workers``: the Performance saved once, frames rendered by worker processes."""
    npz, wav = perf_io.save(perf, work / "performance.npz")
    out = check_output(job.render.output)
    video = job.render.kind in ("mp4", "mov")
    frames_dir = work / "frames" if video else out
    frames = job.render.frames or (1, perf.frames)
    shared = job.render.engine == "cycles" and job.render.fast and job.scene.static_camera
    workers.run_sharded(job.argv, performance=npz, audio=wav, frames_dir=frames_dir,
                        frames=frames, workers=job.render.workers, shared_background=shared,
                        log_dir=work / "logs", progress=on_frame)
    if not video:
        return out
    return encode_video(frames_dir, wav, out, job.render.fps, job.render.resolution)
