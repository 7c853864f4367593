# SPDX-License-Identifier: GPL-3.0-or-later
"""Render a scene to frames, then to a video through Blender's own FFmpeg.

Frames are rendered one at a time into ``frame_000001.png`` (or ``.exr``); each is written to a
temporary name and renamed, so an interrupted render resumes by skipping the complete frames
already there, and the video made from them is the same. With Cycles, a static camera and a
static background, :mod:`.fast` renders the background once and only the character per frame.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bpy

from ..core.errors import InputError
from . import fast
from .output import (
    FRAME_PATTERN,
    FRAME_PATTERNS,
    VIDEO_FORMATS,
    _audio,
    _fps,
    check_output,
    encode_video,
    frame_complete,
    frame_file_format,
    no_stamp_metadata,
    output_kind,
)

__all__ = ["FRAME_PATTERN", "RenderSettings", "check_output", "configure", "encode_video",
           "output_kind", "render", "render_frames"]

ENGINES = ("eevee", "cycles", "workbench")
_DEFAULT_SAMPLES = {"eevee": 8, "cycles": 8, "workbench": 1}
_WORKBENCH_AA = ("5", "8", "11", "16", "32")
THREADS_ENV = "PAKSATALKER_THREADS"
"""Render threads for this process (set by ``--workers`` for its children); unset: all cores."""

Progress = Callable[[int, int], None]
FrameHook = Callable[[int], None]


@dataclass(frozen=True)
class RenderSettings:
    """What to render and where; validated on creation (:class:`InputError`)."""

    engine: str = "eevee"
    resolution: tuple[int, int] = (1920, 1080)
    fps: float = 30
    samples: int | None = None
    """None: a fast default on CPU (EEVEE 8, Cycles 8 + denoise, Workbench FXAA)."""
    frames: tuple[int, int] | None = None
    """First and last frame (1-based, inclusive) to render; None renders all."""
    output: Path = Path("out/render.mp4")
    """``.mp4`` (H.264 + AAC) or ``.mov`` (ProRes): a video; ``*.exr``: a folder of EXR frames;
    any other path: a folder of PNG frames."""
    denoise: bool = True
    """Cycles only: OpenImageDenoise after sampling."""
    fast: bool = True
    """Cycles: background once + character-only crops when camera and background are static."""
    adaptive: bool = True
    """Cycles: adaptive sampling (stops converged pixels early; the same maximum samples)."""
    persistent: bool = True
    """Keep scene data between frames (Cycles)."""
    layers: bool = False
    """Also write the character alone (RGBA PNG per frame) and the background (EXR) beside the
    output, in ``<output>_layers/``."""
    workers: int = 1
    """Processes to shard the frames over (see :mod:`.workers`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "output", Path(self.output))
        if self.engine not in ENGINES:
            raise InputError(f"unknown render engine {self.engine!r}; choose one of {ENGINES}")
        res = tuple(self.resolution)
        if len(res) != 2 or not all(isinstance(v, int) and 16 <= v <= 16384 for v in res):
            raise InputError(f"resolution must be two whole numbers 16..16384, got {res!r}")
        if self.kind in VIDEO_FORMATS and any(v % 2 for v in res):
            raise InputError(f"video needs an even width and height, got {res[0]}x{res[1]}")
        object.__setattr__(self, "resolution", res)
        if not 1 <= self.fps <= 120:
            raise InputError(f"fps must be 1..120, got {self.fps}")
        if self.samples is not None and not (isinstance(self.samples, int) and self.samples >= 1):
            raise InputError(f"samples must be a whole number >= 1, got {self.samples!r}")
        if not (isinstance(self.workers, int) and 1 <= self.workers <= 64):
            raise InputError(f"workers must be 1..64, got {self.workers!r}")
        if self.frames is not None:
            frames = tuple(self.frames)
            if not (len(frames) == 2 and all(isinstance(f, int) for f in frames)) or not (
                1 <= frames[0] <= frames[1]
            ):
                raise InputError(
                    f"frames must be (first, last) with 1 <= first <= last, got {self.frames!r}"
                )
            object.__setattr__(self, "frames", frames)

    @property
    def kind(self) -> str:
        """``mp4``, ``mov``, ``png`` or ``exr``, from the output's suffix."""
        return output_kind(self.output)

    @property
    def frame_kind(self) -> str:
        return "exr" if self.kind == "exr" else "png"


