# SPDX-License-Identifier: GPL-3.0-or-later
"""Materials and the studio scene: node trees, reuse rules, camera framing, lights, background."""

from __future__ import annotations

import math

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from bpy_extras.object_utils import world_to_camera_view  # noqa: E402
from mathutils import Vector  # noqa: E402

from paksatalker.core.errors import InputError  # noqa: E402
from paksatalker.scenes.render import RenderSettings, configure, render_frames  # noqa: E402
from paksatalker.scenes.studio import SceneSettings, build_scene  # noqa: E402
from paksatalker.shaders import materials  # noqa: E402

pytestmark = pytest.mark.blender


@pytest.fixture(autouse=True)
def empty_scene():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return bpy.context.scene


def _human(height: float):
    """Eye midpoint and world box of a character ``height`` tall standing on z=0, facing -Y."""
    s = height / 1.7
    return (0.0, -0.1 * s, 1.59 * s), ((-0.25 * s, -0.15 * s, 0.0), (0.25 * s, 0.15 * s, 1.7 * s))


def _instance(mat):
    """The material's node-group node (its inputs hold the material's own values)."""
    return next(n for n in mat.node_tree.nodes if n.bl_idname == "ShaderNodeGroup")


def _group(mat):
    """The shader node group a material instances."""
    return _instance(mat).node_tree


def _principled(mat):
    return next(n for n in _group(mat).nodes if n.bl_idname == "ShaderNodeBsdfPrincipled")


# Materials -------------------------------------------------------------------------------------


def test_every_material_builds_a_tagged_node_tree():
    made = [
        materials.skin_material(),
        materials.eye_material(),
        materials.cloth_material("PT_Shirt", (0.1, 0.2, 0.4)),
        materials.hair_material("PT_Hair", (0.05, 0.03, 0.02)),
        materials.teeth_material(),
        materials.mouth_material(),
    ]
    for mat in made:
        assert isinstance(mat, bpy.types.Material)
        assert mat[materials.TAG] == mat.name
        out = next(n for n in mat.node_tree.nodes if n.bl_idname == "ShaderNodeOutputMaterial")
        assert out.inputs["Surface"].is_linked, mat.name
    assert len({m.name for m in made}) == len(made)


def test_skin_scatters_and_varies():
    mat = materials.skin_material(tone=(0.7, 0.5, 0.4))
    bsdf = _principled(mat)
    assert bsdf.inputs["Subsurface Weight"].default_value > 0.5
    radius = bsdf.inputs["Subsurface Radius"].default_value
    assert radius[0] > radius[1] > radius[2]  # red scatters furthest
    assert bsdf.inputs["Subsurface Scale"].is_linked  # from the group's input
    scale = _group(mat).interface.items_tree["Subsurface Scale"].default_value
    assert radius[0] * scale < 0.02  # millimetres, not cm
    assert bsdf.inputs["Base Color"].is_linked and bsdf.inputs["Roughness"].is_linked
    assert bsdf.inputs["Normal"].is_linked
    assert any(n.bl_idname == "ShaderNodeTexNoise" for n in _group(mat).nodes)
    assert tuple(mat.diffuse_color)[:3] == pytest.approx((0.7, 0.5, 0.4))


def test_eye_uses_object_coordinates_and_a_wet_coat():
    mat = materials.eye_material(iris_color=(0.3, 0.2, 0.1))
    coords = next(n for n in _group(mat).nodes if n.bl_idname == "ShaderNodeTexCoord")
    assert coords.outputs["Object"].is_linked
    bsdf = _principled(mat)
    assert bsdf.inputs["Coat Weight"].default_value >= 0.9
    assert bsdf.inputs["Coat Roughness"].is_linked
    assert _instance(mat).inputs["Wetness Roughness"].default_value < 0.1


def test_cloth_and_hair_have_sheen_and_bump():
    coat = materials.cloth_material("PT_Coat", (0.2, 0.2, 0.2), roughness=0.6)
    cloth = _principled(coat)
    assert cloth.inputs["Sheen Weight"].default_value > 0.2
    assert _instance(coat).inputs["Roughness"].default_value == pytest.approx(0.6)
    assert cloth.inputs["Normal"].is_linked
    hair = _principled(materials.hair_material("PT_Hair", (0.3, 0.2, 0.1)))
    assert hair.inputs["Normal"].is_linked and hair.inputs["Base Color"].is_linked


def test_materials_share_one_node_group_per_kind():
    a = materials.skin_material("PT_A", tone=(0.8, 0.6, 0.5))
    b = materials.skin_material("PT_B", tone=(0.3, 0.2, 0.1))
    assert _group(a) is _group(b) and _group(a).name.startswith("PT_SkinShader")
    tones = [next(n for n in m.node_tree.nodes if n.bl_idname == "ShaderNodeGroup")
             .inputs["Tone"].default_value[:3] for m in (a, b)]
    assert tones[0] != pytest.approx(tones[1])
    kinds = {_group(m).name for m in (a, materials.eye_material(), materials.teeth_material(),
                                      materials.hair_material("PT_H", (0.1, 0.1, 0.1)),
                                      materials.cloth_material("PT_C", (0.1, 0.1, 0.1)))}
    assert len(kinds) == 5


