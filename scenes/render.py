# SPDX-License-Identifier: GPL-3.0-or-later
"""Render a scene to PNG frames, then to MP4 (H.264 + AAC) through Blender's own FFmpeg.

Frames are rendered one at a time into ``frame_000001.png``...; each is written to a temporary
name and renamed, so an interrupted render resumes by skipping the complete frames already there.
The MP4 is muxed by a throw-away scene whose sequencer holds the frames and the WAV, written to a
temporary file beside the output and renamed: nothing appears at the output path on failure.
"""

from __future__ import annotations

import math
import os
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bpy

from ..core.errors import InputError, OutputError

ENGINES = ("eevee", "cycles", "workbench")
_DEFAULT_SAMPLES = {"eevee": 8, "cycles": 8, "workbench": 1}
_WORKBENCH_AA = ("5", "8", "11", "16", "32")
FRAME_PATTERN = "frame_{:06d}.png"

Progress = Callable[[int, int], None]


def output_kind(path: str | os.PathLike) -> str:
    """``"mp4"`` for a ``.mp4`` path, else ``"png"`` (the path is a folder of frames)."""
    return "mp4" if Path(path).suffix.lower() == ".mp4" else "png"


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
    """``.mp4``: a video; any other path: a folder of PNG frames."""
    denoise: bool = True
    """Cycles only: OpenImageDenoise after sampling."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "output", Path(self.output))
        if self.engine not in ENGINES:
            raise InputError(f"unknown render engine {self.engine!r}; choose one of {ENGINES}")
        res = tuple(self.resolution)
        if len(res) != 2 or not all(isinstance(v, int) and 16 <= v <= 16384 for v in res):
            raise InputError(f"resolution must be two whole numbers 16..16384, got {res!r}")
        if self.kind == "mp4" and any(v % 2 for v in res):
            raise InputError(f"H.264 video needs an even width and height, got {res[0]}x{res[1]}")
        object.__setattr__(self, "resolution", res)
        if not 1 <= self.fps <= 120:
            raise InputError(f"fps must be 1..120, got {self.fps}")
        if self.samples is not None and not (isinstance(self.samples, int) and self.samples >= 1):
            raise InputError(f"samples must be a whole number >= 1, got {self.samples!r}")
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
        return output_kind(self.output)


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


def _fps(fps: float) -> tuple[int, float]:
    """Blender's (fps, fps_base) for a possibly fractional rate (29.97 -> 30 / 1.001)."""
    whole = max(1, round(fps))
    return whole, whole / fps


def configure(scene: bpy.types.Scene, settings: RenderSettings, frame_count: int) -> None:
    """Engine, samples, resolution at 100 %, fps, frame range 1..frame_count, AgX, PNG frames."""
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
    if hasattr(r.image_settings, "media_type"):  # 5.0: the file format list depends on it
        r.image_settings.media_type = "IMAGE"
    r.image_settings.file_format = "PNG"
    r.image_settings.color_mode = "RGBA" if r.film_transparent else "RGB"
    r.image_settings.color_depth = "8"
    r.image_settings.compression = 15
    scene.view_settings.view_transform = "AgX"
    scene.view_settings.look = "None"
    scene.view_settings.exposure = 0.0
    scene.view_settings.gamma = 1.0
    samples = settings.samples or _DEFAULT_SAMPLES[settings.engine]
    if settings.engine == "cycles":
        _cycles(scene, samples, settings.denoise)
    elif settings.engine == "eevee":
        scene.eevee.taa_render_samples = samples
        scene.eevee.use_shadows = True
    else:
        _workbench(scene, samples)


def _cycles(scene: bpy.types.Scene, samples: int, denoise: bool) -> None:
    c = scene.cycles
    c.device = "CPU"
    c.samples = samples
    c.use_adaptive_sampling = False
    c.use_denoising = denoise
    c.denoiser = "OPENIMAGEDENOISE"
    # Trusting the albedo and normal passes skips denoising them too: ~4x less denoise time.
    c.denoising_prefilter = "FAST"
    c.max_bounces, c.diffuse_bounces, c.glossy_bounces = 8, 3, 3
    scene.render.use_persistent_data = True


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
    s.show_cavity = False


