# SPDX-License-Identifier: GPL-3.0-or-later
"""Face curves for other face conventions: ARKit spellings, Oculus/RPM visemes, Rocketbox
morphs (names read from the VALID avatar file), FLAME Exp###, emotion morphs."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from paksatalker.core.face.arkit import EMOTION_OFFSETS
from paksatalker.core.face_map import (
    ROCKETBOX,
    classify,
    emotion_levels,
    face_curves,
    plan_face,
    rocketbox_key,
)
from paksatalker.core.names import ARKIT_52, ARKIT_INDEX, EMOTIONS, VISEME_INDEX, VISEMES
from paksatalker.core.types import FaceTrack

VALID = Path("/work/shared/assets/avatars/valid_mit/Asian_F_1_Casual_nomeshopt.glb")


def _track(frames: int = 6, expressions: bool = False) -> FaceTrack:
    base = FaceTrack.zeros(frames, 25)
    arkit = base.arkit.copy()
    visemes = base.visemes.copy()
    visemes[1, VISEME_INDEX["aa"]] = 1.0
    visemes[2, VISEME_INDEX["PP"]] = 1.0
    visemes[3, VISEME_INDEX["ou"]] = 0.7
    arkit[1, ARKIT_INDEX["jawOpen"]] = 0.8
    arkit[4, ARKIT_INDEX["eyeBlinkLeft"]] = 1.0
    arkit[5] = 0.9 * EMOTION_OFFSETS[EMOTIONS.index("sad")]
    exp = None
    if expressions:
        exp = np.zeros((frames, 100))
        exp[:, 3] = np.linspace(-2.0, 2.0, frames)
    return FaceTrack(25, arkit, visemes, base.jaw, base.eyes, base.head, exp)


def _valid_morph_names() -> list[str]:
    if not VALID.is_file():
        pytest.skip("shared avatars not present")
    data = VALID.read_bytes()
    length, _ = struct.unpack_from("<I4s", data, 12)
    doc = json.loads(data[20:20 + length])
    return [n for mesh in doc["meshes"] for n in mesh.get("extras", {}).get("targetNames", [])]


def test_classify_spellings():
    assert classify("jawOpen") == ("arkit", (("arkit", "jawOpen", 1.0),))
    assert classify("blendShape1.JawOpen")[1][0][1] == "jawOpen"
    assert classify("EyeBlinkLeft")[1][0][1] == "eyeBlinkLeft"
    assert classify("viseme_aa")[1][0][1] == "aa"
    assert classify("viseme_O")[1][0][1] == "oh" and classify("viseme_I")[1][0][1] == "ih"
    assert classify("viseme_U")[1][0][1] == "ou" and classify("viseme_sil")[1][0][1] == "sil"
    assert classify("viseme_zz") is None
    assert rocketbox_key("h_expressions.AE_AA_h") == "AE_AA"
    assert rocketbox_key("h_teeth.t_MPB_h") == "MPB" and rocketbox_key("t_KG_h") == "KG"
    assert rocketbox_key("Chew_h") is None
    assert classify("Exp007") == ("flame", (("flame", "7", 1.0),))
    assert classify("Angry")[0] == "emotion" and classify("Surprised")[1][0][1] == "surprised"
    assert classify("Basis") is None and classify("MouthOpen_h") is None


def test_valid_rocketbox_morphs_drive_the_mouth_from_visemes():
    names = _valid_morph_names()
    rocketbox = {rocketbox_key(n) for n in names} - {None}
    # every viseme morph of the real file is covered, teeth included
    for key in ("AE_AA", "AO_a", "Ax_E", "TD_I", "UH_OO", "UW_U", "H_EST", "FV", "S", "SH_CH",
                "MPB_Up", "MPB_Down", "KG", "MPB", "LeyeClose", "RbrowUp"):
        assert key in rocketbox, key
    plan = plan_face(names)
    assert plan.mouth == "rocketbox"
    curves = face_curves(plan, _track())
    aa = curves["h_expressions.AE_AA_h"]
    assert aa[1] == pytest.approx(1.0) and aa[0] == 0.0
    teeth = next(n for n in names if n.endswith("t_MPB_h"))
    assert curves[teeth][2] == pytest.approx(1.0)
    assert curves["h_expressions.MPB_Up_h"][2] == pytest.approx(1.0)
    assert curves["h_expressions.UW_U_h"][3] == pytest.approx(0.7)
    assert curves["h_expressions.LeyeClose_h"][4] == pytest.approx(1.0)
    assert "h_expressions.MouthOpen_h" not in curves  # visemes open the mouth already
    assert all(set(r) <= {"viseme", "arkit"} for r in
               ({src for src, _, _ in recipe} for recipe in ROCKETBOX.values()))


def test_mouth_priority_between_visemes_and_arkit():
    names = [*ARKIT_52, *(f"viseme_{v}" for v in VISEMES)]
    plan = plan_face(names)
    assert plan.mouth == "viseme"
    assert "jawOpen" not in plan.recipes and "mouthFunnel" not in plan.recipes
    assert "eyeBlinkLeft" in plan.recipes and "browInnerUp" in plan.recipes
    only_arkit = plan_face(list(ARKIT_52))
    assert only_arkit.mouth == "arkit" and "jawOpen" in only_arkit.recipes
    curves = face_curves(only_arkit, _track())
    assert curves["jawOpen"][1] == pytest.approx(0.8)


def test_flame_keys_only_with_expressions_and_keep_sign():
    names = [f"Exp{i:03d}" for i in range(100)] + ["jawOpen"]
    assert plan_face(names).mouth == "arkit"
    plan = plan_face(names, has_expressions=True)
    assert plan.mouth == "flame" and "jawOpen" not in plan.recipes
    curve = face_curves(plan, _track(expressions=True))["Exp003"]
    assert curve[0] == pytest.approx(-2.0) and curve[-1] == pytest.approx(2.0)


def test_emotion_morphs_follow_estimated_emotion():
    plan = plan_face(["Angry", "Surprised", "Sad"])
    assert plan.mouth == ""
    curves = face_curves(plan, _track())
    assert curves["Sad"][5] == pytest.approx(0.9, abs=0.05)
    assert curves["Angry"][5] < 0.1 and curves["Surprised"][5] < 0.1
    assert curves["Sad"][1] < 0.05  # speaking alone is not sadness
    levels = emotion_levels(np.stack([0.5 * EMOTION_OFFSETS[i] for i in range(7)]))
    assert np.argmax(levels[1:, 1:], axis=1).tolist() == list(range(6))
    assert levels[1:, 0] == pytest.approx([0.5] * 6, abs=0.05)
    assert levels[0, 0] == pytest.approx(1.0)
