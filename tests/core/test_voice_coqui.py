# SPDX-License-Identifier: GPL-3.0-or-later
"""The coqui backend on random-weight VITS models built here from a Coqui config.

The models are saved as ``model.pth`` + ``config.json`` and loaded by coqui-tts itself through
``TTS(model_path=, config_path=)`` (character input, so no eSpeak program is needed).

coqui-tts 0.28 imports ``six``, ``torchaudio`` and (torch >= 2.9) ``torchcodec`` at import time,
and this test environment lacks all three (torchaudio has no CPU-only Linux wheel for our torch).
VITS inference never calls them, so when they are missing the ``coqui`` fixture registers
*import-only* placeholders for them: any attribute use raises, so nothing of theirs can silently
take part in synthesis. With the real packages installed the placeholders are not used.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import sys
import types

import numpy as np
import pytest

from paksatalker.core.errors import BackendError, InputError
from paksatalker.core.script import parse
from paksatalker.core.settings import SpeechSettings
from paksatalker.core.speech import SPEECH, synthesize

RATE = 16000
_PLACEHOLDERS = ("six", "torchaudio", "torchaudio.transforms", "torchaudio.functional",
                 "torchcodec", "torchcodec.decoders", "torchcodec.encoders")


def _placeholder(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    module.__path__ = []

    def missing(attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise RuntimeError(f"{name}.{attr} used, but {name} is not installed")

    module.__getattr__ = missing
    if name == "six":
        module.string_types = (str,)  # the one name coqui-tts reads from six
    return module


@pytest.fixture(scope="module")
def coqui():
    if importlib.util.find_spec("TTS") is None:
        pytest.skip("coqui-tts is not installed")
    added = []
    for name in _PLACEHOLDERS:
        if name not in sys.modules and importlib.util.find_spec(name.split(".")[0]) is None:
            sys.modules[name] = _placeholder(name)
            added.append(name)
    for name in added:
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, sys.modules[name])
    try:
        import TTS.api  # noqa: F401
    except ImportError as err:
        pytest.skip(f"coqui-tts does not import here: {err}")
    yield
    for name in added:
        sys.modules.pop(name, None)


def build_vits(folder, speakers: tuple[str, ...] = (), seed: int = 0):
    """A tiny random-weight VITS (character input) saved as folder/model.pth + config.json."""
    import torch
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.configs.vits_config import VitsArgs, VitsConfig
    from TTS.tts.models.vits import Vits

    folder.mkdir(parents=True, exist_ok=True)
    speaker_args = {}
    if speakers:
        (folder / "speakers.json").write_text(json.dumps({s: i for i, s in enumerate(speakers)}))
        speaker_args = {"use_speaker_embedding": True,
                        "speakers_file": str(folder / "speakers.json")}
    chars = CharactersConfig(
        characters_class="TTS.tts.utils.text.characters.Graphemes", pad="_", eos="", bos="",
        blank=None, characters="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ",
        punctuations="!'(),-.:;?", phonemes=None)
    args = VitsArgs(
        hidden_channels=16, hidden_channels_ffn_text_encoder=32, num_layers_text_encoder=1,
        resblock_type_decoder="2", resblock_kernel_sizes_decoder=[3],
        resblock_dilation_sizes_decoder=[[1, 3]], upsample_rates_decoder=[8, 8, 4],
        upsample_initial_channel_decoder=32, upsample_kernel_sizes_decoder=[16, 16, 8],
        num_layers_flow=1, num_layers_posterior_encoder=1, use_sdp=False,
        speaker_embedding_channels=8, **speaker_args)
    config = VitsConfig(model_args=args, use_phonemes=False, add_blank=False,
                        text_cleaner="basic_cleaners", characters=chars, **speaker_args)
    config.audio.sample_rate = RATE
    torch.manual_seed(seed)
    model = Vits(config)
    torch.save({"model": model.state_dict()}, folder / "model.pth")
    config.save_json(str(folder / "config.json"))
    return folder / "model.pth", folder / "config.json"


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PAKSATALKER_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def vits(coqui, tmp_path_factory):
    return build_vits(tmp_path_factory.mktemp("vits"))


def test_vits_speaks_with_timings_and_cache(vits):
    model, config = vits
    text = "Hello there. A second sentence."
    settings = SpeechSettings(backend="coqui", model=str(model), config=str(config))
    speech = synthesize(parse(text, "en-us"), settings)
    assert speech.sample_rate == RATE and speech.duration > 0.3
    assert [w.text.strip(".") for w in speech.words] == ["Hello", "there", "A", "second",
                                                         "sentence"]
    assert all(0 <= w.start <= w.end <= speech.duration for w in speech.words)
    from paksatalker.core.speech.cache import SpeechCache

    cache = SpeechCache()
    assert len(list(cache.root.glob("*/*.npz"))) == 2
    again = synthesize(parse(text, "en-us"), settings)
    np.testing.assert_array_equal(again.samples, speech.samples)


def test_rate_reaches_the_vits_length_scale(vits):
    model, config = vits
    from paksatalker.core.speech.coqui import CoquiEngine

    engine = CoquiEngine(SpeechSettings(backend="coqui", model=str(model), config=str(config)))
    slow = engine.speak("Hello there my friend.", "en", 0.5)
    fast = engine.speak("Hello there my friend.", "en", 2.0)
    assert slow.size > 1.3 * fast.size  # durations are rounded up per character


def test_speaker_selection(coqui, tmp_path):
    model, config = build_vits(tmp_path / "multi", speakers=("ann", "bob"))
    base = dict(backend="coqui", model=str(model), config=str(config), cache=False)
    from paksatalker.core.speech.coqui import CoquiEngine

    assert CoquiEngine(SpeechSettings(**base)).speaker == "ann"
    ann = CoquiEngine(SpeechSettings(**base, speaker="ann")).speak("Hello there.", "en", 1.0)
    bob = CoquiEngine(SpeechSettings(**base, speaker="bob")).speak("Hello there.", "en", 1.0)
    assert not np.allclose(ann[:min(ann.size, bob.size)], bob[:min(ann.size, bob.size)])
    with pytest.raises(InputError, match="no speaker 'eve'"):
        CoquiEngine(SpeechSettings(**base, speaker="eve"))


def test_voice_folder_and_errors(vits, tmp_path):
    import shutil

    from paksatalker.core.speech.coqui import voices_folder

    model, config = vits
    target = voices_folder() / "tiny"
    target.mkdir()
    shutil.copy(model, target / "model.pth")
    shutil.copy(config, target / "config.json")
    assert [v.identifier for v in SPEECH.create("coqui").voices()] == ["tiny"]
    speech = synthesize(parse("Hi."), SpeechSettings(backend="coqui", voice="tiny"))
    assert speech.sample_rate == RATE
    with pytest.raises(InputError, match="one speaker"):
        synthesize(parse("Hi."), SpeechSettings(backend="coqui", voice="tiny", speaker="bob"))
    with pytest.raises(InputError, match="reference voice"):
        synthesize(parse("Hi."), SpeechSettings(backend="coqui", voice="tiny",
                                                reference_wav=str(tmp_path / "none.wav")))


def test_missing_model_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        synthesize(parse("Hi."), SpeechSettings(backend="coqui", model=str(tmp_path / "m.pth")))
    with pytest.raises(InputError, match="no Coqui voice"):
        synthesize(parse("Hi."), SpeechSettings(backend="coqui", voice="nobody"))


def test_missing_coqui_is_a_backend_error(tmp_path, monkeypatch):
    (tmp_path / "model.pth").write_bytes(b"x")
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setitem(sys.modules, "TTS.api", None)  # makes `from TTS.api import` fail
    from paksatalker.core.speech import coqui as coqui_mod

    coqui_mod._load.cache_clear()
    with pytest.raises(BackendError, match="pip install coqui-tts"):
        synthesize(parse("Hi."), SpeechSettings(backend="coqui", model=str(tmp_path / "model.pth")))