def _png_size(path: Path) -> tuple[int, int] | None:
    """Width and height of a complete PNG file (signature, IHDR and a final IEND), else None."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
            f.seek(-12, os.SEEK_END)
            tail = f.read(12)
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    if tail[4:8] != b"IEND":
        return None
    return struct.unpack(">II", head[16:24])


def render_frames(
    scene: bpy.types.Scene,
    settings: RenderSettings,
    frames_dir: str | os.PathLike,
    *,
    progress: Progress | None = None,
) -> list[Path]:
    """Render the frame range to ``frames_dir/frame_NNNNNN.png``, one frame at a time.

    Frames already there, complete and of the right size are kept (resume). ``progress(done,
    total)`` is called after each frame. Call :func:`configure` first.
    """
    folder = Path(frames_dir)
    folder.mkdir(parents=True, exist_ok=True)
    first, last = settings.frames or (scene.frame_start, scene.frame_end)
    total = last - first + 1
    paths = []
    saved = scene.render.filepath, scene.frame_current
    try:
        for done, frame in enumerate(range(first, last + 1), start=1):
            path = folder / FRAME_PATTERN.format(frame)
            if _png_size(path) != settings.resolution:
                partial = path.with_name(f".{path.stem}.partial.png")
                scene.frame_set(frame)
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


def check_output(path: str | os.PathLike) -> Path:
    """Make sure ``path`` can be written (a ``.mp4`` file, else a folder); return it absolute.

    The folder that holds the output must exist (a PNG output folder itself is created), so a
    typo in a path fails at once instead of after the render. Raises :class:`OutputError`.
    """
    out = Path(path).expanduser().absolute()
    folder = out.parent if output_kind(out) == "mp4" else out
    if output_kind(out) == "mp4" and out.is_dir():
        raise OutputError(f"output {out} is a folder; give a file name ending in .mp4")
    if not out.parent.is_dir():
        raise OutputError(f"cannot write {out}: the folder {out.parent} does not exist")
    try:
        folder.mkdir(exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise OutputError(f"cannot write to {folder}: {err.strerror or err}") from err
    return out


def _frame_numbers(folder: Path) -> list[int]:
    numbers = []
    for p in folder.glob("frame_*.png"):
        digits = p.stem.removeprefix("frame_")
        if digits.isdigit():
            numbers.append(int(digits))
    return sorted(numbers)


def _audio(path: Path) -> tuple[float, int]:
    """Duration in seconds and channel count of an audio file, read by Blender's audio library."""
    import aud

    if not path.is_file():
        raise InputError(f"audio file not found: {path}")
    try:
        sound = aud.Sound(str(path))
        rate, channels = sound.specs
        samples = sound.length
    except Exception as err:  # aud raises its own error types
        raise InputError(f"cannot read audio {path}: {err}") from err
    if rate <= 0 or samples <= 0:
        raise InputError(f"audio {path} is empty")
    return samples / rate, int(channels)


