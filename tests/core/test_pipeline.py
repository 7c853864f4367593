# SPDX-License-Identifier: GPL-3.0-or-later
"""Text -> Performance through the real embedded stages (eSpeak NG, visemes, procedural body)."""

import numpy as np
import pytest

from paksatalker.core import pipeline
from paksatalker.core.names import ARKIT_INDEX
from paksatalker.core.settings import FaceSettings, GenerateSettings
from paksatalker.core.types import frame_count

JAW, CLOSE = ARKIT_INDEX["jawOpen"], ARKIT_INDEX["mouthClose"]


def test_generate_steps_and_frame_count():
    stages = []
    perf = pipeline.generate("Hello! [happy] Nice to meet you. *nod*", GenerateSettings(fps=25),
                             lambda step: stages.append(step.stage))
    assert stages == ["script", "speech", "face", "body", "done"]
    assert perf.fps == 25 and perf.frames == frame_count(perf.speech.duration, 25)
    assert perf.face.frames == perf.body.frames == perf.frames


def test_bilabials_close_the_lips_on_real_speech():
    perf = pipeline.generate("Bob met Pam by the map.")
    fps, arkit = perf.fps, perf.face.arkit
    bilabials = [p for p in perf.speech.phonemes if p.symbol in ("p", "b", "m")]
    assert len(bilabials) >= 6
    for p in bilabials:
        frames = np.arange(int(p.start * fps), min(perf.frames, int(np.ceil(p.end * fps)) + 1))
        assert arkit[frames, CLOSE].max() > 0.5, p
        assert arkit[frames, JAW].min() < 0.1, p
    vowels = [p for p in perf.speech.phonemes if p.symbol in ("æ", "a", "ɑː")]
    assert max(arkit[int((p.start + p.end) / 2 * fps), JAW] for p in vowels) > 0.3


def test_silence_keeps_the_mouth_closed():
    perf = pipeline.generate("Hello. [pause 2] Bye.")
    gap = [p for p in perf.speech.phonemes if p.symbol == "_" and p.end - p.start > 1.5]
    assert gap
    mid = int((gap[0].start + gap[0].end) / 2 * perf.fps)
    assert perf.face.arkit[mid - 5:mid + 5, JAW].max() < 0.02


@pytest.mark.parametrize("seed", range(8))
def test_even_a_short_clip_blinks(seed):
    perf = pipeline.generate("Hello! I am your new avatar. Nice to meet you.",
                             GenerateSettings(face=FaceSettings(seed=seed)))
    assert perf.speech.duration < 4.0
    assert perf.face.arkit[:, ARKIT_INDEX["eyeBlinkLeft"]].max() > 0.8


@pytest.mark.parametrize("voice", ["de", "gmw/de", "German"])
def test_a_voice_named_any_way_speaks_the_unmarked_text(voice):
    from paksatalker.core.settings import SpeechSettings

    perf = pipeline.generate("Guten Tag", GenerateSettings(speech=SpeechSettings(voice=voice)))
    assert perf.speech.language.startswith("de")
    assert [w.text for w in perf.speech.words] == ["Guten", "Tag"]
