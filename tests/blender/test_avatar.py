# SPDX-License-Identifier: GPL-3.0-or-later
"""The bundled anny avatar in Blender: build, keys, rig, retargeted performance, renders."""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytest.importorskip("anny")

from mathutils import Vector  # noqa: E402
from mathutils.bvhtree import BVHTree  # noqa: E402

from paksatalker.core.body.skeleton import forward_kinematics  # noqa: E402
from paksatalker.core.errors import InputError  # noqa: E402
from paksatalker.core.names import ARKIT_52, ARKIT_INDEX, JOINT_INDEX  # noqa: E402
from paksatalker.core.retarget import SMPLX_TO_BLENDER  # noqa: E402
from paksatalker.core.types import BodyTrack, FaceTrack, Performance, Speech  # noqa: E402
from paksatalker.rigs.anny_avatar import build_avatar  # noqa: E402
from paksatalker.rigs.anny_data import Phenotype  # noqa: E402
from paksatalker.rigs.retarget import apply_performance  # noqa: E402

pytestmark = pytest.mark.blender

EXTREME = Phenotype(gender=0.0, age=1.0, weight=1.0, muscle=1.0, height=0.0, proportions=1.0,
                    african=1.0, asian=0.0, caucasian=0.0)
FPS = 25
FRAMES = 6


@pytest.fixture(scope="module")
def avatar():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return build_avatar()


def _evaluated(obj) -> tuple[np.ndarray, list, np.ndarray]:
    """World-space evaluated vertices (N,3), polygons and material indices of a mesh object."""
    dg = bpy.context.evaluated_depsgraph_get()
    ev = obj.evaluated_get(dg)
    me = ev.to_mesh()
    co = np.empty(len(me.vertices) * 3)
    me.vertices.foreach_get("co", co)
    polys = [tuple(p.vertices) for p in me.polygons]
    mats = np.empty(len(me.polygons), dtype=np.int32)
    me.polygons.foreach_get("material_index", mats)
    mw = np.array(obj.matrix_world)
    ev.to_mesh_clear()
    co = co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3]
    return co, polys, mats


def _set_jaw(av, value: float) -> None:
    for key in av.shape_keys():
        if key.animation_data:
            key.animation_data.action = None
        if "jawOpen" in key.key_blocks:
            key.key_blocks["jawOpen"].value = value


def _mouth_parts_outside(av, jaw_open: float) -> int:
    """Vertices of teeth/gums/tongue outside the skin anywhere but the mouth cavity and lips."""
    _set_jaw(av, jaw_open)
    bpy.context.view_layer.update()
    co, polys, mats = _evaluated(av.body)
    tree = BVHTree.FromPolygons([tuple(c) for c in co], polys)
    bad = 0
    for obj in av.objects:
        if obj.get("paksatalker_part", "").startswith(("teeth", "gums", "tongue")):
            for p in _evaluated(obj)[0]:
                q, n, i, _ = tree.find_nearest(Vector(p))
                bad += int((Vector(p) - q).dot(n) > 0 and mats[i] not in (1, 3))
    _set_jaw(av, 0.0)
    return bad


