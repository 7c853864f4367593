# SPDX-License-Identifier: GPL-3.0-or-later
"""WAV/FLAC reading, atomic 16-bit WAV writing and resampling."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile

from paksatalker.core.audio import read_wav, resample, write_wav
from paksatalker.core.errors import InputError, OutputError


def _one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert msg and "\n" not in msg
    return msg


def test_round_trip_within_one_lsb(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 4000).astype(np.float32)
    x[:4] = [-1.0, 1.0, 0.0, 1e-6]
    path = tmp_path / "a.wav"
    write_wav(path, x, 22050)
    info = soundfile.info(str(path))
    assert (info.format, info.subtype, info.channels) == ("WAV", "PCM_16", 1)
    y, sr = read_wav(path)
    assert sr == 22050 and y.dtype == np.float32 and y.shape == x.shape
    assert np.max(np.abs(y - x)) <= 1 / 32767


def test_write_clips_out_of_range(tmp_path):
    path = tmp_path / "loud.wav"
    write_wav(path, np.array([2.0, -3.0, 0.5]), 8000)
    y, _ = read_wav(path)
    assert y[0] == pytest.approx(1.0, abs=1 / 32767)
    assert y[1] == pytest.approx(-1.0, abs=1 / 32767)
    assert y[2] == pytest.approx(0.5, abs=1 / 32767)


def test_stereo_is_averaged_to_mono(tmp_path):
    path = tmp_path / "st.wav"
    stereo = np.stack([np.full(100, 0.5), np.full(100, -0.25)], axis=1)
    write_wav(path, stereo, 16000)
    assert soundfile.info(str(path)).channels == 2
    y, sr = read_wav(path)
    assert y.shape == (100,) and sr == 16000
    np.testing.assert_allclose(y, 0.125, atol=1 / 32767)


def test_reads_flac(tmp_path):
    path = tmp_path / "a.flac"
    x = 0.3 * np.sin(np.linspace(0, 40, 1000))
    soundfile.write(str(path), x, 44100, subtype="PCM_16")
    y, sr = read_wav(path)
    assert sr == 44100
    np.testing.assert_allclose(y, x, atol=1 / 32767)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.wav"
    with pytest.raises(InputError) as err:
        read_wav(path)
    assert str(path) in _one_line(err) and "does not exist" in str(err.value)


def test_corrupt_file(tmp_path):
    path = tmp_path / "bad.wav"
    path.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk" * 4)
    with pytest.raises(InputError) as err:
        read_wav(path)
    assert str(path) in _one_line(err)


def test_empty_audio(tmp_path):
    path = tmp_path / "empty.wav"
    soundfile.write(str(path), np.zeros(0), 16000, subtype="PCM_16")
    with pytest.raises(InputError) as err:
        read_wav(path)
    assert "no samples" in _one_line(err)


def test_missing_directory_is_output_error(tmp_path):
    with pytest.raises(OutputError) as err:
        write_wav(tmp_path / "no" / "such" / "dir" / "a.wav", np.zeros(10), 16000)
    assert "a.wav" in _one_line(err)


def test_parent_is_a_file_is_output_error(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(OutputError):
        write_wav(blocker / "a.wav", np.zeros(10), 16000)
    assert os.listdir(tmp_path) == ["file.txt"]


def test_failed_replace_leaves_nothing_behind(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()  # a directory where the file should go: the final rename fails
    with pytest.raises(OutputError) as err:
        write_wav(target, np.zeros(10), 16000)
    _one_line(err)
    assert os.listdir(tmp_path) == ["taken"] and os.listdir(target) == []


def test_existing_file_is_replaced_whole(tmp_path):
    path = tmp_path / "a.wav"
    write_wav(path, np.full(50, 0.25), 8000)
    write_wav(path, np.full(20, -0.5), 8000)
    y, _ = read_wav(path)
    assert y.shape == (20,) and os.listdir(tmp_path) == ["a.wav"]


def test_bad_samples_are_input_errors(tmp_path):
    with pytest.raises(InputError):
        write_wav(tmp_path / "a.wav", np.array([0.0, np.nan]), 16000)
    with pytest.raises(InputError):
        write_wav(tmp_path / "a.wav", np.zeros((2, 2, 2)), 16000)
    with pytest.raises(InputError):
        write_wav(tmp_path / "a.wav", np.zeros(4), 0)
    assert os.listdir(tmp_path) == []


def test_resample_keeps_frequency_and_length():
    sr_from, sr_to = 22050, 16000
    t = np.arange(sr_from) / sr_from
    x = 0.5 * np.sin(2 * np.pi * 440 * t)
    y = resample(x, sr_from, sr_to)
    assert y.dtype == np.float32 and abs(len(y) - sr_to) <= 1
    spectrum = np.abs(np.fft.rfft(y))
    peak_hz = np.argmax(spectrum) * sr_to / len(y)
    assert abs(peak_hz - 440) < 2
    assert np.max(np.abs(y)) == pytest.approx(0.5, abs=0.02)


def test_resample_same_rate_and_bad_rate():
    x = np.arange(5, dtype=np.float32)
    y = resample(x, 16000, 16000)
    np.testing.assert_array_equal(x, y)
    y[0] = 9
    assert x[0] == 0
    with pytest.raises(InputError):
        resample(x, 0, 16000)
