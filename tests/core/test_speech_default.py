# SPDX-License-Identifier: GPL-3.0-or-later
"""The "auto" speech backend: Kokoro where installed, eSpeak otherwise, overridable by env."""

import pytest

from paksatalker.core import speech
from paksatalker.core.settings import SpeechSettings


def test_auto_is_the_default_and_prefers_kokoro(monkeypatch):
    assert SpeechSettings().backend == speech.AUTO
    monkeypatch.delenv(speech.ENV_BACKEND, raising=False)
    from paksatalker.core.speech import kokoro

    expected = "kokoro" if kokoro.installed() else "espeak"
    assert speech.default_backend() == expected
    assert speech.resolve("auto") == speech.resolve(None) == expected
    assert speech.resolve("piper") == "piper"


@pytest.mark.parametrize("value, expected", [("espeak", "espeak"), ("piper", "piper")])
def test_environment_overrides_auto(monkeypatch, value, expected):
    monkeypatch.setenv(speech.ENV_BACKEND, value)
    assert speech.resolve("auto") == expected
    assert speech.resolve("coqui") == "coqui"  # an explicit choice wins