def test_our_material_is_reused_and_rebuilt():
    first = materials.skin_material(tone=(0.8, 0.6, 0.5))
    again = materials.skin_material(tone=(0.4, 0.3, 0.2))
    assert again == first
    assert len(bpy.data.materials) == 1
    assert tuple(again.diffuse_color)[:3] == pytest.approx((0.4, 0.3, 0.2))


def test_a_users_material_of_the_same_name_is_left_alone():
    theirs = bpy.data.materials.new("PT_Skin")
    theirs.diffuse_color = (1.0, 0.0, 0.0, 1.0)
    ours = materials.skin_material()
    assert ours != theirs and ours.name != "PT_Skin"
    assert tuple(theirs.diffuse_color) == pytest.approx((1.0, 0.0, 0.0, 1.0))
    assert materials.TAG not in theirs
    assert materials.skin_material() == ours


@pytest.mark.slow
def test_eye_renders_pupil_iris_and_sclera(tmp_path, empty_scene):
    """An eyeball looking at the camera: black centre, blue ring, light outside."""
    bpy.ops.mesh.primitive_uv_sphere_add(radius=0.012, location=(0, 0, 0.1), segments=48)
    eye = bpy.context.active_object
    eye.data.materials.append(materials.eye_material(iris_color=(0.1, 0.3, 0.7)))
    bounds = ((-0.013, -0.013, 0.0), (0.013, 0.013, 0.113))
    build_scene(
        empty_scene,
        focus=(0.0, -0.012, 0.1),
        bounds=bounds,
        settings=SceneSettings(camera="close_up", dof=False),
    )
    settings = RenderSettings(engine="cycles", resolution=(64, 64), samples=4, output=tmp_path)
    configure(empty_scene, settings, 1)
    (frame,) = render_frames(empty_scene, settings, tmp_path)
    image = bpy.data.images.load(str(frame))
    px = np.array(image.pixels[:]).reshape(64, 64, 4)[..., :3]
    centre = world_to_camera_view(empty_scene, empty_scene.camera, Vector((0, -0.012, 0.1)))
    cx, cy = round(centre.x * 63), round(centre.y * 63)
    # Eye radius on screen in pixels: the frame holds 4.5 crown-heights of 0.013 m vertically.
    r = 64 * 0.012 / (4.5 * 0.013)
    pupil = px[cy, cx]
    iris = px[cy, round(cx + 0.32 * r)]
    sclera = px[cy, round(cx + 0.75 * r)]
    assert pupil.max() < 0.12
    assert iris[2] > iris[0] + 0.1
    assert abs(sclera[0] - sclera[2]) < 0.06 and sclera.min() > pupil.max() + 0.2


# Studio ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"camera": "wide"},
        {"lighting": "disco"},
        {"background": "hologram"},
        {"aspect": "4:3"},
        {"handheld": 2.0},
        {"fstop": 0.0},
        {"bg_top": (0.1, 0.2)},
        {"bg_bottom": (0.1, 0.2, 1.5)},
    ],
)
def test_bad_scene_settings_raise(kwargs):
    with pytest.raises(InputError):
        SceneSettings(**kwargs)


def test_unknown_camera_lists_choices():
    with pytest.raises(InputError, match="close_up, medium, medium_wide, full_body"):
        SceneSettings(camera="wide")


def test_bad_bounds_raise(empty_scene):
    with pytest.raises(InputError):
        build_scene(empty_scene, focus=(0, 0, 1.6), bounds=((0, 0, 0), (0, 0, 0)))
    with pytest.raises(InputError):
        build_scene(empty_scene, focus=(0, 0, 2.5), bounds=((-1, -1, 0), (1, 1, 1.7)))


def test_roles_lights_and_depth_of_field(empty_scene):
    focus, bounds = _human(1.7)
    objs = build_scene(empty_scene, focus=focus, bounds=bounds, settings=SceneSettings(fstop=4))
    assert set(objs) == {"camera", "focus", "key", "fill", "rim"}
    cam = objs["camera"]
    assert empty_scene.camera == cam
    assert 50 <= cam.data.lens <= 85
    assert cam.data.dof.use_dof and cam.data.dof.focus_object == objs["focus"]
    assert cam.data.dof.aperture_fstop == pytest.approx(4)
    assert tuple(objs["focus"].location) == pytest.approx(focus)
    eye = Vector(focus)
    for role in ("key", "fill", "rim"):
        light = objs[role]
        assert light.data.type == "AREA" and light.data.energy > 0
        assert not light.visible_camera
        # Each light's -Z axis points at the eyes.
        aim = light.matrix_world.to_3x3() @ Vector((0, 0, -1))
        assert aim.angle(eye - light.location) < 1e-3
    assert objs["key"].location.x < eye.x < objs["fill"].location.x  # key camera-left
    assert objs["key"].location.z > eye.z
    assert objs["rim"].location.y > eye.y  # behind the character
    key, fill = objs["key"], objs["fill"]
    irradiance = [o.data.energy / (o.location - eye).length_squared for o in (key, fill)]
    assert irradiance[0] > 3 * irradiance[1]


