# SPDX-License-Identifier: GPL-3.0-or-later
"""Every shared avatar: import, retarget one generated Performance, render one tiny frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from paksatalker.core.body.skeleton import forward_kinematics  # noqa: E402
from paksatalker.core.errors import InputError  # noqa: E402
from paksatalker.core.names import JOINT_INDEX, VISEME_INDEX  # noqa: E402
from paksatalker.core.pipeline import generate  # noqa: E402
from paksatalker.core.retarget import SMPLX_TO_BLENDER  # noqa: E402
from paksatalker.core.retarget_quality import FOOT_JOINTS  # noqa: E402
from paksatalker.rigs.import_avatar import import_avatar  # noqa: E402
from paksatalker.rigs.retarget import apply_performance, measure, performance_poses  # noqa: E402

pytestmark = pytest.mark.blender

AVATARS = Path("/work/shared/assets/avatars")
MAPS = Path(__file__).resolve().parents[2] / "rigs" / "maps"
HUMANOIDS = {
    "asian_f": "valid_mit/Asian_F_1_Casual_nomeshopt.glb",
    "black_m": "valid_mit/Black_M_1_Busi_nomeshopt.glb",
    "robot": "RobotExpressive_CC0.glb",
    "cesium": "khronos_ccby/CesiumMan.glb",
}
TEXT = ("[sad] I lost my keys this morning, and it was an awful start to the day. "
        "[surprised] But then I found them, in the fridge! [angry] Who put them there? "
        "[happy] Anyway, all is well now, thank you.")

if not (AVATARS / HUMANOIDS["robot"]).is_file():
    pytest.skip("shared avatars not present", allow_module_level=True)


@pytest.fixture(scope="module")
def perf():
    return generate(TEXT)


def _fresh() -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)


def _world_head(arm, bone: str) -> np.ndarray:
    return np.array(arm.matrix_world @ arm.pose.bones[bone].head)


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    cos = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def _render_tiny(avatar, path: Path) -> np.ndarray:
    """One 160x90 Workbench frame with a transparent film; returns its RGBA pixels."""
    scene = bpy.context.scene
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.render.resolution_x, scene.render.resolution_y = 160, 90
    scene.render.film_transparent = True
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGBA"
    lo, hi = (np.array(v) for v in avatar.bounds())
    cam = bpy.data.objects.new("TestCam", bpy.data.cameras.new("TestCam"))
    scene.collection.objects.link(cam)
    cam.data.type = "ORTHO"
    cam.data.ortho_scale = float(max(hi - lo)) * 1.1
    centre = (lo + hi) / 2
    cam.location = (centre[0], lo[1] - 5.0, centre[2])
    cam.rotation_euler = (np.pi / 2, 0.0, 0.0)
    cam.data.clip_end = 100.0
    scene.camera = cam
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    img = bpy.data.images.load(str(path))
    px = np.empty(160 * 90 * 4, dtype=np.float32)
    img.pixels.foreach_get(px)
    return px.reshape(90, 160, 4)


@pytest.mark.parametrize("key", sorted(HUMANOIDS))
def test_import_retarget_render(key, perf, tmp_path):
    _fresh()
    avatar = import_avatar(AVATARS / HUMANOIDS[key])
    face = apply_performance(avatar, perf)
    scene = bpy.context.scene
    assert (scene.frame_start, scene.frame_end) == (1, perf.frames)
    lo, hi = avatar.bounds()
    assert abs(lo[2]) < 0.02 and hi[2] > 1.0  # standing on the floor, metres
    joints = avatar.bone_map.joints
    frames = list(range(0, perf.frames, 40))
    err = measure(avatar, perf, frames)
    assert max(err.values()) < 5.0, err
    # arms follow, checked against SMPL-X forward kinematics directly (world space)
    pos, _ = forward_kinematics(performance_poses(perf), np.zeros((perf.frames, 3)))
    arm = avatar.armature
    child = "left_wrist" if "left_wrist" in joints else None
    for f in frames:
        scene.frame_set(1 + f)
        if child is None:
            break
        want = SMPLX_TO_BLENDER @ (pos[f, JOINT_INDEX[child]] - pos[f, JOINT_INDEX["left_elbow"]])
        got = _world_head(arm, joints[child]) - _world_head(arm, joints["left_elbow"])
        assert _angle(got, want) < 2.0, (key, f)
    # the head turns and the fingers bend over the performance
    head_dirs, finger_dirs = [], []
    finger = next((joints[j] for j in ("left_index2", "left_middle2", "left_thumb2")
                   if j in joints), None)
    feet = [joints[j] for j in FOOT_JOINTS if j in joints]
    lowest = []
    for f in range(0, perf.frames, 10):
        scene.frame_set(1 + f)
        lowest.append(min(_world_head(arm, b)[2] for b in feet))
        head_dirs.append(np.array(arm.matrix_world.to_3x3()
                                  @ arm.pose.bones[joints["head"]].y_axis))
        if finger:
            finger_dirs.append(np.array(arm.pose.bones[finger].matrix.to_3x3().col[1]))
    assert np.ptp(lowest) < 1e-3 and min(lowest) > -1e-3  # feet stay on the floor
    spread = max(_angle(head_dirs[0], d) for d in head_dirs)
    assert spread > 2.0, key
    if finger:
        hand = arm.pose.bones[finger].parent
        assert hand is not None
        assert max(_angle(finger_dirs[0], d) for d in finger_dirs) > 2.0, key
    image = _render_tiny(avatar, tmp_path / f"{key}.png")
    covered = (image[..., 3] > 0.5).mean()
    assert 0.02 < covered < 0.9, covered
    assert face.mouth or key == "cesium"


def test_valid_avatar_speaks_through_rocketbox_visemes(perf):
    _fresh()
    avatar = import_avatar(AVATARS / HUMANOIDS["asian_f"])
    face = apply_performance(avatar, perf)
    assert face.mouth == "rocketbox shape keys"
    assert "h_expressions.AE_AA_h" in face.keys["rocketbox"]
    f = int(np.argmax(perf.face.visemes[:, VISEME_INDEX["aa"]]))
    bpy.context.scene.frame_set(1 + f)
    head = avatar.body.data.shape_keys.key_blocks
    assert head["h_expressions.AE_AA_h"].value == pytest.approx(
        perf.face.visemes[f, VISEME_INDEX["aa"]], abs=1e-4)
    assert head["h_expressions.AE_AA_h"].value > 0.3
    teeth = next(o for o in avatar.objects if o.name.startswith("h_TeethDown"))
    assert teeth.data.shape_keys.animation_data.action.name.endswith("_Face")
    assert head["h_expressions.MouthOpen_h"].value == 0.0


def test_robot_shows_emotion_and_a_jaw_fallback(perf):
    _fresh()
    avatar = import_avatar(AVATARS / HUMANOIDS["robot"])
    face = apply_performance(avatar, perf)
    assert sorted(face.keys["emotion"]) == ["Angry", "Sad", "Surprised"]
    assert "Surprised" in face.mouth and "jaw fallback" in face.mouth
    keys = next(o for o in avatar.objects if o.name == "Head_3").data.shape_keys.key_blocks
    starts = [s for s, _ in perf.speech.segment_times]  # sad, surprised, angry, happy

    def value(name: str, t: float) -> float:
        bpy.context.scene.frame_set(1 + int(t * perf.fps))
        return keys[name].value

    sad_mid = (starts[0] + starts[1]) / 2
    angry_mid = (starts[2] + starts[3]) / 2
    assert value("Sad", sad_mid) > 0.3 and value("Angry", sad_mid) < 0.1
    assert value("Angry", angry_mid) > 0.3 and value("Sad", angry_mid) < 0.1
    opened = perf.face.arkit[:, 17]  # jawOpen
    speaking = int(np.argmax(opened[: int(starts[1] * perf.fps)]))
    assert value("Surprised", speaking / perf.fps) >= 0.6 * opened[speaking] - 1e-4


def test_non_humanoid_refused_and_map_file_used():
    _fresh()
    before = set(bpy.data.objects)
    with pytest.raises(InputError, match=r"not a humanoid rig: no pelvis, spine, head"):
        import_avatar(AVATARS / "khronos_ccby/RiggedSimple_blender-reexport.glb")
    assert set(bpy.data.objects) == before and not bpy.data.collections
    avatar = import_avatar(AVATARS / HUMANOIDS["cesium"], bone_map=MAPS / "cesium_man.toml")
    assert avatar.report.startswith("user map")
    assert avatar.bone_map.joints["left_elbow"] == "Skeleton_arm_joint_L__2_"
    with pytest.raises(InputError, match="use one of"):
        import_avatar(MAPS / "cesium_man.toml")


def test_smplx_avatar_from_a_model_file(perf, tmp_path):
    smplx_avatar = pytest.importorskip("paksatalker.rigs.smplx_avatar")
    synthetic = pytest.importorskip("synthetic_models")
    _fresh()
    model = synthetic.write_synthetic_smplx(tmp_path / "SMPLX_NEUTRAL.npz")
    avatar = smplx_avatar.build_smplx_avatar(model)
    face = apply_performance(avatar, perf)
    err = measure(avatar, perf, list(range(0, perf.frames, 60)))
    assert max(err.values()) < 5.0, err
    assert face.mouth  # Exp### keys without expressions in the track: the jaw bone speaks


def test_vrm_blend_and_fbx_files_import(perf, tmp_path):
    import shutil

    _fresh()
    vrm = shutil.copy(AVATARS / HUMANOIDS["robot"], tmp_path / "robot.vrm")  # VRM is binary glTF
    robot = import_avatar(vrm)
    assert robot.bone_map.joints["left_shoulder"] == "UpperArmL"
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "robot.blend"))
    cesium = import_avatar(AVATARS / HUMANOIDS["cesium"])
    bpy.ops.export_scene.fbx(filepath=str(tmp_path / "cesium.fbx"), add_leaf_bones=False,
                             object_types={"ARMATURE", "MESH"},
                             use_selection=False)
    assert cesium.report.startswith("map file cesium_man.toml")
    for name in ("robot.blend", "cesium.fbx"):
        _fresh()
        avatar = import_avatar(tmp_path / name)
        apply_performance(avatar, perf)
        err = measure(avatar, perf, [0, perf.frames // 2])
        assert max(err.values()) < 5.0, (name, err)
