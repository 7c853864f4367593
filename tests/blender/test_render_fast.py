# SPDX-License-Identifier: GPL-3.0-or-later
"""The fast Cycles path (background once + character crops), output formats and worker shards,
on the cheap stand-in character of test_render."""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from mp4probe import probe  # noqa: E402
from test_render import _pixels, stand_in  # noqa: E402

from paksatalker.core.errors import InputError  # noqa: E402
from paksatalker.scenes import fast, workers  # noqa: E402
from paksatalker.scenes import render as rnd  # noqa: E402
from paksatalker.scenes.output import nearest_aspect, resolution_for  # noqa: E402
from paksatalker.scenes.studio import SceneSettings, build_scene  # noqa: E402

pytestmark = pytest.mark.blender
SIZE = (96, 54)


@pytest.fixture(autouse=True)
def empty_scene():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return bpy.context.scene


def _studio(scene, **kw):
    focus, bounds = stand_in()
    settings = SceneSettings(background="studio_room", camera="full_body", **kw)
    build_scene(scene, focus=focus, bounds=bounds, settings=settings)
    scene.frame_end = 2
    return settings


def _cycles(out, **kw):
    return rnd.RenderSettings(engine="cycles", resolution=SIZE, samples=4, output=out, **kw)


def test_fast_path_matches_the_full_render_and_reuses_its_background(tmp_path, empty_scene):
    _studio(empty_scene)
    full = rnd.render(empty_scene, _cycles(tmp_path / "full", fast=False), None)
    fast_out = tmp_path / "fast"
    got = rnd.render(empty_scene, _cycles(fast_out, layers=True), None)
    (background,) = fast_out.glob(".background-*.exr")
    made = background.stat().st_mtime_ns
    a, b = _pixels(full / "frame_000002.png"), _pixels(got / "frame_000002.png")
    assert np.abs(a - b).mean() < 0.03  # the same picture, up to 4-sample noise
    floor = a[-6:, :].mean()  # the floor under the feet is lit alike, shadow included
    assert b[-6:, :].mean() == pytest.approx(floor, abs=0.05)
    layers = tmp_path / "fast_layers"
    assert (layers / "background.exr").is_file()
    avatar = bpy.data.images.load(str(layers / "avatar" / "avatar_000002.png"))
    alpha = np.array(avatar.pixels[:]).reshape(SIZE[1], SIZE[0], 4)[..., 3]
    assert alpha[:, :5].max() < 0.05 and alpha.max() > 0.9  # the character alone
    # Restored afterwards; a second run finds the frames and the background done.
    floor_obj = next(o for o in empty_scene.objects if o.get("paksatalker_role") == "floor")
    assert not floor_obj.is_shadow_catcher and not empty_scene.render.use_border
    rnd.render(empty_scene, _cycles(fast_out), None)
    assert background.stat().st_mtime_ns == made


def test_character_box_and_when_the_fast_path_applies(tmp_path, empty_scene):
    _studio(empty_scene)
    settings = _cycles(tmp_path)
    rnd.configure(empty_scene, settings, 2)
    assert rnd.fast_applies(empty_scene, settings)
    assert not rnd.fast_applies(empty_scene, _cycles(tmp_path, fast=False))
    people = fast.character_objects(empty_scene)
    assert {o.name for o in people} >= {"Body", "Head"}
    x0, x1, y0, y1 = fast.screen_box(empty_scene, people)
    assert 0.3 < x0 < x1 < 0.7 and (x1 - x0) * (y1 - y0) < 0.4  # a thin figure, a small box
    _studio(empty_scene, handheld=0.5)
    assert not rnd.fast_applies(empty_scene, settings)  # the camera moves
    assert not rnd.fast_applies(empty_scene, rnd.RenderSettings(engine="eevee"))


def test_exr_sequence_and_prores_with_alpha(tmp_path, empty_scene):
    focus, bounds = stand_in()
    build_scene(empty_scene, focus=focus, bounds=bounds,
                settings=SceneSettings(background="transparent"))
    empty_scene.frame_end = 2
    exr = rnd.render(empty_scene, rnd.RenderSettings(engine="workbench", resolution=SIZE,
                                                     output=tmp_path / "seq.exr"), None)
    files = sorted(exr.glob("frame_*.exr"))
    assert [p.name for p in files] == ["frame_000001.exr", "frame_000002.exr"]
    image = bpy.data.images.load(str(files[0]))
    assert image.is_float and image.channels == 4
    mov = rnd.render(empty_scene, rnd.RenderSettings(engine="workbench", resolution=SIZE,
                                                     output=tmp_path / "clip.mov"), None)
    (video,) = probe(mov)
    assert video.codec == "ap4h" and video.samples == 2  # ProRes 4444 keeps the alpha


def test_sizes_aspects_and_shards():
    assert resolution_for("720p") == (1280, 720)
    assert resolution_for("4k", "9:16") == (2160, 3840)
    assert resolution_for("1080p", "1:1") == (1080, 1080)
    assert resolution_for("1440p") == (2560, 1440)
    assert nearest_aspect((1080, 1920)) == "9:16" and nearest_aspect((500, 480)) == "1:1"
    with pytest.raises(InputError):
        resolution_for("8k")
    assert workers.shards(1, 10, 3) == [(1, 3), (4, 7), (8, 10)]
    assert workers.shards(5, 6, 4) == [(5, 5), (6, 6)]
    args = workers.child_args(
        ["--text", "Hi", "--engine", "cycles", "--workers=2", "--out", "x.mp4", "--toon"],
        performance="p.npz", audio="p.wav", out="f", frames=(4, 7))
    assert args == ["--engine", "cycles", "--toon", "--performance", "p.npz", "--audio", "p.wav",
                    "--out", "f", "--frames", "4:7"]


def test_fast_path_keeps_a_plate_compositor(tmp_path, empty_scene):
    focus, bounds = stand_in()
    build_scene(empty_scene, focus=focus, bounds=bounds,
                settings=SceneSettings(background="green_screen"))
    empty_scene.frame_end = 1
    original = empty_scene.compositing_node_group
    out = rnd.render(empty_scene, _cycles(tmp_path / "g"), None)
    px = _pixels(out / "frame_000001.png")
    assert np.allclose(px[0, 0], (0.0, 1.0, 0.0), atol=1 / 255)  # the crop left the plate alone
    assert px[:, SIZE[0] // 2].std() > 0.05  # and the character is there
    assert empty_scene.compositing_node_group == original  # restored after
