# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: `paksatalker render` makes a small MP4 whose streams and duration are right."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mp4probe import probe

pytestmark = pytest.mark.blender
CLI = str(Path(sys.executable).with_name("paksatalker"))


def render(*args):
    res = subprocess.run([CLI, "render", *map(str, args)], capture_output=True, text=True,
                         timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def test_render_text_to_mp4_with_audio(tmp_path):
    out = tmp_path / "hi.mp4"
    res = render("--text", "Hi there.", "--out", out, "--resolution", "320x180", "--fps", "24",
                 "--engine", "workbench")
    assert "render" in res.stderr and "ETA" in res.stderr or "100%" in res.stderr
    tracks = {t.handler: t for t in probe(out)}
    video, audio = tracks["vide"], tracks["soun"]
    assert video.codec == "avc1" and (video.width, video.height) == (320, 180)
    assert audio.codec == "mp4a"
    # speech duration from a Performance generated with the same settings
    perf = tmp_path / "p.npz"
    gen = subprocess.run([CLI, "generate", "--text", "Hi there.", "--out", str(perf),
                          "--fps", "24"], capture_output=True, text=True, timeout=300)
    assert gen.returncode == 0, gen.stderr
    frames = np.load(perf)["poses"].shape[0]
    assert video.samples == frames
    import soundfile as sf

    speech = sf.info(str(tmp_path / "p.wav")).duration
    assert abs(video.duration - speech) <= 1 / 24 + 1e-3
    assert abs(audio.duration - speech) <= 1 / 24 + 0.03  # AAC frames are ~21 ms
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_render_png_frames_range(tmp_path):
    out = tmp_path / "frames"
    render("--text", "Hello.", "--out", out, "--resolution", "160x90", "--frames", "2:3",
           "--engine", "workbench")
    assert sorted(p.name for p in out.glob("*.png")) == ["frame_000002.png", "frame_000003.png"]


def test_render_emage_npz_with_its_wav(tmp_path):
    import soundfile as sf

    t = 30
    poses = np.zeros((t, 165), np.float32)
    poses[:, 66] = np.linspace(0.0, 0.35, t)  # the jaw opens
    poses[:, 16 * 3 + 2] = -1.2  # left shoulder down
    poses[:, 17 * 3 + 2] = 1.2
    np.savez(tmp_path / "emage.npz", poses=poses, trans=np.zeros((t, 3)), betas=np.zeros(300),
             expressions=np.zeros((t, 100)), mocap_frame_rate=np.array(30))
    sf.write(tmp_path / "emage.wav", np.zeros(16000), 16000)
    out = tmp_path / "frames"
    render("--performance", tmp_path / "emage.npz", "--out", out, "--resolution", "160x90",
           "--frames", "1:2", "--engine", "workbench")
    assert len(list(out.glob("frame_*.png"))) == 2


def test_blender_entry_script_runs_the_same_cli(tmp_path):
    entry = Path(__file__).resolve().parents[2] / "headless" / "blender_run.py"
    out = tmp_path / "p.npz"
    ok = subprocess.run([sys.executable, str(entry), "--", "generate", "--text", "Hi.",
                         "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert out.is_file() and out.with_suffix(".wav").is_file()
    bad = subprocess.run([sys.executable, str(entry), "--", "generate", "--text", " ",
                          "--out", str(tmp_path / "q.npz")], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines()[-1].startswith("paksatalker: error:")


def test_scene_choices_match_the_scene_modules():
    """The CLI spells the preset names (it must not import bpy); they must match the modules."""
    pytest.importorskip("bpy")
    from paksatalker.headless import cli
    from paksatalker.scenes import background, camera, lighting, post

    assert cli.LIGHTINGS == lighting.LIGHTINGS
    assert cli.CAMERAS == camera.CAMERAS
    assert set(cli.BACKGROUNDS) == set(background.BACKGROUNDS)
    assert cli.GRADES == tuple(post.GRADES) and cli.LOOKS == post.LOOKS


def test_render_flags_build_the_settings(tmp_path):
    pytest.importorskip("bpy")
    from paksatalker.addon.pipeline import scene_from_args
    from paksatalker.headless.cli import build_parser

    args = build_parser().parse_args([
        "render", "--text", "Hi.", "--out", str(tmp_path / "v.mov"), "--quality", "720p",
        "--aspect", "9:16", "--lighting", "sunset", "--camera", "medium_wide", "--grade", "warm",
        "--look", "punchy", "--vignette", "0.5", "--handheld", "0.3", "--workers", "2",
        "--background", "studio_room", "--toon", "--layers", "--no-fast"])
    rs, scene = scene_from_args(args, 25.0)
    assert rs.resolution == (720, 1280) and rs.kind == "mov" and rs.workers == 2
    assert rs.layers and not rs.fast and rs.fps == 25.0
    assert (scene.lighting, scene.camera, scene.aspect) == ("sunset", "medium_wide", "9:16")
    assert scene.post.grade == "warm" and scene.post.vignette == 0.5 and scene.toon
    args = build_parser().parse_args(["render", "--text", "Hi.", "--out", "x.mp4",
                                      "--resolution", "1080x1080"])
    rs, scene = scene_from_args(args, 30.0)
    assert rs.resolution == (1080, 1080) and scene.aspect == "1:1"
