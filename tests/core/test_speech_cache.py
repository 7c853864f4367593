# SPDX-License-Identifier: GPL-3.0-or-later
"""The on-disk cache of synthesised speech pieces."""

from __future__ import annotations

import os

import numpy as np
import pytest

from paksatalker.core.speech import cache as cache_mod
from paksatalker.core.speech.cache import SpeechCache, file_identity, make_key


def test_keys_change_with_every_part():
    base = dict(backend="kokoro", engine={"voice": "jm_kumo"}, text="Hi.", language="en-us",
                rate=1.0)
    key = make_key(**base)
    assert len(key) == 64 and key == make_key(**dict(reversed(list(base.items()))))
    for part, other in [("backend", "piper"), ("engine", {"voice": "jf_alpha"}),
                        ("text", "Hi!"), ("language", "en-gb"), ("rate", 1.1)]:
        assert make_key(**{**base, part: other}) != key


def test_miss_then_hit_round_trips_exactly(tmp_path):
    cache = SpeechCache(tmp_path)
    audio = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    calls = []

    def make():
        calls.append(1)
        return audio, 22050

    first = cache.fetch("ab" * 32, make)
    second = cache.fetch("ab" * 32, make)
    assert len(calls) == 1 and (cache.hits, cache.misses) == (1, 1)
    np.testing.assert_array_equal(second[0], audio)
    assert first[1] == second[1] == 22050
    assert SpeechCache(tmp_path).get("ab" * 32) is not None  # on disk, not in memory


def test_writes_are_atomic_and_damaged_entries_are_dropped(tmp_path):
    cache = SpeechCache(tmp_path)
    cache.put("cd" * 32, np.ones(10, np.float32), 16000)
    names = [p.name for p in tmp_path.rglob("*")]
    assert "cd" * 32 + ".npz" in names and not any(n.endswith(".tmp") for n in names)
    path = tmp_path / "cd" / ("cd" * 32 + ".npz")
    path.write_bytes(b"not a zip")
    assert cache.get("cd" * 32) is None and not path.exists()


def test_unwritable_cache_is_skipped(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = SpeechCache(blocker)  # its "folder" is a file: writes fail, synthesis goes on
    samples, rate = cache.fetch("ef" * 32, lambda: (np.zeros(5, np.float32), 8000))
    assert samples.size == 5 and rate == 8000 and cache.get("ef" * 32) is None


def test_clear_removes_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("PAKSATALKER_CACHE", str(tmp_path))
    cache = SpeechCache()
    for k in ("11", "22", "33"):
        cache.put(k * 32, np.zeros(4, np.float32), 8000)
    assert cache_mod.clear() == 3
    assert cache.get("11" * 32) is None and list(cache.root.glob("*/*.npz")) == []


def test_file_identity_follows_edits(tmp_path):
    f = tmp_path / "model.onnx"
    f.write_bytes(b"one")
    before = file_identity(f)
    f.write_bytes(b"other")
    os.utime(f, ns=(1, 1))
    assert file_identity(f) != before
    with pytest.raises(FileNotFoundError):
        file_identity(tmp_path / "missing")


def test_cli_clears_the_cache(tmp_path, monkeypatch, capsys):
    from paksatalker.headless import cli

    monkeypatch.setenv("PAKSATALKER_CACHE", str(tmp_path))
    SpeechCache().put("44" * 32, np.zeros(4, np.float32), 8000)
    assert cli.main(["voices", "--backend", "espeak", "--language", "en-us",
                     "--clear-cache"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("removed 1 cached speech pieces") and "en-us" in out
    assert SpeechCache().get("44" * 32) is None
