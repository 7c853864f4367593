# SPDX-License-Identifier: GPL-3.0-or-later
"""Exact names shared by every stage: SMPL-X joints, ARKit-52 blendshapes, Oculus visemes."""

from __future__ import annotations

_HAND = ["index", "middle", "pinky", "ring", "thumb"]

SMPLX_JOINTS: tuple[str, ...] = tuple(
    [
        "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
        "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
        "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
        "left_elbow", "right_elbow", "left_wrist", "right_wrist", "jaw",
        "left_eye_smplhf", "right_eye_smplhf",
    ]
    + [f"left_{f}{i}" for f in _HAND for i in (1, 2, 3)]
    + [f"right_{f}{i}" for f in _HAND for i in (1, 2, 3)]
)
"""The 55 SMPL-X joints in smplx order (pose vector order)."""

SMPLX_PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
    20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
    21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53,
)
NUM_JOINTS = 55
JOINT_INDEX = {n: i for i, n in enumerate(SMPLX_JOINTS)}

ARKIT_52: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawLeft", "jawRight", "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker",
    "mouthLeft", "mouthRight", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft",
    "mouthStretchRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp",
    "browOuterUpLeft", "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "noseSneerLeft", "noseSneerRight", "tongueOut",
)
ARKIT_INDEX = {n: i for i, n in enumerate(ARKIT_52)}

VISEMES: tuple[str, ...] = (
    "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou",
)
"""Oculus-15 visemes in order (Ready Player Me names them viseme_<name>)."""
VISEME_INDEX = {n: i for i, n in enumerate(VISEMES)}

EMOTIONS: tuple[str, ...] = (
    "neutral", "happy", "sad", "angry", "surprised", "fearful", "disgusted",
)

assert len(SMPLX_JOINTS) == NUM_JOINTS == len(SMPLX_PARENTS)
assert len(ARKIT_52) == 52 and len(VISEMES) == 15
