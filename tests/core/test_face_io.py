# SPDX-License-Identifier: GPL-3.0-or-later
"""Face files: Live Link Face CSV (the real captures), Rhubarb JSON, FLAME npz."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from paksatalker.core.errors import DataError, InputError, OutputError
from paksatalker.core.face import animate
from paksatalker.core.face.io import (
    read_flame_npz,
    read_livelink_csv,
    read_rhubarb_json,
    visemes_from_arkit,
    write_flame_npz,
    write_livelink_csv,
    write_rhubarb_json,
)
from paksatalker.core.face.visemes import units
from paksatalker.core.names import ARKIT_INDEX as A
from paksatalker.core.names import VISEME_INDEX
from paksatalker.core.settings import FaceSettings, SpeechSettings
from paksatalker.core.speech import synthesize
from paksatalker.core.types import FaceTrack, Script, Segment

CAPTURES = Path("/work/shared/assets/face_anim/livelinkface_mit")
# file -> (seconds of capture, malformed rows)
REAL = {"csv_apfel.csv": (64.3, 35), "anim_S07-001.csv": (67.6, 0),
        "anim_alex_rom_3.csv": (134.4, 0)}
needs_captures = pytest.mark.skipif(not CAPTURES.is_dir(), reason="shared face captures absent")


@pytest.fixture(scope="module")
def bob():
    text = "Bob made a map of the moon, and then he went home."
    script = Script((Segment(text),))
    sp = synthesize(script, SpeechSettings())
    return sp, animate(script, sp, 30.0, FaceSettings())


# --------------------------------------------------------------------------- Live Link Face
@needs_captures
@pytest.mark.parametrize("name", sorted(REAL))
def test_reads_the_real_captures(name):
    seconds, bad = REAL[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ft = read_livelink_csv(CAPTURES / name)
    assert len(caught) == bad
    if bad:
        assert "line 224" in str(caught[0].message) and name in str(caught[0].message)
    assert ft.fps == 30.0
    assert ft.frames / ft.fps == pytest.approx(seconds, abs=0.5)
    assert ft.arkit.min() >= 0 and ft.arkit.max() <= 1
    jaw, blink = ft.arkit[:, A["jawOpen"]], ft.arkit[:, A["eyeBlinkLeft"]]
    assert jaw.max() > 0.5 and np.percentile(jaw, 95) > 0.15  # it talks
    assert blink.max() > 0.6  # it blinks
    assert np.abs(ft.eyes).max() > 0.1  # the eye angles came in
    np.testing.assert_allclose(ft.jaw[:, 0], 0.35 * jaw, atol=1e-6)
    np.testing.assert_allclose(ft.visemes.sum(axis=1), 1.0, atol=1e-4)


@needs_captures
def test_capture_eye_angles_match_the_eye_curves():
    ft = read_livelink_csv(CAPTURES / "anim_alex_rom_3.csv")
    look_left = ft.arkit[:, A["eyeLookOutLeft"]] - ft.arkit[:, A["eyeLookInLeft"]]
    look_down = ft.arkit[:, A["eyeLookDownLeft"]] - ft.arkit[:, A["eyeLookUpLeft"]]
    assert np.corrcoef(ft.eyes[:, 0, 1], look_left)[0, 1] > 0.9  # + yaw looks left
    assert np.corrcoef(ft.eyes[:, 0, 0], look_down)[0, 1] > 0.9  # + pitch looks down


def test_livelink_round_trip(tmp_path, bob):
    _, face = bob
    out = write_livelink_csv(face, tmp_path / "face.csv")
    header = out.read_text().splitlines()[0].split(",")
    assert header[:4] == ["Timecode", "BlendShapeCount", "EyeBlinkLeft", "EyeLookDownLeft"]
    assert len(header) == 63 and header[-1] == "RightEyeRoll"
    back = read_livelink_csv(out)
    assert back.fps == face.fps and back.frames == face.frames
    np.testing.assert_allclose(back.arkit, face.arkit, atol=1e-6)
    np.testing.assert_allclose(back.eyes, face.eyes, atol=1e-6)
    np.testing.assert_allclose(back.head, face.head, atol=1e-6)
    closed = face.arkit[:, A["mouthClose"]] > 0.6
    assert closed.sum() >= 5  # visemes are re-estimated from the shapes: closures survive
    assert np.mean(back.visemes[closed].argmax(axis=1) == VISEME_INDEX["PP"]) > 0.9


@needs_captures
def test_malformed_rows_are_skipped_with_a_warning(tmp_path):
    lines = (CAPTURES / "anim_S07-001.csv").read_text().splitlines()[:40]
    lines[5] = lines[5].replace(",", ";", 3)  # wrong column count
    fields = lines[9].split(",")
    fields[4] = "oops"
    lines[9] = ",".join(fields)  # a word where a number belongs
    lines[12] = "not:a:timecode" + lines[12][lines[12].index(","):]
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n")
    with pytest.warns(UserWarning) as caught:
        ft = read_livelink_csv(tmp_path / "bad.csv")
    msgs = [str(w.message) for w in caught]
    assert len(msgs) == 3
    assert any("line 6" in m for m in msgs) and any("line 10" in m for m in msgs)
    assert any("line 13" in m for m in msgs)
    assert ft.frames >= 38  # the gaps are interpolated on the 30 Hz grid


def test_livelink_errors(tmp_path):
    with pytest.raises(InputError):
        read_livelink_csv(tmp_path / "missing.csv")
    (tmp_path / "other.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(InputError):
        read_livelink_csv(tmp_path / "other.csv")
    header = "Timecode,BlendShapeCount," + ",".join(f"X{k}" for k in range(52))
    (tmp_path / "noshapes.csv").write_text(header + "\n")
    with pytest.raises(InputError):
        read_livelink_csv(tmp_path / "noshapes.csv")
    with pytest.raises(OutputError):
        write_livelink_csv(FaceTrack.zeros(3, 30.0), tmp_path / "nope" / "x.csv")


# --------------------------------------------------------------------------- Rhubarb
def test_rhubarb_from_speech_marks_every_bilabial(tmp_path, bob):
    sp, _ = bob
    doc = json.loads(write_rhubarb_json(sp, tmp_path / "cues.json", "bob.wav").read_text())
    cues = doc["mouthCues"]
    assert doc["metadata"] == {"soundFile": "bob.wav", "duration": round(sp.duration, 3)}
    assert cues[0]["start"] == 0.0 and cues[-1]["end"] == pytest.approx(sp.duration, abs=1e-3)
    assert all(a["end"] == b["start"] for a, b in zip(cues, cues[1:]))
    assert all(a["value"] != b["value"] for a, b in zip(cues, cues[1:]))
    assert {c["value"] for c in cues} <= set("ABCDEFGHX")
    for p in sp.phonemes:
        if units(p.symbol)[0].bilabial:
            mid = (p.start + p.end) / 2
            assert any(c["start"] <= mid <= c["end"] and c["value"] == "A" for c in cues), p


def test_rhubarb_round_trip_keeps_closures(tmp_path, bob):
    sp, face = bob
    path = write_rhubarb_json(sp, tmp_path / "cues.json")
    back = read_rhubarb_json(path, 30.0, frames=face.frames)
    assert back.frames == face.frames
    cues = json.loads(path.read_text())["mouthCues"]
    for c in cues:
        if c["value"] == "A":
            f = min(back.frames - 1, round((c["start"] + c["end"]) / 2 * 30.0))
            assert back.arkit[f, A["mouthClose"]] > 0.5 and back.arkit[f, A["jawOpen"]] < 0.05
        if c["value"] == "D" and c["end"] - c["start"] > 0.1:
            f = round((c["start"] + c["end"]) / 2 * 30.0)
            assert back.arkit[f, A["jawOpen"]] > 0.4
    again = write_rhubarb_json(face, tmp_path / "face.json")
    shapes = {c["value"] for c in json.loads(again.read_text())["mouthCues"]}
    assert {"A", "X"} <= shapes and len(shapes) >= 5


def test_rhubarb_errors(tmp_path):
    (tmp_path / "bad.json").write_text('{"mouthCues": [{"start": 0, "end": 1, "value": "Q"}]}')
    with pytest.raises(DataError):
        read_rhubarb_json(tmp_path / "bad.json", 30.0)
    (tmp_path / "junk.json").write_text("[1, 2")
    with pytest.raises(InputError):
        read_rhubarb_json(tmp_path / "junk.json", 30.0)
    with pytest.raises(InputError):
        write_rhubarb_json("text", tmp_path / "x.json")


# --------------------------------------------------------------------------- FLAME
def test_flame_round_trip(tmp_path, bob):
    _, face = bob
    rng = np.random.default_rng(0)
    exp = rng.normal(0, 0.5, (face.frames, 100)).astype(np.float32)
    flame = FaceTrack(face.fps, face.arkit, face.visemes, face.jaw, face.eyes, face.head, exp)
    path = write_flame_npz(flame, tmp_path / "flame.npz")
    with np.load(path, allow_pickle=False) as z:
        assert set(z.files) == {"expression", "jaw_pose", "neck_pose", "leye_pose",
                                "reye_pose", "mocap_frame_rate"}
    back = read_flame_npz(path)
    np.testing.assert_array_equal(back.expressions, exp)
    np.testing.assert_allclose(back.jaw, face.jaw)
    np.testing.assert_allclose(back.eyes, face.eyes)
    np.testing.assert_allclose(back.head, face.head)
    np.testing.assert_allclose(back.arkit[:, A["jawOpen"]], face.arkit[:, A["jawOpen"]],
                               atol=1e-5)
    assert back.fps == face.fps


def test_flame_without_expressions_and_emage_files(tmp_path, bob):
    _, face = bob
    with pytest.raises(OutputError):
        write_flame_npz(face, tmp_path / "f.npz")
    back = read_flame_npz(write_flame_npz(face, tmp_path / "f.npz", jaw_only=True))
    assert not back.expressions.any()
    t = 12
    poses = np.zeros((t, 165), np.float32)
    poses[:, 66] = 0.2  # jaw open
    np.savez(tmp_path / "emage.npz", poses=poses, expressions=np.ones((t, 100), np.float32),
             mocap_frame_rate=np.float32(30))
    em = read_flame_npz(tmp_path / "emage.npz")
    assert em.frames == t and em.expressions.sum() == t * 100
    assert em.arkit[:, A["jawOpen"]] == pytest.approx(0.2 / 0.35, rel=1e-4)
    np.savez(tmp_path / "nofps.npz", expression=np.zeros((4, 50)))
    with pytest.raises(InputError):
        read_flame_npz(tmp_path / "nofps.npz")
    assert read_flame_npz(tmp_path / "nofps.npz", fps=25.0).expressions.shape == (4, 100)
    np.savez(tmp_path / "pickled.npz", expression=np.array([{"a": 1}], dtype=object))
    with pytest.raises(InputError):
        read_flame_npz(tmp_path / "pickled.npz")
    with pytest.raises(OutputError):
        write_flame_npz(face, tmp_path / "f.txt", jaw_only=True)


def test_visemes_from_arkit_recovers_poses():
    from paksatalker.core.face.arkit import VISEME_POSES

    vis = visemes_from_arkit(VISEME_POSES)
    assert np.all(vis.argmax(axis=1) == np.arange(15))
