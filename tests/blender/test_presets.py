# SPDX-License-Identifier: GPL-3.0-or-later
"""Every scene preset renders on the bundled avatar, and presets differ where they should.

One avatar for the module; each test rebuilds the studio around it and renders 96x54 frames
(Cycles at 2 samples where lights matter, Workbench where they do not). Checks are numbers: mean
colours inside the character's alpha mask, corner colours, coverage, contrast.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from paksatalker.core.errors import InputError  # noqa: E402
from paksatalker.rigs.anny_avatar import build_avatar  # noqa: E402
from paksatalker.scenes import render as rnd  # noqa: E402
from paksatalker.scenes.output import encode_video  # noqa: E402
from paksatalker.scenes.post import GRADES, PostSettings  # noqa: E402
from paksatalker.scenes.studio import CAMERAS, LIGHTINGS, SceneSettings, build_scene  # noqa: E402
from paksatalker.shaders.toon import TOON_TAG, apply_toon  # noqa: E402

pytestmark = pytest.mark.blender
SIZE = (96, 54)
CYCLES_SIZE = (64, 36)


@pytest.fixture(scope="module")
def avatar():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    built = build_avatar()
    bpy.context.scene.frame_set(1)
    return built


def shot(avatar, folder: Path, settings: SceneSettings, *, engine="cycles", samples=1,
         size=None, frames=(1, 1)) -> list[np.ndarray]:
    """Build the studio with ``settings`` and render; RGBA float arrays, top row first."""
    scene = bpy.context.scene
    build_scene(scene, focus=avatar.eye_midpoint(), bounds=avatar.bounds(), settings=settings)
    size = size or (SIZE if engine == "workbench" else CYCLES_SIZE)
    rs = rnd.RenderSettings(engine=engine, resolution=size, samples=samples, frames=frames,
                            output=folder, fast=False, denoise=False)
    rnd.configure(scene, rs, max(frames[1], 1))
    scene.cycles.max_bounces = 2
    out = []
    for path in rnd.render_frames(scene, rs, folder):
        image = bpy.data.images.load(str(path))
        w, h = image.size
        px = np.array(image.pixels[:], dtype=np.float32).reshape(h, w, 4)[::-1]
        bpy.data.images.remove(image)
        out.append(px)
    return out


def _png(path: Path, rgb: np.ndarray) -> Path:
    """Write an (h, w, 3) float image, top row first, as an 8-bit PNG."""
    h, w = rgb.shape[:2]
    image = bpy.data.images.new(path.stem, w, h)
    rgba = np.concatenate([rgb, np.ones((h, w, 1))], axis=-1)[::-1]
    image.pixels.foreach_set(rgba.astype(np.float32).ravel())
    image.filepath_raw = str(path)
    image.file_format = "PNG"
    image.save()
    bpy.data.images.remove(image)
    return path


def _corners(px: np.ndarray) -> np.ndarray:
    return np.concatenate([px[:6, :10, :3], px[:6, -10:, :3]]).reshape(-1, 3).mean(axis=0)


# Lighting --------------------------------------------------------------------------------------


def test_lighting_presets_light_the_character_differently(avatar, tmp_path):
    means, balance = {}, {}
    for name in LIGHTINGS:
        (px,) = shot(avatar, tmp_path / name, SceneSettings(lighting=name, background="transparent",
                                                             dof=False))
        mask = px[..., 3] > 0.9
        assert mask.mean() > 0.15, name  # the character is in the frame
        rgb = px[..., :3][mask]
        means[name] = rgb.mean(axis=0)
        assert means[name].max() > 0.08, f"{name} leaves the character dark"
        cols = np.nonzero(mask.any(axis=0))[0]
        mid = (cols[0] + cols[-1]) // 2
        left = px[:, cols[0]:mid, :3][mask[:, cols[0]:mid]].mean()
        right = px[:, mid:cols[-1], :3][mask[:, mid:cols[-1]]].mean()
        balance[name] = left / max(right, 1e-4)
    for a, b in itertools.combinations(LIGHTINGS, 2):
        assert np.abs(means[a] - means[b]).max() > 0.004, (a, b)
    warmth = {k: v[0] / v[2] for k, v in means.items()}
    assert warmth["sunset"] > warmth["window_daylight"] + 0.1
    # The dramatic key comes hard from camera-left with no fill: a lopsided face.
    assert balance["dramatic"] > balance["news_desk"]
    assert balance["dramatic"] > 1.3


def test_kelvin_intensity_and_softness_options(avatar, tmp_path):
    warm, cool = (shot(avatar, tmp_path / n, SceneSettings(background="transparent", dof=False,
                                                           temperature=k))[0]
                  for n, k in (("w", 2500), ("c", 9000)))
    mask = warm[..., 3] > 0.9
    ratio = [px[..., 0][mask].mean() / px[..., 2][mask].mean() for px in (warm, cool)]
    assert ratio[0] > ratio[1] + 0.1
    focus, bounds = avatar.eye_midpoint(), avatar.bounds()
    scene = bpy.context.scene
    plain = build_scene(scene, focus=focus, bounds=bounds)
    energy, size = plain["key"].data.energy, plain["key"].data.size
    tuned = build_scene(scene, focus=focus, bounds=bounds,
                        settings=SceneSettings(intensity=0.5, softness=2.0))
    assert tuned["key"].data.energy == pytest.approx(0.5 * energy)
    assert tuned["key"].data.size == pytest.approx(2.0 * size)
    with pytest.raises(InputError):
        SceneSettings(temperature=100)


# Camera ----------------------------------------------------------------------------------------


def test_camera_presets_frame_tighter_to_wider(avatar, tmp_path):
    coverage, extent = {}, {}
    for name in CAMERAS:
        (px,) = shot(avatar, tmp_path / name, SceneSettings(camera=name, background="transparent"),
                     engine="workbench", samples=1)
        mask = px[..., 3] > 0.5
        coverage[name] = mask.mean()
        rows = np.nonzero(mask.any(axis=1))[0]
        extent[name] = (rows[0], rows[-1])
    assert coverage["close_up"] > coverage["medium"] > coverage["medium_wide"]
    assert coverage["medium_wide"] > coverage["full_body"]
    top, bottom = extent["full_body"]
    assert top > 0 and bottom < SIZE[1] - 1  # head and feet both inside
    assert extent["close_up"][1] == SIZE[1] - 1  # the chest runs out of the bottom


@pytest.mark.parametrize(("aspect", "size"), [("9:16", (54, 96)), ("1:1", (64, 64))])
def test_aspects_keep_the_character_framed(avatar, tmp_path, aspect, size):
    (px,) = shot(avatar, tmp_path, SceneSettings(aspect=aspect, background="transparent"),
                 engine="workbench", samples=1, size=size)
    mask = px[..., 3] > 0.5
    cols = np.nonzero(mask.any(axis=0))[0]
    rows = np.nonzero(mask.any(axis=1))[0]
    assert px.shape[:2] == (size[1], size[0])
    assert rows[0] > 0  # the crown is inside
    assert abs((cols[0] + cols[-1]) / 2 - size[0] / 2) < 0.1 * size[0]  # centred


def test_handheld_moves_and_motion_blur_is_set(avatar, tmp_path):
    settings = SceneSettings(handheld=1.0, seed=3, motion_blur=True, background="transparent")
    (first,) = shot(avatar, tmp_path / "a", settings, engine="workbench")
    (later,) = shot(avatar, tmp_path / "b", settings, engine="workbench", frames=(40, 40))
    scene = bpy.context.scene
    assert scene.render.use_motion_blur
    assert np.abs(first[..., 3] - later[..., 3]).mean() > 0.002  # the frame drifted
    cam = scene.camera
    scene.frame_set(1)
    a = cam.matrix_world.copy()
    scene.frame_set(40)
    assert (cam.matrix_world.translation - a.translation).length < 0.05  # gently


# Backgrounds -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plates")
    h, w = 36, 64
    rgb = np.zeros((h, w, 3))
    rgb[..., 0] = np.linspace(0, 1, w)[None]  # red ramp
    rgb[::4, :, 2] = 1.0  # fine blue stripes: detail that a blur removes
    keyed = rgb.copy()
    keyed[:, : w // 2] = (0.0, 1.0, 0.0)  # a green-screen half
    return _png(folder / "plate.png", rgb), _png(folder / "keyed.png", keyed)


def test_world_backgrounds_differ(avatar, tmp_path):
    corner = {}
    for kind in ("gradient", "solid", "studio_room", "sky"):
        settings = SceneSettings(background=kind, bg_bottom=(0.5, 0.1, 0.1))
        (px,) = shot(avatar, tmp_path / kind, settings, samples=1)
        corner[kind] = _corners(px)
    assert corner["solid"][0] > 1.5 * corner["solid"][2]  # the red solid colour
    assert corner["sky"][2] > corner["sky"][0]  # blue sky
    for a, b in itertools.combinations(corner, 2):
        assert np.abs(corner[a] - corner[b]).max() > 0.02, (a, b)


def test_hdri_file_lights_and_shows(avatar, tmp_path):
    hdr = bpy.data.images.new("env", 16, 8, float_buffer=True)
    px = np.zeros((8, 16, 4), np.float32)
    px[..., 1] = 2.0  # a bright green world
    px[..., 3] = 1.0
    hdr.pixels.foreach_set(px.ravel())
    hdr.filepath_raw = str(tmp_path / "env.exr")
    hdr.file_format = "OPEN_EXR"
    hdr.save()
    (img,) = shot(avatar, tmp_path / "r", SceneSettings(background="hdri",
                                                        background_file=tmp_path / "env.exr"))
    c = _corners(img)
    assert c[1] > c[0] + 0.2 and c[1] > c[2] + 0.2


def test_plates_image_blur_key_and_green_screen(avatar, tmp_path, plate):
    image, keyed = plate
    got = {}
    for kind, path in (("image", image), ("blurred_image", image), ("chroma_key", keyed),
                       ("green_screen", None)):
        settings = SceneSettings(background=kind, background_file=path, bg_bottom=(0.2, 0.2, 0.8))
        (got[kind],) = shot(avatar, tmp_path / kind, settings, engine="workbench", samples=1)
    green = got["green_screen"]
    assert np.allclose(green[0, 0, :3], (0.0, 1.0, 0.0), atol=1 / 255)  # exact key colour
    left, right = got["image"][:, :8, :3].mean(axis=(0, 1)), got["image"][:, -8:, :3].mean((0, 1))
    assert right[0] > left[0] + 0.5  # the plate's red ramp, untouched
    detail = {k: np.abs(np.diff(got[k][:, :8, 2], axis=0)).mean()
              for k in ("image", "blurred_image")}
    assert detail["blurred_image"] < 0.5 * detail["image"]
    keyed_left = got["chroma_key"][:, :8, :3].mean(axis=(0, 1))
    assert keyed_left[1] < 0.5 and keyed_left[2] > keyed_left[1]  # green keyed out to blue


def test_video_plate_follows_the_frames(avatar, tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i, rgb in enumerate([(0.9, 0.1, 0.1), (0.1, 0.1, 0.9)], start=1):
        _png(frames / f"frame_{i:06d}.png", np.full((36, 64, 3), rgb))
    video = encode_video(frames, None, tmp_path / "plate.mp4", 30, (64, 36))
    settings = SceneSettings(background="video", background_file=video)
    first, second = shot(avatar, tmp_path / "r", settings, engine="workbench", samples=1,
                         frames=(1, 2))
    assert _corners(first)[0] > _corners(first)[2] + 0.3
    assert _corners(second)[2] > _corners(second)[0] + 0.3


def test_missing_or_unneeded_background_file(tmp_path):
    with pytest.raises(InputError, match="needs a file"):
        SceneSettings(background="image")
    with pytest.raises(InputError, match="not found"):
        SceneSettings(background="image", background_file=tmp_path / "nope.png")
    with pytest.raises(InputError, match="takes no file"):
        SceneSettings(background="solid", background_file=__file__)


# Post ------------------------------------------------------------------------------------------


def test_grades_looks_and_effects_change_the_image(avatar, tmp_path):
    def render(frames=(1, 1), **kw):
        return shot(avatar, tmp_path / str(len(list(tmp_path.iterdir()))),
                    SceneSettings(post=PostSettings(**kw)), engine="workbench", samples=1,
                    frames=frames)

    base, base2 = render(frames=(1, 2))
    means = {"neutral": base[..., :3].mean(axis=(0, 1))}
    for grade in GRADES:
        if grade != "neutral":
            means[grade] = render(grade=grade)[0][..., :3].mean(axis=(0, 1))
    for a, b in itertools.combinations(means, 2):
        assert np.abs(means[a] - means[b]).max() > 0.005, (a, b)
    noir = render(grade="noir")[0][..., :3]
    assert np.abs(noir - noir.mean(axis=-1, keepdims=True)).max() < 0.02  # no colour left
    assert means["warm"][0] / means["warm"][2] > means["cool"][0] / means["cool"][2]
    punchy = render(look="punchy")[0]
    low = render(look="low_contrast")[0]
    contrast = [px[..., :3].std() / px[..., :3].mean() for px in (punchy, low)]
    assert contrast[0] > contrast[1] + 0.02
    assert render(view="filmic")[0][..., :3].mean() != pytest.approx(base[..., :3].mean(),
                                                                     abs=1e-3)
    vig = render(vignette=1.0)[0]
    corner_drop = _corners(vig).mean() / _corners(base).mean()
    centre = (slice(20, 34), slice(40, 56))
    assert corner_drop < 0.8 and vig[centre].mean() > 0.9 * base[centre].mean()
    g1, g2 = render(grain=1.0, frames=(1, 2))
    assert np.abs(g1 - base).mean() > 0.005 and np.abs(g1 - g2).mean() > np.abs(base - base2
                                                                                 ).mean() + 0.005
    for effect in ({"bloom": 1.0}, {"sharpen": 1.0}, {"lens_distortion": -0.3},
                   {"chromatic_aberration": 1.0}):
        assert np.abs(render(**effect)[0] - base).mean() > 0.001, effect


def test_bad_post_settings():
    for kw in ({"view": "log"}, {"look": "punchy", "view": "filmic"}, {"grade": "sepia"},
               {"grain": 2.0}, {"lens_distortion": 3.0}):
        with pytest.raises(InputError):
            PostSettings(**kw)


# Toon (last: it changes the shared avatar's materials) -----------------------------------------


def test_toon_look_replaces_materials_and_outlines(avatar, tmp_path):
    settings = SceneSettings(background="transparent", dof=False)
    (real,) = shot(avatar, tmp_path / "real", settings)
    changed = apply_toon(avatar.objects)
    assert changed > 5
    assert apply_toon(avatar.objects) == 0  # idempotent
    body = avatar.body
    assert all(m.get(TOON_TAG) for m in body.data.materials)
    assert any(m.type == "SOLIDIFY" and m.use_flip_normals for m in body.modifiers)
    (toon,) = shot(avatar, tmp_path / "toon", settings)
    mask = (real[..., 3] > 0.9) & (toon[..., 3] > 0.9)
    assert np.abs(toon[..., :3][mask] - real[..., :3][mask]).mean() > 0.02
