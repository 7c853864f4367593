# SPDX-License-Identifier: GPL-3.0-or-later
"""Rendering a stand-in character with each engine, resuming, and muxing MP4 with audio."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
sf = pytest.importorskip("soundfile")
import bmesh  # noqa: E402

# EEVEE compiles shaders for ~20 s per process unless Mesa may cache them between runs.
os.environ.setdefault("MESA_SHADER_CACHE_DIR", str(Path.home() / ".cache" / "paksatalker" / "mesa"))

from mp4probe import probe  # noqa: E402

from paksatalker.core.errors import InputError, OutputError  # noqa: E402
from paksatalker.scenes import render as rnd  # noqa: E402
from paksatalker.scenes.studio import build_scene  # noqa: E402
from paksatalker.shaders import materials  # noqa: E402

pytestmark = pytest.mark.blender

SIZE = (160, 90)


@pytest.fixture(autouse=True)
def empty_scene():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return bpy.context.scene


def _mesh(name, make, location, material):
    """A smooth primitive made with bmesh (no operator context needed)."""
    mesh = bpy.data.meshes.new(name)
    bm = bmesh.new()
    make(bm)
    bm.to_mesh(mesh)
    bm.free()
    for poly in mesh.polygons:
        poly.use_smooth = True
    mesh.materials.append(material)
    obj = bpy.data.objects.new(name, mesh)
    obj.location = location
    bpy.context.scene.collection.objects.link(obj)
    return obj


def stand_in():
    """A 1.7 m figure on z=0 facing -Y: cylinder body, sphere head, icosphere eyes.

    Returns ``(focus, bounds)`` for :func:`build_scene`.
    """
    skin = materials.skin_material()
    shirt = materials.cloth_material("PT_Shirt", (0.08, 0.18, 0.45))
    eye = materials.eye_material()
    _mesh(
        "Body",
        lambda bm: bmesh.ops.create_cone(
            bm, cap_ends=True, segments=32, radius1=0.2, radius2=0.2, depth=1.44
        ),
        (0, 0, 0.72),
        shirt,
    )
    _mesh(
        "Head",
        lambda bm: bmesh.ops.create_uvsphere(bm, u_segments=32, v_segments=16, radius=0.12),
        (0, 0, 1.58),
        skin,
    )
    for side in (-1, 1):
        _mesh(
            f"Eye{side}",
            lambda bm: bmesh.ops.create_icosphere(bm, subdivisions=2, radius=0.013),
            (0.04 * side, -0.105, 1.6),
            eye,
        )
    return (0.0, -0.118, 1.6), ((-0.2, -0.2, 0.0), (0.2, 0.2, 1.7))


def _pixels(path: Path) -> np.ndarray:
    image = bpy.data.images.load(str(path))
    w, h = image.size
    rgb = np.array(image.pixels[:], dtype=np.float32).reshape(h, w, 4)[..., :3]
    bpy.data.images.remove(image)
    return rgb


def _sine(path: Path, seconds: float = 1.0, rate: int = 16000) -> Path:
    t = np.arange(round(seconds * rate)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
    return path


# Settings and output checks --------------------------------------------------------------------


def test_unknown_engine_lists_the_engines():
    with pytest.raises(InputError, match="eevee.*cycles.*workbench"):
        rnd.RenderSettings(engine="octane")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"resolution": (0, 90)},
        {"resolution": (160,)},
        {"resolution": (160.5, 90)},
        {"resolution": (161, 90), "output": "a.mp4"},
        {"fps": 0},
        {"samples": 0},
        {"frames": (3, 2)},
    ],
)
def test_bad_render_settings_raise(kwargs):
    with pytest.raises(InputError):
        rnd.RenderSettings(**kwargs)


def test_kind_follows_the_suffix():
    assert rnd.RenderSettings(output="x/clip.MP4").kind == "mp4"
    assert rnd.RenderSettings(output="x/frames", resolution=(161, 91)).kind == "png"


def test_check_output_needs_the_folder_and_refuses_unwritable(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        rnd.check_output(tmp_path / "a" / "b" / "v.mp4")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert rnd.check_output(tmp_path / "a" / "b" / "v.mp4") == tmp_path / "a" / "b" / "v.mp4"
    assert (tmp_path / "a" / "b").is_dir()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError):
        rnd.check_output(blocker / "v.mp4")
    with pytest.raises(OutputError):
        rnd.check_output(blocker / "frames")
    assert rnd.check_output(tmp_path / "a") == tmp_path / "a"  # a folder of frames
    (tmp_path / "clip.mp4").mkdir()
    with pytest.raises(OutputError, match="folder"):
        rnd.check_output(tmp_path / "clip.mp4")


def test_configure_sets_engine_resolution_fps_and_colour(empty_scene):
    settings = rnd.RenderSettings(engine="cycles", resolution=(320, 180), fps=25, samples=3)
    rnd.configure(empty_scene, settings, 40)
    r = empty_scene.render
    assert r.engine == "CYCLES" and empty_scene.cycles.samples == 3
    assert empty_scene.cycles.device == "CPU"
    assert (r.resolution_x, r.resolution_y, r.resolution_percentage) == (320, 180, 100)
    assert r.fps / r.fps_base == pytest.approx(25)
    assert (empty_scene.frame_start, empty_scene.frame_end) == (1, 40)
    assert empty_scene.view_settings.view_transform == "AgX"
    rnd.configure(empty_scene, rnd.RenderSettings(engine="eevee"), 1)
    expected = "BLENDER_EEVEE" if bpy.app.version >= (5, 0, 0) else "BLENDER_EEVEE_NEXT"
    assert r.engine == expected and empty_scene.eevee.taa_render_samples == 8
    rnd.configure(empty_scene, rnd.RenderSettings(engine="workbench", fps=29.97), 1)
    assert r.engine == "BLENDER_WORKBENCH"
    shading = empty_scene.display.shading
    assert shading.color_type == "MATERIAL" and shading.light == "STUDIO" and shading.show_shadows
    assert r.fps / r.fps_base == pytest.approx(29.97)
    with pytest.raises(InputError):
        rnd.configure(empty_scene, rnd.RenderSettings(frames=(1, 5)), 4)


# Rendering -------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("engine", "samples"), [("workbench", 1), ("eevee", 1), ("cycles", 4)])
def test_each_engine_renders_the_character(tmp_path, empty_scene, engine, samples):
    focus, bounds = stand_in()
    build_scene(empty_scene, focus=focus, bounds=bounds)
    empty_scene.frame_start, empty_scene.frame_end = 1, 2
    settings = rnd.RenderSettings(
        engine=engine, resolution=SIZE, samples=samples, output=tmp_path / "frames"
    )
    calls = []
    out = rnd.render(empty_scene, settings, None, progress=lambda *a: calls.append(a))
    assert calls == [(1, 2), (2, 2)]
    frames = sorted(out.glob("*.png"))
    assert [p.name for p in frames] == ["frame_000001.png", "frame_000002.png"]
    rgb = _pixels(frames[0])
    assert rgb.shape == (SIZE[1], SIZE[0], 3)
    assert rgb.std() > 0.03
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50
    h, w = rgb.shape[:2]
    # Background per row from the frame's side strips (the gradient runs top to bottom).
    sides = np.concatenate([rgb[:, : w // 8], rgb[:, -w // 8 :]], axis=1).mean(axis=1)
    rows, cols = slice(h // 5, h * 4 // 5), slice(w * 2 // 5, w * 3 // 5)
    differs = np.abs(rgb[rows, cols] - sides[rows, None]).max(axis=-1) > 0.08
    assert differs.mean() > 0.6  # the character fills the centre
    centre, sides = rgb[rows, cols].reshape(-1, 3).mean(axis=0), sides.mean(axis=0)
    # The blue shirt and the skin stand out from the grey background (under Kelvin-warm keys).
    assert centre[2] - centre[0] > sides[2] - sides[0] + 0.02


@pytest.mark.slow
def test_interrupted_render_resumes(tmp_path, empty_scene):
    focus, bounds = stand_in()
    build_scene(empty_scene, focus=focus, bounds=bounds)
    settings = rnd.RenderSettings(engine="workbench", resolution=SIZE, output=tmp_path)
    rnd.configure(empty_scene, settings, 3)
    first = rnd.render_frames(empty_scene, settings, tmp_path)
    kept = first[0].stat().st_mtime_ns
    first[1].unlink()
    first[2].write_bytes(first[2].read_bytes()[:100])  # a frame cut short
    os.utime(first[0], ns=(kept - 10**9, kept - 10**9))
    calls = []
    again = rnd.render_frames(empty_scene, settings, tmp_path, progress=lambda *a: calls.append(a))
    assert again == first
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert first[0].stat().st_mtime_ns == kept - 10**9  # not rendered again
    assert all(_pixels(p).std() > 0.03 for p in again[1:])
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.name for p in first]


# Video -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_mp4_has_h264_and_aac_matching_the_audio(tmp_path, empty_scene):
    focus, bounds = stand_in()
    build_scene(empty_scene, focus=focus, bounds=bounds)
    wav = _sine(tmp_path / "tone.wav", seconds=1.0)
    out = tmp_path / "video" / "talk.mp4"
    out.parent.mkdir()
    settings = rnd.RenderSettings(engine="workbench", resolution=SIZE, fps=30, output=out)
    calls = []
    got = rnd.render(
        empty_scene, settings, wav, work_dir=tmp_path / "work", progress=lambda *a: calls.append(a)
    )
    assert got == out and calls[-1] == (30, 30)
    assert sorted(p.name for p in out.parent.iterdir()) == ["talk.mp4"]  # no temp files left
    video, audio = sorted(probe(out), key=lambda t: t.handler, reverse=True)
    assert (video.handler, video.codec, video.samples) == ("vide", "avc1", 30)
    assert (video.width, video.height) == SIZE
    assert video.duration == pytest.approx(1.0, abs=1 / 30)
    assert (audio.handler, audio.codec, audio.object_type) == ("soun", "mp4a", 0x40)
    assert audio.channels == 1
    assert audio.duration == pytest.approx(1.0, abs=1 / 30)
    assert [s.name for s in bpy.data.scenes] == [empty_scene.name]
    assert len(bpy.data.sounds) == 0
    clip = bpy.data.movieclips.load(str(out))
    assert clip.frame_duration == 30 and tuple(clip.size) == SIZE


def _blank_frames(folder: Path, numbers) -> Path:
    folder.mkdir()
    image = bpy.data.images.new("f", *SIZE)
    image.file_format = "PNG"
    for n in numbers:
        image.filepath_raw = str(folder / f"frame_{n:06d}.png")
        image.save()
    return folder


def test_a_later_run_of_frames_gets_the_matching_audio(tmp_path):
    frames = _blank_frames(tmp_path / "frames", range(16, 31))
    wav = _sine(tmp_path / "tone.wav", seconds=1.0)
    out = rnd.encode_video(frames, wav, tmp_path / "half.mp4", 30, SIZE)
    video, audio = sorted(probe(out), key=lambda t: t.handler, reverse=True)
    assert video.samples == 15 and video.duration == pytest.approx(0.5, abs=1 / 30)
    assert audio.duration == pytest.approx(0.5, abs=1 / 30)


def test_encode_failure_leaves_nothing_at_the_output(tmp_path):
    frames = _blank_frames(tmp_path / "frames", [1])
    out = tmp_path / "out" / "v.mp4"
    with pytest.raises(InputError, match="audio"):
        rnd.encode_video(frames, tmp_path / "missing.wav", out, 30, SIZE)
    (frames / "frame_000003.png").write_bytes((frames / "frame_000001.png").read_bytes())
    with pytest.raises(InputError, match="contiguous"):
        rnd.encode_video(frames, None, out, 30, SIZE)
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_encode_rejects_frames_that_do_not_match_the_audio(tmp_path):
    frames = _blank_frames(tmp_path / "frames", [1, 2, 3])
    wav = _sine(tmp_path / "tone.wav", seconds=1.0)
    with pytest.raises(InputError, match="do not match"):
        rnd.encode_video(frames, wav, tmp_path / "v.mp4", 30, SIZE)
    assert not (tmp_path / "v.mp4").exists()