def _screen(scene, point):
    """Normalised frame position (0..1, y up) of a world point."""
    scene.render.resolution_x, scene.render.resolution_y = 1920, 1080
    return world_to_camera_view(scene, scene.camera, Vector(point))


@pytest.mark.parametrize("height", [0.5, 1.7, 3.0])
def test_medium_shot_frames_head_to_waist_at_any_size(empty_scene, height):
    focus, bounds = _human(height)
    build_scene(empty_scene, focus=focus, bounds=bounds)
    assert _screen(empty_scene, focus).y == pytest.approx(2 / 3, abs=0.01)
    assert _screen(empty_scene, focus).x == pytest.approx(0.5, abs=1e-3)
    crown = _screen(empty_scene, (0, 0, bounds[1][2])).y
    assert 0.7 < crown < 0.95
    waist = _screen(empty_scene, (0, 0, 0.6 * bounds[1][2])).y
    assert 0.0 < waist < 0.15
    assert _screen(empty_scene, (0, 0, 0)).y < 0  # feet out of frame
    camera = empty_scene.camera
    assert camera.location.y < bounds[0][1]
    assert camera.data.dof.focus_object.location.y - camera.location.y > 0


def test_light_power_scales_with_character_size(empty_scene):
    small = build_scene(empty_scene, focus=_human(0.85)[0], bounds=_human(0.85)[1])
    small_key = small["key"].data.energy
    big = build_scene(empty_scene, focus=_human(1.7)[0], bounds=_human(1.7)[1])
    assert big["key"].data.energy == pytest.approx(4 * small_key, rel=1e-4)


def test_close_up_and_full_body_framing(empty_scene):
    focus, bounds = _human(1.7)
    build_scene(empty_scene, focus=focus, bounds=bounds, settings=SceneSettings(camera="close_up"))
    close_lens = empty_scene.camera.data.lens
    assert _screen(empty_scene, focus).y == pytest.approx(2 / 3, abs=0.01)
    assert _screen(empty_scene, (0, 0, 1.7)).y < 1.0
    assert _screen(empty_scene, (0, 0, 1.2)).y < 0  # chest out of frame
    build_scene(empty_scene, focus=focus, bounds=bounds, settings=SceneSettings(camera="full_body"))
    assert empty_scene.camera.data.lens < close_lens
    assert 0.0 < _screen(empty_scene, (0, 0, 0)).y < 0.1
    assert 0.9 < _screen(empty_scene, (0, 0, 1.7)).y < 1.0


def test_building_again_replaces_the_studio(empty_scene):
    focus, bounds = _human(1.7)
    build_scene(empty_scene, focus=focus, bounds=bounds)
    objs = build_scene(empty_scene, focus=focus, bounds=bounds)
    assert len(bpy.data.objects) == len(objs)
    assert len(bpy.data.lights) == 3 and len(bpy.data.cameras) == 1
    assert len(bpy.data.worlds) == 1


def test_gradient_background_and_transparent_film(empty_scene):
    focus, bounds = _human(1.7)
    top, bottom = (0.1, 0.1, 0.3), (0.3, 0.3, 0.3)
    settings = SceneSettings(bg_top=list(top), bg_bottom=bottom)
    assert settings.bg_top == top  # stored as a tuple: hashable, like the rest
    build_scene(empty_scene, focus=focus, bounds=bounds, settings=settings)
    world = empty_scene.world
    nodes = world.node_tree.nodes
    assert any(n.bl_idname == "ShaderNodeTexCoord" and n.outputs["Window"].is_linked for n in nodes)
    ramp = next(n for n in nodes if n.bl_idname == "ShaderNodeValToRGB")
    colours = [tuple(e.color)[:3] for e in ramp.color_ramp.elements]
    assert colours == [pytest.approx(bottom), pytest.approx(top)]
    assert tuple(world.color) == pytest.approx((0.2, 0.2, 0.3))  # Workbench background
    assert not empty_scene.render.film_transparent
    settings = SceneSettings(background="transparent")
    build_scene(empty_scene, focus=focus, bounds=bounds, settings=settings)
    assert empty_scene.render.film_transparent


def test_lens_is_a_35mm_equivalent(empty_scene):
    focus, bounds = _human(1.7)
    cam = build_scene(empty_scene, focus=focus, bounds=bounds)["camera"].data
    diagonal = math.hypot(cam.sensor_width, cam.sensor_height)
    assert 40 < diagonal < 44