def _engine_id(engine: str) -> str:
    if engine == "cycles":
        return "CYCLES"
    if engine == "workbench":
        return "BLENDER_WORKBENCH"
    return "BLENDER_EEVEE" if bpy.app.version >= (5, 0, 0) else "BLENDER_EEVEE_NEXT"


def _shader_cache() -> None:
    """Keep Mesa's compiled shaders between processes (EEVEE compiles for ~20 s otherwise)."""
    if "MESA_SHADER_CACHE_DIR" in os.environ:
        return
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "paksatalker" / "mesa"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    os.environ["MESA_SHADER_CACHE_DIR"] = str(folder)


def configure(scene: bpy.types.Scene, settings: RenderSettings, frame_count: int) -> None:
    """Engine, samples, resolution at 100 %, fps, frame range 1..frame_count, frame files.

    Colour management and the compositor belong to the scene (:mod:`.post`) and are kept.
    """
    if frame_count < 1:
        raise InputError(f"nothing to render: {frame_count} frames")
    if settings.frames is not None and settings.frames[1] > frame_count:
        raise InputError(f"frames {settings.frames} go past the last frame {frame_count}")
    _shader_cache()
    r = scene.render
    r.engine = _engine_id(settings.engine)
    r.resolution_x, r.resolution_y = settings.resolution
    r.resolution_percentage = 100
    r.pixel_aspect_x = r.pixel_aspect_y = 1.0
    r.fps, r.fps_base = _fps(settings.fps)
    scene.frame_start, scene.frame_end = 1, frame_count
    r.use_sequencer = False
    r.use_file_extension = True
    threads = os.environ.get(THREADS_ENV, "")
    r.threads_mode = "FIXED" if threads.isdigit() else "AUTO"
    if threads.isdigit():
        r.threads = max(1, int(threads))
    frame_file_format(scene, settings.frame_kind)
    no_stamp_metadata(r)
    if scene.view_settings.view_transform not in ("AgX", "Filmic", "Standard", "Raw"):
        scene.view_settings.view_transform = "AgX"
    samples = settings.samples or _DEFAULT_SAMPLES[settings.engine]
    r.use_persistent_data = settings.persistent
    if settings.engine == "cycles":
        _cycles(scene, samples, settings.denoise, settings.adaptive)
    elif settings.engine == "eevee":
        scene.eevee.taa_render_samples = samples
        scene.eevee.use_shadows = True
    else:
        _workbench(scene, samples)


def _cycles(scene: bpy.types.Scene, samples: int, denoise: bool, adaptive: bool) -> None:
    c = scene.cycles
    c.device = "CPU"
    c.samples = samples
    c.use_adaptive_sampling = adaptive
    c.adaptive_threshold = 0.02
    c.adaptive_min_samples = 0
    c.use_denoising = denoise
    c.denoiser = "OPENIMAGEDENOISE"
    # Trusting the albedo and normal passes skips denoising them too: ~4x less denoise time.
    c.denoising_prefilter = "FAST"
    c.max_bounces, c.diffuse_bounces, c.glossy_bounces = 8, 3, 3


def _workbench(scene: bpy.types.Scene, samples: int) -> None:
    """Material colours under a studio light with soft shadows: a decent preview look."""
    d = scene.display
    d.render_aa = (
        "FXAA"
        if samples <= 1
        else next((aa for aa in _WORKBENCH_AA if int(aa) >= samples), _WORKBENCH_AA[-1])
    )
    d.light_direction = (0.45, 0.55, 0.70)
    d.shadow_shift = 0.1
    d.shadow_focus = 0.3
    s = d.shading
    s.light = "STUDIO"
    if "basic.sl" in bpy.context.preferences.studio_lights:
        s.studio_light = "basic.sl"  # top light; "Default" lights the face from below
    s.color_type = "MATERIAL"
    s.show_shadows = True
    s.shadow_intensity = 0.4
    s.show_specular_highlight = True