def test_default_avatar_parts_keys_and_rig(avatar):
    parts = {o.get("paksatalker_part") for o in avatar.objects}
    assert {"body", "armature", "eye.L", "eye.R", "teeth.upper", "teeth.lower", "tongue",
            "top", "trousers", "shoe.L", "shoe.R", "hair", "lashes.l", "brow.r"} <= parts
    assert len(avatar.body.data.vertices) == 13380
    keys = [k.name for k in avatar.body.data.shape_keys.key_blocks]
    assert keys == ["Basis", *ARKIT_52]
    assert all(k.value == 0.0 for k in avatar.body.data.shape_keys.key_blocks[1:])
    tongue = next(o for o in avatar.objects if o.get("paksatalker_part") == "tongue")
    assert "tongueOut" in tongue.data.shape_keys.key_blocks
    bones = avatar.armature.data.bones
    assert len(bones) == 163
    assert set(avatar.joint_map.values()) <= set(bones.keys())
    assert avatar.joint_map["left_elbow"] == "lowerarm01.L" and "jaw" not in avatar.joint_map
    lo, hi = avatar.bounds()
    assert abs(lo[2]) < 1e-3 and 1.4 < hi[2] < 2.0
    eye = avatar.eye_midpoint()
    assert abs(eye[0]) < 1e-4 and 0.85 * hi[2] < eye[2] < hi[2]
    for part, bone in (("eye.L", "eye.L"), ("eye.R", "eye.R")):
        obj = next(o for o in avatar.objects if o.get("paksatalker_part") == part)
        head = avatar.armature.matrix_world @ avatar.armature.pose.bones[bone].head
        assert (obj.matrix_world.translation - head).length < 1e-4
        assert obj.parent_bone == bone
        co = _evaluated(obj)[0] - np.array(obj.matrix_world.translation)
        assert np.argmin(co[:, 1]) == np.argmax(np.linalg.norm(co, axis=1))  # cornea at -Y
    assert _mouth_parts_outside(avatar, 0.0) == 0
    assert _mouth_parts_outside(avatar, 1.0) == 0


def _performance() -> Performance:
    t = np.linspace(0.0, 1.0, FRAMES)
    poses = np.zeros((FRAMES, 55, 3))
    poses[:, JOINT_INDEX["left_shoulder"], 2] = -1.1 * t
    poses[:, JOINT_INDEX["left_elbow"], 1] = -1.4 * t
    poses[:, JOINT_INDEX["spine2"], 0] = 0.2 * t
    face = FaceTrack.zeros(FRAMES, FPS)
    arkit = face.arkit.copy()
    arkit[:, ARKIT_INDEX["jawOpen"]] = t
    eyes = np.zeros((FRAMES, 2, 3))
    eyes[:, :, 1] = 0.4 * t[:, None]  # look to the side
    face = FaceTrack(FPS, arkit, face.visemes, face.jaw, eyes, face.head)
    body = BodyTrack(FPS, poses, np.zeros((FRAMES, 3)))
    return Performance(Speech(np.zeros(16000, np.float32), 16000), face, body)


def test_apply_performance_moves_bones_keys_and_eyes(avatar):
    user = bpy.data.actions.new("MyOwnTake")
    avatar.armature.animation_data_create().action = user
    perf = _performance()
    apply_performance(avatar, perf, frame_start=1)
    apply_performance(avatar, perf, frame_start=1)  # again: replaces its own actions only
    names = sorted(a.name for a in bpy.data.actions)
    assert names == ["MyOwnTake", "PaksaTalker_PaksaAvatar_Body", "PaksaTalker_PaksaAvatar_Face"]
    assert user.use_fake_user
    scene = bpy.context.scene
    assert (scene.frame_start, scene.frame_end, scene.render.fps) == (1, FRAMES, FPS)
    pos, _ = forward_kinematics(perf.body.poses, perf.body.trans)
    pose = avatar.armature.pose.bones
    eye = next(o for o in avatar.objects if o.get("paksatalker_part") == "eye.L")
    gaze = []
    for f in range(FRAMES):
        scene.frame_set(1 + f)
        opened = [k.key_blocks["jawOpen"].value for k in avatar.shape_keys()
                  if "jawOpen" in k.key_blocks]
        assert len(opened) >= 4  # body, tongue, lower teeth and gums
        assert opened == pytest.approx([f / (FRAMES - 1)] * len(opened), abs=1e-6)
        want = SMPLX_TO_BLENDER @ (pos[f, JOINT_INDEX["left_wrist"]]
                                   - pos[f, JOINT_INDEX["left_elbow"]])
        got = np.array(pose["wrist.L"].head - pose["lowerarm01.L"].head)
        cos = want @ got / np.linalg.norm(want) / np.linalg.norm(got)
        assert np.degrees(np.arccos(min(1.0, cos))) < 2.0
        gaze.append(np.array(eye.matrix_world.to_3x3() @ Vector((0.0, -1.0, 0.0))))
    assert np.degrees(np.arccos(gaze[0] @ gaze[-1])) > 15.0
    assert gaze[0][1] < -0.95  # looks ahead at rest
    assert pose["jaw"].rotation_quaternion.angle < 1e-6  # the jaw is the shape key's job
    with pytest.raises(InputError):
        apply_performance(avatar, perf, frame_start=-1)