def encode_video(
    frames_dir: str | os.PathLike,
    audio_wav: str | os.PathLike | None,
    out_path: str | os.PathLike,
    fps: float,
    resolution: tuple[int, int],
) -> Path:
    """Mux ``frame_NNNNNN.png`` (a contiguous run) and the WAV into an H.264 + AAC MP4.

    Audio time 0 is the start of frame 1, so a run starting later gets the matching piece of the
    audio. Without audio the video is silent. Returns the written path.
    """
    if any(v % 2 for v in resolution):
        raise InputError(f"H.264 video needs an even width and height, got {resolution}")
    folder = Path(frames_dir)
    numbers = _frame_numbers(folder)
    if not numbers:
        raise InputError(f"no frame_*.png files in {folder}")
    first, last = numbers[0], numbers[-1]
    if last - first + 1 != len(numbers):
        raise InputError(f"frames in {folder} are not contiguous ({first}..{last}, some missing)")
    first_path = folder / FRAME_PATTERN.format(first)
    if _png_size(first_path) != tuple(resolution):
        raise InputError(f"{first_path.name} is not a {resolution[0]}x{resolution[1]} PNG")
    channels = 0
    if audio_wav is not None:
        seconds, channels = _audio(Path(audio_wav))
        audio_frames = seconds * fps
        if last > math.ceil(audio_frames - 1e-6) + 1 or (first == 1 and last < audio_frames - 1):
            raise InputError(
                f"frames {first}..{last} do not match {seconds:.3f} s of audio at {fps} fps"
            )
    out = check_output(out_path)
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=".mp4")
    os.close(fd)
    tmp = Path(tmp_name)
    scene = bpy.data.scenes.new("PT_Encode")
    sounds = set(bpy.data.sounds)
    try:
        _encode_scene(scene, folder, numbers, resolution, fps)
        if audio_wav is not None:
            strips = _strips(scene.sequence_editor)
            strips.new_sound("audio", str(Path(audio_wav).absolute()), 2, 2 - first)
            scene.render.ffmpeg.audio_codec = "AAC"
            scene.render.ffmpeg.audio_channels = "MONO" if channels == 1 else "STEREO"
        scene.render.filepath = str(tmp)
        bpy.ops.render.render(animation=True, scene=scene.name)
        if tmp.stat().st_size == 0:
            raise OutputError(f"Blender wrote no video to {tmp}")
        os.replace(tmp, out)
    finally:
        bpy.data.scenes.remove(scene)
        for sound in set(bpy.data.sounds) - sounds:
            bpy.data.sounds.remove(sound)
        tmp.unlink(missing_ok=True)
    return out


def _strips(editor):
    """The sequencer's top-level strips (``.strips`` in 5.0, ``.sequences`` in 4.2)."""
    return editor.strips if hasattr(editor, "strips") else editor.sequences


def _encode_scene(scene, folder: Path, numbers: list[int], resolution, fps: float) -> None:
    r = scene.render
    r.resolution_x, r.resolution_y = resolution
    r.resolution_percentage = 100
    r.fps, r.fps_base = _fps(fps)
    scene.frame_start, scene.frame_end = 1, len(numbers)
    # The frames already went through the view transform: pass them through untouched.
    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
    r.use_sequencer = True
    names = [FRAME_PATTERN.format(n) for n in numbers]
    strips = _strips(scene.sequence_editor_create())
    strip = strips.new_image("frames", str((folder / names[0]).absolute()), 1, 1)
    for name in names[1:]:
        strip.elements.append(name)
    if hasattr(r.image_settings, "media_type"):
        r.image_settings.media_type = "VIDEO"
    r.image_settings.file_format = "FFMPEG"
    r.use_file_extension = False
    ff = r.ffmpeg
    ff.format = "MPEG4"
    ff.codec = "H264"
    ff.constant_rate_factor = "HIGH"
    ff.ffmpeg_preset = "GOOD"
    ff.gopsize = max(1, round(fps))
    ff.audio_codec = "NONE"
    ff.audio_mixrate = 48000
    ff.audio_bitrate = 192


def render(
    scene: bpy.types.Scene,
    settings: RenderSettings,
    audio_wav: str | os.PathLike | None,
    *,
    work_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> Path:
    """Render ``scene`` to ``settings.output``: an MP4 with the audio, or a folder of PNG frames.

    Frames count from 1, where the audio starts: ``ceil(audio seconds * fps)`` frames when audio
    is given, else up to the scene's last frame. MP4 frames go to ``work_dir/frames`` (kept, so a
    rerun resumes) or to a temporary folder.
    """
    out = check_output(settings.output)
    if audio_wav is not None:
        seconds, _ = _audio(Path(audio_wav))
        count = math.ceil(seconds * settings.fps - 1e-6)
    else:
        count = scene.frame_end
    configure(scene, settings, count)
    if settings.kind == "png":
        render_frames(scene, settings, out, progress=progress)
        return out
    if work_dir is not None:
        frames_dir = Path(work_dir) / "frames"
        keep = set(render_frames(scene, settings, frames_dir, progress=progress))
        for stale in frames_dir.glob("frame_*.png"):
            if stale not in keep:
                stale.unlink()
        return encode_video(frames_dir, audio_wav, out, settings.fps, settings.resolution)
    with tempfile.TemporaryDirectory(prefix="paksatalker-frames-") as tmp:
        render_frames(scene, settings, tmp, progress=progress)
        return encode_video(tmp, audio_wav, out, settings.fps, settings.resolution)