def render_frames(
    scene: bpy.types.Scene,
    settings: RenderSettings,
    frames_dir: str | os.PathLike,
    *,
    progress: Progress | None = None,
    hook: FrameHook | None = None,
) -> list[Path]:
    """Render the frame range to ``frames_dir/frame_NNNNNN.png`` (``.exr``), one at a time.

    Frames already there and complete are kept (resume). ``hook(frame)`` runs after the frame is
    set and before it renders; ``progress(done, total)`` after each frame. Call
    :func:`configure` first.
    """
    folder = Path(frames_dir)
    folder.mkdir(parents=True, exist_ok=True)
    first, last = settings.frames or (scene.frame_start, scene.frame_end)
    total = last - first + 1
    pattern = FRAME_PATTERNS[settings.frame_kind]
    paths = []
    saved = scene.render.filepath, scene.frame_current
    try:
        for done, frame in enumerate(range(first, last + 1), start=1):
            path = folder / pattern.format(frame)
            if not frame_complete(path, settings.resolution):
                partial = path.with_name(f".{path.stem}.partial{path.suffix}")
                scene.frame_set(frame)
                if hook is not None:
                    hook(frame)
                scene.render.filepath = str(partial)
                bpy.ops.render.render(write_still=True, scene=scene.name)
                os.replace(partial, path)
            paths.append(path)
            if progress is not None:
                progress(done, total)
    finally:
        scene.render.filepath = saved[0]
        scene.frame_set(saved[1])
    return paths


def fast_applies(scene: bpy.types.Scene, settings: RenderSettings) -> bool:
    """The fast path is on, the engine is Cycles, and nothing but the character moves."""
    cam = scene.camera
    moving_camera = cam is not None and cam.animation_data is not None and (
        cam.animation_data.action is not None)
    movie = scene.compositing_node_group is not None and any(
        n.bl_idname == "CompositorNodeImage" and n.image is not None and n.image.source == "MOVIE"
        for n in scene.compositing_node_group.nodes)
    return settings.fast and settings.engine == "cycles" and not moving_camera and not movie


def _layers_dir(out: Path) -> Path:
    return out.with_name(f"{out.stem if out.suffix else out.name}_layers")


def render(
    scene: bpy.types.Scene,
    settings: RenderSettings,
    audio_wav: str | os.PathLike | None,
    *,
    work_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> Path:
    """Render ``scene`` to ``settings.output``: a video with the audio, or a folder of frames.

    Frames count from 1, where the audio starts: ``ceil(audio seconds * fps)`` frames when audio
    is given, else up to the scene's last frame. Video frames go to ``work_dir/frames`` (kept, so
    a rerun resumes) or to a temporary folder.
    """
    out = check_output(settings.output)
    if audio_wav is not None:
        seconds, _ = _audio(Path(audio_wav))
        count = math.ceil(seconds * settings.fps - 1e-6)
    else:
        count = scene.frame_end
    configure(scene, settings, count)
    video = settings.kind in VIDEO_FORMATS
    alpha = scene.render.film_transparent
    if video:
        frames_dir = Path(work_dir) / "frames" if work_dir is not None else None
    else:
        frames_dir = out
    with tempfile.TemporaryDirectory(prefix="paksatalker-frames-") as tmp:
        frames_dir = frames_dir or Path(tmp)
        hook = None
        layers = _layers_dir(out) if settings.layers else None
        crop = fast_applies(scene, settings)
        if crop or layers is not None:
            hook = fast.prepare(scene, frames_dir, crop=crop,
                                layer_dir=layers / "avatar" if layers else None)
        try:
            keep = set(render_frames(scene, settings, frames_dir, progress=progress, hook=hook))
        finally:
            fast.restore(scene)
        if layers is not None:
            _copy_background(frames_dir, layers)
        if not video:
            return out
        for stale in frames_dir.glob("frame_*.png"):
            if stale not in keep:
                stale.unlink()
        return encode_video(frames_dir, audio_wav, out, settings.fps, settings.resolution,
                            alpha=alpha)


def _copy_background(frames_dir: Path, layers: Path) -> None:
    """Put the once-rendered background EXR in the layers folder as ``background.exr``."""
    found = sorted(frames_dir.glob(".background-*.exr"), key=lambda p: p.stat().st_mtime)
    if found:
        layers.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found[-1], layers / "background.exr")
