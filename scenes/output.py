# SPDX-License-Identifier: GPL-3.0-or-later
"""Output: sizes, frame rates and file formats; frames muxed to video through Blender's FFmpeg.

Formats: ``mp4`` (H.264 + AAC), ``mov`` (ProRes 422 HQ, or 4444 with alpha, + PCM audio), ``png``
and ``exr`` sequences (RGBA when the film is transparent). Videos are muxed by a throw-away scene
whose sequencer holds the frames and the WAV, written to a temporary file beside the output and
renamed: nothing appears at the output path on failure.
"""

from __future__ import annotations

import math
import os
import struct
import tempfile
from pathlib import Path

import bpy

from ..core.errors import InputError, OutputError
from ..core.paths import make_readable

QUALITIES = {"720p": 720, "1080p": 1080, "1440p": 1440, "4k": 2160}
"""Lines of the frame's short side... for 16:9 the height; for 9:16 the width."""
FPS_PRESETS = (24, 25, 30, 60)
FORMATS = ("mp4", "mov", "png", "exr")
VIDEO_FORMATS = ("mp4", "mov")
FRAME_PATTERNS = {"png": "frame_{:06d}.png", "exr": "frame_{:06d}.exr"}
FRAME_PATTERN = FRAME_PATTERNS["png"]
_EXR_MAGIC = b"\x76\x2f\x31\x01"


def output_kind(path: str | os.PathLike) -> str:
    """The format a path asks for: ``mp4``/``mov`` by suffix, ``exr`` for a folder named
    ``*.exr``... else ``png`` (the path is a folder of frames)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in ("mp4", "mov", "exr") else "png"


def resolution_for(quality: str, aspect: str = "16:9") -> tuple[int, int]:
    """Frame size for a quality name and an aspect ``W:H`` (both even, for H.264)."""
    if quality not in QUALITIES:
        raise InputError(f"unknown quality {quality!r}; choose one of {', '.join(QUALITIES)}")
    try:
        w, h = (int(v) for v in aspect.split(":"))
    except ValueError:
        raise InputError(f"aspect must look like 16:9, got {aspect!r}") from None
    short = QUALITIES[quality]
    if w >= h:
        return 2 * round(short * w / h / 2), short
    return short, 2 * round(short * h / w / 2)


def nearest_aspect(resolution: tuple[int, int]) -> str:
    """The preset aspect (16:9, 9:16, 1:1) closest to a frame size."""
    ratio = resolution[0] / resolution[1]
    options = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}
    return min(options, key=lambda k: abs(math.log(options[k] / ratio)))


def frame_file_format(scene: bpy.types.Scene, kind: str) -> None:
    """Frame files: 8-bit PNG (RGBA with a transparent film) or half-float EXR (RGBA)."""
    s = scene.render.image_settings
    if hasattr(s, "media_type"):  # 5.0: the file format list depends on it
        s.media_type = "IMAGE"
    if kind == "exr":
        s.file_format = "OPEN_EXR"
        s.color_mode = "RGBA"
        s.color_depth = "16"
        s.exr_codec = "ZIP"
    else:
        s.file_format = "PNG"
        s.color_mode = "RGBA" if scene.render.film_transparent else "RGB"
        s.color_depth = "8"
        s.compression = 15


def png_size(path: Path) -> tuple[int, int] | None:
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


def frame_complete(path: Path, resolution: tuple[int, int]) -> bool:
    """True for a whole frame file of the right size (PNG), or a whole EXR file."""
    if path.suffix == ".exr":
        try:
            with open(path, "rb") as f:
                return f.read(4) == _EXR_MAGIC and path.stat().st_size > 64
        except OSError:
            return False
    return png_size(path) == tuple(resolution)


def check_output(path: str | os.PathLike) -> Path:
    """Make sure ``path`` can be written (a ``.mp4``/``.mov`` file, else a folder); return it
    absolute.

    The folder that holds the output must exist (a PNG output folder itself is created), so a
    typo in a path fails at once instead of after the render. Raises :class:`OutputError`.
    """
    out = Path(path).expanduser().absolute()
    video = output_kind(out) in VIDEO_FORMATS
    folder = out.parent if video else out
    if video and out.is_dir():
        raise OutputError(f"output {out} is a folder; give a file name ending in .mp4 or .mov")
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


def _fps(fps: float) -> tuple[int, float]:
    """Blender's (fps, fps_base) for a possibly fractional rate (29.97 -> 30 / 1.001)."""
    whole = max(1, round(fps))
    return whole, whole / fps


def encode_video(
    frames_dir: str | os.PathLike,
    audio_wav: str | os.PathLike | None,
    out_path: str | os.PathLike,
    fps: float,
    resolution: tuple[int, int],
    *,
    alpha: bool = False,
) -> Path:
    """Mux ``frame_NNNNNN.png`` (a contiguous run) and the WAV into a video: H.264 + AAC MP4 for
    ``.mp4``, ProRes + PCM for ``.mov`` (4444 keeping the frames' alpha when ``alpha``).

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
    if png_size(first_path) != tuple(resolution):
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
    kind = output_kind(out)
    if kind not in VIDEO_FORMATS:
        raise InputError(f"{out.name}: a video needs a .mp4 or .mov name")
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=f".{kind}")
    os.close(fd)
    tmp = Path(tmp_name)
    scene = bpy.data.scenes.new("PT_Encode")
    sounds = set(bpy.data.sounds)
    try:
        _encode_scene(scene, folder, numbers, resolution, fps)
        if kind == "mov":
            _prores(scene, alpha)
        if audio_wav is not None:
            strips = _strips(scene.sequence_editor)
            strips.new_sound("audio", str(Path(audio_wav).absolute()), 2, 2 - first)
            scene.render.ffmpeg.audio_codec = "AAC" if kind == "mp4" else "PCM"
            scene.render.ffmpeg.audio_channels = "MONO" if channels == 1 else "STEREO"
        scene.render.filepath = str(tmp)
        bpy.ops.render.render(animation=True, scene=scene.name)
        if tmp.stat().st_size == 0:
            raise OutputError(f"Blender wrote no video to {tmp}")
        make_readable(tmp)
        os.replace(tmp, out)
    finally:
        bpy.data.scenes.remove(scene)
        for sound in set(bpy.data.sounds) - sounds:
            bpy.data.sounds.remove(sound)
        tmp.unlink(missing_ok=True)
    return out


def no_stamp_metadata(r) -> None:
    """Write no date/time/host/render-time metadata into frames and videos, so the same pixels
    and audio give the same bytes (batch outputs, resumed and distributed renders compare)."""
    for stamp in ("date", "time", "render_time", "memory", "hostname", "filename", "frame",
                  "frame_range", "camera", "lens", "scene", "marker", "sequencer_strip", "note"):
        setattr(r, f"use_stamp_{stamp}", False)


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
    no_stamp_metadata(r)




def _prores(scene: bpy.types.Scene, alpha: bool) -> None:
    """QuickTime ProRes: 4444 with alpha, else 422 HQ."""
    r = scene.render
    r.ffmpeg.format = "QUICKTIME"
    r.ffmpeg.codec = "PRORES"
    r.ffmpeg.ffmpeg_prores_profile = "4444" if alpha else "422_HQ"
    r.image_settings.color_mode = "RGBA" if alpha else "RGB"
