# SPDX-License-Identifier: GPL-3.0-or-later
"""A render killed halfway (SIGKILL, a real process) and restarted keeps its finished frames and
makes the same video as an uninterrupted render sharded over two worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from mp4probe import probe  # noqa: E402

from paksatalker.core import performance  # noqa: E402
from paksatalker.core.pipeline import generate  # noqa: E402
from paksatalker.core.settings import GenerateSettings  # noqa: E402

pytestmark = pytest.mark.blender
CLI = str(Path(sys.executable).with_name("paksatalker"))
FLAGS = ["--engine", "workbench", "--resolution", "64x36", "--fps", "12"]


def _pixels(path: Path) -> np.ndarray:
    image = bpy.data.images.load(str(path))
    px = np.array(image.pixels[:], dtype=np.float32)
    bpy.data.images.remove(image)
    return px


def _frames(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("frame_*.png")}


@pytest.mark.slow
def test_killed_render_resumes_and_matches_a_sharded_render(tmp_path):
    perf = generate("Hello there, my friend.", GenerateSettings(fps=12))
    npz, _ = performance.save(perf, tmp_path / "perf.npz")
    work_a, out_a = tmp_path / "a", tmp_path / "a.mp4"
    args = [CLI, "render", "--performance", str(npz), *FLAGS]
    first = subprocess.Popen([*args, "--out", str(out_a), "--work-dir", str(work_a)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not (work_a / "frames").is_dir() or len(_frames(work_a / "frames")) < 3:
        assert first.poll() is None, "the render ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    kept = _frames(work_a / "frames")
    assert 3 <= len(kept) < perf.frames  # killed halfway
    assert not out_a.exists()

    again = subprocess.run([*args, "--out", str(out_a), "--work-dir", str(work_a)],
                           capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-2000:]
    done = _frames(work_a / "frames")
    assert len(done) == perf.frames
    assert {name: done[name] for name in kept} == kept  # finished frames were not rendered again

    work_b, out_b = tmp_path / "b", tmp_path / "b.mp4"
    sharded = subprocess.run([*args, "--out", str(out_b), "--work-dir", str(work_b),
                              "--workers", "2"], capture_output=True, text=True, timeout=900)
    assert sharded.returncode == 0, sharded.stderr[-2000:]
    assert len(list((work_b / "logs").glob("worker-*.log"))) == 2
    for name in done:
        assert np.array_equal(_pixels(work_a / "frames" / name), _pixels(work_b / "frames" / name))
    tracks_a, tracks_b = probe(out_a), probe(out_b)
    assert [(t.codec, t.samples, t.duration) for t in tracks_a] == [
        (t.codec, t.samples, t.duration) for t in tracks_b]
    assert next(t for t in tracks_a if t.handler == "vide").samples == perf.frames
