# SPDX-License-Identifier: GPL-3.0-or-later
"""``--audio``: lip-sync a recording from the command line (generate) and the render job."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paksatalker.core.audio import write_wav
from paksatalker.core.performance import load
from paksatalker.core.types import frame_count

CLI = str(Path(sys.executable).with_name("paksatalker"))
MISC = Path("/work/shared/assets/speech/pocketsphinx_misc")
WAV = MISC / "goforward.wav"
pytestmark = pytest.mark.skipif(not WAV.is_file(), reason="shared speech assets missing")


def run(*args):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=300)


def _one_line_failure(res, needle: str) -> None:
    assert res.returncode == 2, res.stderr[-1500:]
    assert "Traceback" not in res.stderr
    errors = [ln for ln in res.stderr.splitlines() if "error:" in ln]
    assert len(errors) == 1 and needle in errors[0], res.stderr


def test_generate_aligns_a_recording_to_its_transcript(tmp_path):
    out = tmp_path / "gf.npz"
    res = run("generate", "--audio", WAV, "--text", "[happy] Go forward *nod* ten meters.",
              "--out", out)
    assert res.returncode == 0, res.stderr[-1500:]
    perf = load(out)
    assert [w.text for w in perf.speech.words] == ["Go", "forward", "ten", "meters"]
    assert perf.frames == frame_count(perf.speech.duration, 30.0)
    assert abs(perf.speech.duration - 2.79) < 0.01
    assert perf.face.arkit.max() > 0.2


def test_generate_recognises_a_recording_without_transcript(tmp_path):
    out = tmp_path / "rec.npz"
    res = run("generate", "--audio", WAV, "--out", out, "--fps", "25")
    assert res.returncode == 0, res.stderr[-1500:]
    perf = load(out)
    assert perf.fps == 25.0
    assert sum(p.symbol != "_" for p in perf.speech.phonemes) >= 8


def test_generate_rejects_a_silent_recording(tmp_path):
    wav = tmp_path / "silent.wav"
    write_wav(wav, np.zeros(32000, np.float32), 16000)
    out = tmp_path / "s.npz"
    _one_line_failure(run("generate", "--audio", wav, "--out", out), "silent")
    assert not out.exists()


def test_generate_needs_a_source(tmp_path):
    _one_line_failure(run("generate", "--out", tmp_path / "x.npz"), "--audio")


@pytest.mark.blender
def test_render_job_lip_syncs_the_recording():
    pytest.importorskip("bpy")
    from paksatalker.addon.pipeline import RenderJob, make_performance
    from paksatalker.scenes.render import RenderSettings

    job = RenderJob(render=RenderSettings(engine="workbench", resolution=(64, 36)),
                    text="go forward ten meters", audio=WAV)
    perf = make_performance(job)
    assert [w.text for w in perf.speech.words] == ["go", "forward", "ten", "meters"]
