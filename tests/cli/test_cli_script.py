# SPDX-License-Identifier: GPL-3.0-or-later
"""``paksatalker script`` and ``generate --brief`` against a real local chat server and a tiny
random Qwen model."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from llm_fixtures import ChatServer, build_tiny_qwen

CLI = str(Path(sys.executable).with_name("paksatalker"))
GOOD = json.dumps({"segments": [
    {"text": "Hello and welcome!", "emotion": "happy", "intensity": 0.8, "gestures": ["wave"],
     "pause_after": 0.5},
    {"text": "Refunds take five days.", "emotion": "neutral", "intensity": 0.6,
     "gestures": ["count 5"], "pause_after": 0},
]})


@pytest.fixture(scope="module")
def server():
    s = ChatServer()
    yield s
    s.close()


def run(*args, tmp_path, env=None):
    e = {**os.environ, "PAKSATALKER_CACHE": str(tmp_path / "cache"), **(env or {})}
    e.pop("PAKSATALKER_LLM", None)
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=300,
                          env=e, cwd=tmp_path)


def one_error_line(res, needle):
    assert res.returncode == 2, res.stderr[-1500:]
    assert "Traceback" not in res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("paksatalker: error:") and needle in last, last


def test_script_writes_markup_from_a_server(server, tmp_path):
    server.reset({"content": GOOD})
    out = tmp_path / "script.txt"
    res = run("script", "--brief", "15 s welcome and refunds", "--llm", f"openai:{server.url}",
              "--model", "qwen2.5:7b", "--duration", "15", "--persona", "Ava", "--out", out,
              tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    text = out.read_text()
    assert text.strip() == ("[happy 0.8] *wave* Hello and welcome! [pause 0.5] "
                            "[neutral 0.6] *count 5* Refunds take five days.")
    assert "2 segment(s), 7 words; language en" in res.stderr
    body = server.requests[0]["body"]
    assert body["model"] == "qwen2.5:7b" and "Ava" in body["messages"][0]["content"]


def test_brief_errors_are_one_line(server, tmp_path):
    one_error_line(run("script", "--brief", "x", tmp_path=tmp_path), "a brief needs an LLM")
    one_error_line(run("script", "--brief", "x", "--llm", "gpt:foo", tmp_path=tmp_path),
                   "qwen-local:MODEL_FOLDER_OR_REPO_ID")
    one_error_line(run("script", "--brief", "x", "--llm", f"openai:{server.url}",
                       "--api-key-env", "NO_SUCH_KEY_VAR", tmp_path=tmp_path),
                   "$NO_SUCH_KEY_VAR is not set")
    server.reset({"content": "I'm sorry, but I can't write that."})
    one_error_line(run("script", "--brief", "x", "--llm", f"openai:{server.url}",
                       tmp_path=tmp_path), "blocked by moderation: the model refused")


def test_session_follow_up_sees_the_earlier_script(server, tmp_path):
    server.reset({"content": GOOD}, {"content": GOOD.replace("five", "three")})
    session = tmp_path / "talk.json"
    base = ["script", "--llm", f"openai:{server.url}", "--session", session]
    assert run(*base, "--brief", "welcome and refunds", tmp_path=tmp_path).returncode == 0
    res = run(*base, "--brief", "make it shorter", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    follow = server.requests[1]["body"]["messages"]
    assert follow[-1]["content"] == "make it shorter"
    assert follow[-3]["content"] == "welcome and refunds"
    assert "Refunds take five days." in follow[-2]["content"]
    saved = json.loads(session.read_text())
    assert [t["role"] for t in saved["turns"]] == ["user", "assistant"] * 2
    assert "three days" in saved["turns"][-1]["content"]


def test_batch_writes_one_file_per_brief(server, tmp_path):
    server.reset(default={"content": GOOD})
    briefs = tmp_path / "briefs.txt"
    briefs.write_text("first brief\n\nsecond brief\nstill second\n\n\nthird brief\n")
    (tmp_path / "out").mkdir()
    res = run("script", "--batch", briefs, "--out-dir", tmp_path / "out", "--llm",
              f"openai:{server.url}", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "script-001.txt", "script-002.txt", "script-003.txt"]
    asked = [r["body"]["messages"][-1]["content"] for r in server.requests]
    assert sorted(asked) == ["first brief", "second brief\nstill second", "third brief"]


def test_generate_with_a_brief_runs_the_pipeline(server, tmp_path):
    server.reset({"content": GOOD})
    out = tmp_path / "perf.npz"
    res = run("generate", "--brief", "welcome, 5 seconds", "--llm", f"openai:{server.url}",
              "--script-duration", "5", "--out", out, tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr
    with np.load(out, allow_pickle=False) as z:
        assert z["arkit"].shape[0] > 30  # several seconds of animation
    assert "about 12 words" in server.requests[0]["body"]["messages"][0]["content"]


def test_tiny_random_qwen_garbage_falls_back_to_the_brief_and_says_so(tmp_path):
    # (the plain error for garbage is covered in tests/core/test_llm_qwen_local.py)
    model = build_tiny_qwen(tmp_path / "qwen")
    res = run("script", "--brief", "[happy] Hello there!", "--llm", f"qwen-local:{model}",
              "--max-tokens", "32", "--attempts", "2", "--device", "cpu", "--on-failure",
              "brief", "--out", tmp_path / "s.txt", tmp_path=tmp_path,
              env={"OMP_NUM_THREADS": "1"})  # a tiny model gains nothing from more threads
    assert res.returncode == 0, res.stderr
    assert "warning: FALLBACK: the model gave no valid script" in res.stderr
    assert (tmp_path / "s.txt").read_text().strip() == "[happy] Hello there!"


def test_render_and_generate_take_a_brief_without_option_clashes(monkeypatch):
    from paksatalker.headless import cli

    monkeypatch.delenv("PAKSATALKER_LLM", raising=False)
    parser = cli.build_parser()
    args = parser.parse_args([
        "render", "--brief", "60 s on refunds", "--llm", "openai:http://127.0.0.1:1/v1",
        "--llm-model", "qwen2.5:7b", "--script-duration", "60", "--persona", "Ava",
        "--block-term", "casino", "--temperature", "5600", "--seed", "7", "--out", "x.mp4"])
    s = cli._generate_settings(args)
    assert cli._read_text(args) == "60 s on refunds"
    assert (s.script_backend, s.script.endpoint, s.script.model) == (
        "openai", "http://127.0.0.1:1/v1", "qwen2.5:7b")
    assert (s.script.duration, s.script.persona_name, s.script.block_terms) == (
        60.0, "Ava", ("casino",))
    assert (s.script.temperature, s.script.seed) == (0.7, 0)  # the light's --temperature
    monkeypatch.setenv("PAKSATALKER_LLM", "openai:http://127.0.0.1:1/v1")
    plain = cli._generate_settings(parser.parse_args(["generate", "--text", "Hi", "--out",
                                                      "x.npz"]))
    assert plain.script_backend == "markup"  # $PAKSATALKER_LLM applies to briefs only
    env = cli._generate_settings(parser.parse_args(["generate", "--brief", "Hi", "--out",
                                                    "x.npz"]))
    assert env.script_backend == "openai"