def _engine(scene, engine: str) -> None:
    """Tiny, fast settings per engine; the studio world gives EEVEE/Cycles some light."""
    if engine == "workbench":
        scene.render.engine = "BLENDER_WORKBENCH"
        scene.display.shading.light = "STUDIO"
        scene.display.shading.color_type = "MATERIAL"
        return
    world = bpy.data.worlds.new("TestWorld")
    world.color = (0.6, 0.6, 0.6)
    scene.world = world
    sun = bpy.data.objects.get("TestSun") or bpy.data.objects.new(
        "TestSun", bpy.data.lights.new("TestSun", "SUN"))
    if sun.name not in scene.collection.objects:
        scene.collection.objects.link(sun)
    sun.data.energy = 4.0
    sun.rotation_euler = (1.2, 0.0, 0.3)
    if engine == "eevee":
        scene.render.engine = "BLENDER_EEVEE"
        scene.eevee.taa_render_samples = 1
    else:
        scene.render.engine = "CYCLES"
        scene.cycles.samples = 2
        scene.cycles.use_denoising = False


@pytest.mark.parametrize("engine", ["workbench", "eevee", "cycles"])
def test_render_shows_the_mouth_opening(avatar, tmp_path, engine):
    scene = bpy.context.scene
    _engine(scene, engine)
    scene.render.resolution_x = scene.render.resolution_y = 128
    scene.render.image_settings.file_format = "PNG"
    cam = bpy.data.objects.new("TestCam", bpy.data.cameras.new("TestCam"))
    scene.collection.objects.link(cam)
    scene.camera = cam
    scene.frame_set(1)
    eye = Vector(avatar.eye_midpoint())
    cam.location = eye + Vector((0.0, -0.6, -0.04))
    cam.rotation_euler = (1.5708, 0.0, 0.0)
    cam.data.lens = 60
    images = []
    for value in (0.0, 1.0):
        _set_jaw(avatar, value)
        scene.render.filepath = str(tmp_path / f"jaw{value}.png")
        bpy.ops.render.render(write_still=True)
        img = bpy.data.images.load(scene.render.filepath)
        px = np.empty(128 * 128 * 4, dtype=np.float32)
        img.pixels.foreach_get(px)
        images.append(px.reshape(128, 128, 4)[..., :3])  # row 0 is the bottom
    closed, opened = images
    assert closed.std() > 0.05 and opened.std() > 0.05
    diff = np.abs(opened - closed).mean(axis=2)
    rows = np.flatnonzero(diff.max(axis=1) > 0.1)
    assert rows.size  # something changed, and it is below the eyes (image centre row ~ 64)
    assert rows.mean() < 64
    assert diff[:40].mean() > 5 * diff[90:].mean()


def test_extreme_phenotype_builds_beside_the_default(avatar):
    elder = build_avatar(EXTREME, name="Elder")
    assert elder.armature.name == "Elder" and elder.body is not avatar.body
    keys = [k.name for k in elder.body.data.shape_keys.key_blocks]
    assert keys == ["Basis", *ARKIT_52]
    lo, hi = elder.bounds()
    assert abs(lo[2]) < 1e-3 and hi[2] != pytest.approx(avatar.bounds()[1][2], abs=0.02)
    skin = elder.body.data.materials[0]
    assert skin.name == "Elder_Skin" and avatar.body.data.materials[0].name != skin.name
    assert _mouth_parts_outside(elder, 1.0) == 0
    with pytest.raises(InputError):
        Phenotype(age=1.5)
    with pytest.raises(InputError):
        build_avatar("old")
