# SPDX-License-Identifier: GPL-3.0-or-later
"""Loudness (ITU-R BS.1770), peak limiting, silence trimming with timings, click-free joins,
and tone from markup."""

from __future__ import annotations

import numpy as np
import pytest

from paksatalker.core.errors import DataError
from paksatalker.core.script import parse
from paksatalker.core.settings import SpeechSettings
from paksatalker.core.speech import hygiene, synthesize, tone
from paksatalker.core.types import Segment


def sine(freq: float, seconds: float, rate: int, amp: float = 1.0) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)).astype(
        np.float32)


def test_k_weighting_matches_the_standard_at_48k():
    (shelf_b, shelf_a), (hp_b, hp_a) = hygiene.k_weighting(48000)
    np.testing.assert_allclose(shelf_b, [1.53512485958697, -2.69169618940638, 1.19839281085285],
                               atol=1e-9)
    np.testing.assert_allclose(shelf_a, [1.0, -1.69065929318241, 0.73248077421585], atol=1e-9)
    np.testing.assert_allclose(hp_b, [1.0, -2.0, 1.0])
    np.testing.assert_allclose(hp_a, [1.0, -1.99004745483398, 0.99007225036621], atol=1e-9)


@pytest.mark.parametrize("rate", [48000, 44100, 24000, 16000])
def test_full_scale_997_hz_sine_is_minus_3_lufs(rate):
    assert hygiene.loudness(sine(997, 3.0, rate), rate) == pytest.approx(-3.01, abs=0.05)


def test_gating_ignores_silence_and_quiet_parts():
    rate = 24000
    tone_ = sine(997, 2.0, rate, 0.1)
    padded = np.concatenate([np.zeros(rate * 4, np.float32), tone_, np.zeros(rate * 4,
                                                                              np.float32)])
    plain_mean = -0.691 + 10 * np.log10(np.mean(padded.astype(np.float64) ** 2) * 1.0)
    gated, alone = hygiene.loudness(padded, rate), hygiene.loudness(tone_, rate)
    assert abs(gated - alone) < 1.0 and alone - plain_mean > 6  # ungated it would be ~7 LU less
    assert hygiene.loudness(np.zeros(rate, np.float32), rate) == hygiene.SILENT


def test_normalize_reaches_target_and_holds_peaks():
    rate = 24000
    rng = np.random.default_rng(0)
    x = (sine(220, 3.0, rate, 0.05) * (1 + rng.random(3 * rate))).astype(np.float32)
    x[rate] = 0.9  # one spike that a plain gain would push into clipping
    y = hygiene.normalize_loudness(x, rate, -16.0)
    assert hygiene.loudness(y, rate) == pytest.approx(-16.0, abs=0.2)
    assert np.max(np.abs(y)) <= 10 ** (-1 / 20) + 1e-6
    assert np.array_equal(hygiene.normalize_loudness(np.zeros(100, np.float32), rate, -16.0),
                          np.zeros(100, np.float32))


def test_trim_silence_shifts_timings_of_real_speech():
    rate_settings = SpeechSettings()
    speech = synthesize(parse("One, two, three."), rate_settings)
    pad = int(0.6 * speech.sample_rate)
    padded = np.concatenate([np.zeros(pad, np.float32), speech.samples,
                             np.zeros(pad, np.float32)])
    shift = pad / speech.sample_rate
    from dataclasses import replace

    moved = replace(
        speech, samples=padded,
        words=tuple(replace(w, start=w.start + shift, end=w.end + shift) for w in speech.words),
        phonemes=tuple(replace(p, start=p.start + shift, end=p.end + shift)
                       for p in speech.phonemes),
        segment_times=tuple((a + shift, b + shift) for a, b in speech.segment_times))
    trimmed = hygiene.trim_silence(moved, keep_s=0.05)
    cut = speech.duration + 2 * shift - trimmed.duration
    assert 1.0 < cut < 2 * shift + 1e-6  # most of the added 1.2 s went
    start, _ = hygiene.trim_bounds(moved.samples, moved.sample_rate, keep_s=0.05)
    offset = start / speech.sample_rate
    for before, after in zip(moved.words, trimmed.words):
        assert after.text == before.text
        assert after.start == pytest.approx(before.start - offset)
    assert all(p.end <= trimmed.duration + 1e-9 for p in trimmed.phonemes)
    assert trimmed.segment_times[0][0] == pytest.approx(max(0.0, shift - offset))


def test_trim_cuts_at_zero_crossings():
    rate = 16000
    x = np.concatenate([np.zeros(4000, np.float32), sine(300, 0.5, rate, 0.5),
                        np.zeros(4000, np.float32)]) + np.float32(1e-4)
    a, b = hygiene.trim_bounds(x, rate, keep_s=0.0)
    step = 0.5 * 2 * np.pi * 300 / rate  # largest sample-to-sample change of the sine
    assert 3800 <= a <= 4200 and abs(x[a]) <= step and abs(x[b - 1]) <= step


def test_join_has_no_clicks():
    rate = 24000
    a = sine(200, 0.3, rate, 0.8) + np.float32(0.3)  # pieces ending at a step
    b = sine(330, 0.3, rate, 0.8) - np.float32(0.3)
    joined, spans = hygiene.join([a, b, a], rate, gaps=[0.0, 0.1])
    steps = np.abs(np.diff(joined))
    inner = max(np.abs(np.diff(a)).max(), np.abs(np.diff(b)).max())
    assert steps.max() <= inner * 1.05  # no jump larger than the signal's own slope
    assert spans[0] == (0, a.size) and spans[2][1] == joined.size
    assert joined.size == pytest.approx(3 * a.size - int(0.005 * rate) + int(0.1 * rate), abs=2)


def test_markup_tone_and_emotion_prosody():
    script = parse("Plain. [rate 1.5] Fast. [emph]Big[/emph] after. [sad 0.5] Low.")
    settings = SpeechSettings(rate=165, pitch=50)
    plain, fast, big, after, sad = (tone.prosody_for(s, settings) for s in script.segments)
    assert plain == tone.Prosody(1.0, 0.0, 1.0)
    assert fast.rate == pytest.approx(1.5)
    assert big.rate < fast.rate and big.pitch > 0 and big.volume > 1
    assert after.rate == pytest.approx(1.5) and after.pitch == 0
    assert sad.pitch < 0 and sad.volume < 1 and sad.rate < after.rate
    assert tone.prosody_for(script.segments[0], SpeechSettings(pitch=100)).pitch == 6.0
    with pytest.raises(DataError, match="tone"):
        Segment("x", rate=3.0)


def test_pitch_shift_keeps_length_and_moves_frequency():
    rate = 16000
    x = sine(200, 1.0, rate, 0.5)
    y = tone.shift_pitch(x, rate, 12.0)
    assert y.shape == x.shape
    spectrum = np.abs(np.fft.rfft(y[4000:12000]))
    assert np.fft.rfftfreq(8000, 1 / rate)[np.argmax(spectrum)] == pytest.approx(400, abs=10)
