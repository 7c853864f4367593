# SPDX-License-Identifier: GPL-3.0-or-later
"""The face sliders on the command line: parsed into FaceSettings, validated, used."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paksatalker.headless.cli import FACE_SLIDER_HELP, _generate_settings, build_parser

CLI = str(Path(sys.executable).with_name("paksatalker"))


@pytest.mark.parametrize("command", ["generate", "render"])
def test_face_flags_reach_the_settings(command):
    args = build_parser().parse_args([
        command, "--text", "Hi", "--out", "x.npz" if command == "generate" else "x.mp4",
        "--seed", "4", "--head-motion", "0.5", "--gaze-at-camera", "0.9", "--saccades", "0",
        "--micro-expressions", "1.5", "--breathing", "0.2", "--asymmetry", "2",
        "--emotion-strength", "1.2", "--emotion-ease", "0.5", "--articulation", "1.1"])
    face = _generate_settings(args).face
    assert (face.seed, face.head_motion, face.gaze_at_camera, face.saccades) == (4, 0.5, 0.9, 0)
    assert (face.micro_expressions, face.breathing, face.asymmetry) == (1.5, 0.2, 2.0)
    assert (face.emotion_strength, face.emotion_ease, face.articulation) == (1.2, 0.5, 1.1)
    assert set(FACE_SLIDER_HELP) <= set(vars(args))


def test_bad_face_slider_is_one_clean_error(tmp_path):
    out = tmp_path / "p.npz"
    res = subprocess.run([CLI, "generate", "--text", "Hi", "--out", str(out), "--gaze-at-camera",
                          "1.5"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "gaze at camera" in res.stderr and "0..1" in res.stderr
    assert not out.exists()


def test_generate_with_face_sliders(tmp_path):
    out = tmp_path / "p.npz"
    res = subprocess.run([CLI, "generate", "--text", "[happy 0.7 + surprised 0.3] Oh, hello!",
                          "--out", str(out), "--head-motion", "0", "--blink-rate", "0"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-1500:]
    with np.load(out, allow_pickle=False) as z:
        names = [str(n) for n in z["arkit_names"]]
        arkit = z["arkit"]
    assert arkit[:, names.index("mouthSmileLeft")].max() > 0.3
    assert arkit[:, names.index("eyeBlinkLeft")].max() < 0.2
