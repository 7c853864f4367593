# SPDX-License-Identifier: GPL-3.0-or-later
"""A user's recording -> Speech (core/speech/from_audio.py), the energy mouth
(core/face/energy.py) and the audio pipeline (core/pipeline.generate_from_audio_steps)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from paksatalker.core import pipeline
from paksatalker.core.audio import read_wav, resample, write_wav
from paksatalker.core.errors import InputError
from paksatalker.core.face.energy import CURVES, energy_mouth
from paksatalker.core.names import ARKIT_INDEX
from paksatalker.core.settings import GenerateSettings
from paksatalker.core.speech.from_audio import speech_from_audio
from paksatalker.core.types import Script, Segment, frame_count

LIBRIVOX = Path("/work/shared/assets/speech/pocketsphinx_librivox")
BASE = LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0930"
pytestmark = pytest.mark.skipif(not LIBRIVOX.is_dir(), reason="shared speech assets missing")


def _reference():
    words = json.loads(BASE.with_suffix(".json").read_text())["w"]
    return [(w["t"], w["b"], w["b"] + w["d"]) for w in words if not w["t"].startswith("<")]


def _converted(tmp_path: Path, rate: int, channels: int) -> Path:
    """The 16 kHz mono clip resampled to ``rate`` and written with ``channels`` channels."""
    x, sr = read_wav(BASE.with_suffix(".wav"))
    y = resample(x, sr, rate)
    data = np.stack([y * (1.0 - 0.2 * c) for c in range(channels)], axis=1)
    path = tmp_path / f"clip_{rate}_{channels}.wav"
    write_wav(path, data if channels > 1 else y, rate)
    return path


@pytest.mark.parametrize("rate, channels", [(44100, 2), (8000, 1), (48000, 1)])
def test_transcript_aligns_converted_recordings(tmp_path, rate, channels):
    path = _converted(tmp_path, rate, channels)
    text = BASE.with_suffix(".txt").read_text().strip()
    speech = speech_from_audio(path, Script((Segment(text),)))
    ref = _reference()
    err = [abs(v) for w, (_, a, b) in zip(speech.words, ref) for v in (w.start - a, w.end - b)]
    print(f"{rate} Hz x{channels}: median word-boundary error {1000 * np.median(err):.1f} ms")
    assert speech.sample_rate == rate and speech.samples.ndim == 1
    assert len(speech.words) == len(ref)
    assert np.median(err) < 0.05
    assert speech.segment_times[0][0] == pytest.approx(speech.words[0].start)
    assert sum(p.symbol in ("m", "b", "p") for p in speech.phonemes) >= 5


def test_english_without_transcript_recognises_phones_and_words():
    speech = speech_from_audio(BASE.with_suffix(".wav"))
    spoken = [p for p in speech.phonemes if p.symbol != "_"]
    assert len(spoken) >= 20
    assert speech.phonemes[0].start == 0.0
    assert speech.phonemes[-1].end == pytest.approx(speech.duration)
    truth = {t for t, _, _ in _reference()}
    heard = {w.text for w in speech.words}
    assert len(truth & heard) >= len(truth) // 2, heard
    # recognised phones should find the reference's bilabial closures (m, b of "might", "been",
    # "made", "amiable", "himself") roughly where they are
    ref = json.loads(BASE.with_suffix(".phone.json").read_text())["w"]
    closures = [p["b"] + p["d"] / 2 for w in ref for p in w["w"] if p["t"] in ("M", "B", "P")]
    ours = [(p.start, p.end) for p in spoken if p.symbol in ("m", "b", "p")]
    found = sum(any(a - 0.05 <= t <= b + 0.05 for a, b in ours) for t in closures)
    assert found >= len(closures) // 2, (found, len(closures))


def test_other_language_without_transcript_has_no_phonemes_and_an_energy_mouth():
    speech = speech_from_audio(BASE.with_suffix(".wav"), None, language="de")
    assert not speech.words
    assert all(p.symbol == "_" for p in speech.phonemes)
    frames = frame_count(speech.duration, 30.0)
    mouth = energy_mouth(speech.samples, speech.sample_rate, 30.0, frames)
    assert set(mouth) == set(CURVES)
    for name, curve in mouth.items():
        assert curve.shape == (frames,) and curve.min() >= 0.0 and curve.max() <= 1.0, name
        assert np.abs(np.diff(curve)).max() < 0.25, name  # smooth: no frame-to-frame jumps
    jaw = mouth["jawOpen"]
    t = np.arange(frames) / 30.0
    ref = _reference()
    inside = np.zeros(frames, bool)
    for _, a, b in ref:
        inside |= (t >= a) & (t < b)
    assert jaw[inside].mean() > 4 * jaw[~inside].mean() + 0.05
    assert mouth["mouthClose"][~inside].mean() > mouth["mouthClose"][inside].mean()


def test_energy_mouth_follows_the_envelope_and_handles_edges():
    rate, fps = 16000, 30.0
    t = np.arange(2 * rate) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) * (t > 0.5) * (t < 1.5)).astype(np.float32)
    mouth = energy_mouth(tone, rate, fps, 75)  # 15 frames past the audio
    jaw = mouth["jawOpen"]
    assert jaw[:10].max() < 0.05 and jaw[25:40].min() > 0.3 and jaw[65:].max() < 0.05
    assert energy_mouth(tone, rate, fps, 0)["jawOpen"].shape == (0,)
    with pytest.raises(InputError):
        energy_mouth(np.stack([tone, tone], axis=1), rate, fps, 10)


def _write(tmp_path: Path, name: str, samples: np.ndarray, rate: int) -> Path:
    path = tmp_path / name
    write_wav(path, samples, rate)
    return path


@pytest.mark.parametrize("make, needle", [
    (lambda d: _write(d, "short.wav", 0.1 * np.ones(8000, np.float32), 16000), "at least 1 s"),
    (lambda d: _write(d, "long.wav", 0.1 * np.ones(8000 * 601, np.float32), 8000), "limit"),
    (lambda d: _write(d, "silent.wav", np.zeros(32000, np.float32), 16000), "silent"),
    (lambda d: _write(d, "low.wav", 0.1 * np.ones(8000, np.float32), 4000), "8000 Hz"),
    (lambda d: (d / "junk.wav").write_bytes(b"RIFF\x00\x00not a wav at all") and d / "junk.wav",
     "cannot read"),
    (lambda d: d / "missing.wav", "does not exist"),
])
def test_unusable_recordings_are_one_line_input_errors(tmp_path, make, needle):
    with pytest.raises(InputError, match=needle) as info:
        speech_from_audio(make(tmp_path))
    assert "\n" not in str(info.value)


def test_pipeline_from_audio_with_markup_transcript():
    text = "[happy] He might even have been made *nod* amiable himself."
    steps = pipeline.generate_from_audio_steps(BASE.with_suffix(".wav"), text,
                                               GenerateSettings())
    stages = []
    perf = pipeline.run(steps, lambda s: stages.append(s.stage))
    assert stages == ["script", "speech", "face", "body", "done"]
    assert perf.frames == frame_count(perf.speech.duration, 30.0)
    assert [w.text for w in perf.speech.words][-2:] == ["amiable", "himself"]
    assert perf.face.arkit[:, ARKIT_INDEX["jawOpen"]].max() > 0.2
