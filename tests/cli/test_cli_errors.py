# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input: one line on stderr, exit status 2, no traceback, nothing at the output path."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

CLI = str(Path(sys.executable).with_name("paksatalker"))


def run(*args, cwd=None):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def assert_clean_failure(res, *, out: Path | None, needle: str):
    assert res.returncode == 2, (res.returncode, res.stderr[-1500:])
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error:" in ln]
    assert len(errors) == 1, res.stderr  # exactly one error line (progress lines may precede)
    assert lines[-1] == errors[0] and needle in errors[0], lines[-1]
    if out is not None:
        assert not out.exists()
        assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.stem}")]


@pytest.mark.parametrize("args, needle", [
    (["--text", "   "], "empty"),
    (["--text", "x" * 20001], "limit"),
    (["--text", "Hello", "--voice", "klingon-xx"], "unknown voice"),
    (["--text", "Hello [angrily]"], "unknown tag"),
    (["--script-file", "/nonexistent/script.txt"], "no such script file"),
    (["--text", "Hello", "--rate", "5"], "rate"),
])
def test_generate_rejects_bad_input(tmp_path, args, needle):
    out = tmp_path / "p.npz"
    assert_clean_failure(run("generate", *args, "--out", out), out=out, needle=needle)


def test_generate_rejects_unwritable_output(tmp_path):
    out = tmp_path / "missing_dir" / "p.npz"
    assert_clean_failure(run("generate", "--text", "Hi", "--out", out), out=None,
                         needle="does not exist")


@pytest.mark.parametrize("args, needle", [
    (["--engine", "octane"], "invalid choice"),
    (["--resolution", "big"], "WIDTHxHEIGHT"),
    (["--frames", "5:2"], "FIRST <= LAST"),
    (["--gender", "1.5"], "0..1"),
    (["--frames", "5:"], "FIRST:LAST"),
    (["--frames", "500:600"], "goes past the last frame"),
    (["--resolution", "321x181"], "even width and height"),
])
def test_render_rejects_bad_options(tmp_path, args, needle):
    out = tmp_path / "t.mp4"
    res = run("render", "--text", "Hi", "--out", out, *args)
    assert_clean_failure(res, out=out, needle=needle)


def test_render_rejects_missing_and_corrupt_inputs(tmp_path):
    out = tmp_path / "t.mp4"
    res = run("render", "--performance", tmp_path / "none.npz", "--out", out)
    assert_clean_failure(res, out=out, needle="no such Performance file")

    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    assert_clean_failure(run("render", "--performance", bad, "--out", out), out=out,
                         needle="not a readable .npz")

    shapes = tmp_path / "shapes.npz"
    np.savez(shapes, poses=np.zeros((10, 99)), mocap_frame_rate=30)
    assert_clean_failure(run("render", "--performance", shapes, "--out", out), out=out,
                         needle="(T,165)")

    good = tmp_path / "m.npz"
    np.savez(good, poses=np.zeros((10, 165)), mocap_frame_rate=30)
    wav = tmp_path / "corrupt.wav"
    wav.write_bytes(b"RIFF....WAVEfmt garbage")
    assert_clean_failure(run("render", "--performance", good, "--audio", wav, "--out", out),
                         out=out, needle="corrupt.wav")


def test_render_rejects_unwritable_output(tmp_path):
    out = tmp_path / "nope" / "t.mp4"
    res = run("render", "--text", "Hi", "--out", out)
    assert_clean_failure(res, out=None, needle="nope")


def test_voices_lists_english():
    res = run("voices", "--language", "en")
    assert res.returncode == 0, res.stderr
    assert "en-us" in res.stdout


def test_generate_writes_a_performance(tmp_path):
    out = tmp_path / "p.npz"
    res = run("generate", "--text", "Hello! [happy] Nice to meet you. *nod*", "--out", out,
              "--fps", "25")
    assert res.returncode == 0, res.stderr[-2000:]
    z = np.load(out, allow_pickle=False)
    wav = tmp_path / "p.wav"
    assert wav.is_file()
    t = z["poses"].shape[0]
    assert z["poses"].shape == (t, 165) and z["arkit"].shape == (t, 52)
    assert float(z["mocap_frame_rate"]) == 25.0
    import soundfile as sf

    info = sf.info(str(wav))
    assert abs(t - np.ceil(info.duration * 25)) <= 1
    assert list(z["word_text"])[:2] == ["Hello", "Nice"]
