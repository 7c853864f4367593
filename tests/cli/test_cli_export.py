# SPDX-License-Identifier: GPL-3.0-or-later
"""``paksatalker export``: a Performance -> BVH / SMPL-X npz / Live Link CSV, and bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paksatalker.core import performance
from paksatalker.core.body import procedural
from paksatalker.core.body.bvh import read_bvh
from paksatalker.core.body.smplx_npz import read_smplx_npz
from paksatalker.core.settings import BodySettings
from paksatalker.core.types import FaceTrack, Phoneme, Script, Segment, Speech, Word

CLI = str(Path(sys.executable).with_name("paksatalker"))


def run(*args):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def perf_file(tmp_path_factory):
    words = (Word("hello", 0.1, 0.5, 0, 0), Word("world", 0.5, 0.9, 0, 6))
    phonemes = (Phoneme("h", 0.1, 0.15), Phoneme("ə", 0.15, 0.3, 2), Phoneme("l", 0.3, 0.5),
                Phoneme("w", 0.5, 0.6), Phoneme("ɜ", 0.6, 0.9, 2))
    speech = Speech(np.zeros(16000, np.float32), 16000, words, phonemes)
    body = procedural.animate(Script((Segment("hello world"),)), speech, 30.0, BodySettings())
    perf = performance.assemble(speech, FaceTrack.zeros(body.frames, 30.0), body)
    path, _ = performance.save(perf, tmp_path_factory.mktemp("p") / "perf.npz")
    return path


def test_export_bvh_and_npz(perf_file, tmp_path):
    res = run("export", "--performance", perf_file, "--out", tmp_path / "a.bvh", "--fps", 24)
    assert res.returncode == 0, res.stderr
    track, _ = read_bvh(tmp_path / "a.bvh")
    assert track.fps == 24.0 and track.frames == 24
    res = run("export", "--performance", perf_file, "--format", "npz", "--out",
              tmp_path / "b.npz")
    assert res.returncode == 0, res.stderr
    assert read_smplx_npz(tmp_path / "b.npz").frames == 30


def test_export_csv(perf_file, tmp_path):
    pytest.importorskip("paksatalker.core.face.io")
    res = run("export", "--performance", perf_file, "--out", tmp_path / "face.csv")
    assert res.returncode == 0, res.stderr
    lines = (tmp_path / "face.csv").read_text().splitlines()
    assert len(lines) == 31 and "JawOpen" in lines[0]


@pytest.mark.parametrize("args, needle", [
    (["--out", "x.txt"], "--format"),
    (["--format", "bvh", "--out", "x.npz"], ".bvh"),
    (["--out", "x.bvh", "--fps", "0"], "fps"),
])
def test_export_bad_input(perf_file, tmp_path, args, needle):
    args = [a if not a.startswith("x.") else str(tmp_path / a) for a in args]
    res = run("export", "--performance", perf_file, *args)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert needle in res.stderr.strip().splitlines()[-1]
