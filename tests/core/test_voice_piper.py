# SPDX-License-Identifier: GPL-3.0-or-later
"""The piper backend through piper-tts's own loader, on a tiny ONNX voice built here.

The ``onnx`` package is not installed, so the model file is written directly in ONNX's protobuf
wire format: a graph with Piper's inputs (``input`` int64 (1, n) phoneme ids, ``input_lengths``,
``scales``) and output (``output`` float (1, 1, samples)) that plays one short random-phase tone
per phoneme id (Gather from a (symbols, hop) table, then Reshape).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from paksatalker.core.audio import read_wav, write_wav
from paksatalker.core.errors import InputError
from paksatalker.core.script import parse
from paksatalker.core.settings import SpeechSettings
from paksatalker.core.speech import SPEECH, synthesize

piper = pytest.importorskip("piper")

HOP = 256
RATE = 16000


# --------------------------------------------------------------------------- protobuf writer
def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 -> two's complement, as protobuf does
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else bytes(value)
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _tensor(name: str, array: np.ndarray) -> bytes:
    dtype = {np.dtype(np.float32): 1, np.dtype(np.int64): 7}[array.dtype]
    dims = b"".join(_field(1, int(d)) for d in array.shape)
    return dims + _field(2, dtype) + _field(8, name) + _field(9, array.tobytes())


def _value_info(name: str, elem_type: int, dims: list) -> bytes:
    shape = b"".join(_field(1, _field(1, d) if isinstance(d, int) else _field(2, d))
                     for d in dims)
    tensor_type = _field(1, elem_type) + _field(2, shape)
    return _field(1, name) + _field(2, _field(1, tensor_type))


def _node(op: str, inputs: list[str], outputs: list[str]) -> bytes:
    return (b"".join(_field(1, i) for i in inputs) + b"".join(_field(2, o) for o in outputs)
            + _field(3, f"{op}_{outputs[0]}") + _field(4, op))


def tiny_piper_onnx(symbols: int, seed: int = 0) -> bytes:
    """ONNX model bytes: ids (1, n) -> audio (1, 1, n * HOP), one tone burst per id."""
    rng = np.random.default_rng(seed)
    t = np.arange(HOP) / RATE
    freqs = rng.uniform(120, 900, symbols)[:, None]
    table = (0.3 * np.sin(2 * np.pi * freqs * t + rng.uniform(0, 6.3, (symbols, 1))))
    graph = b"".join([
        _field(1, _node("Gather", ["table", "input"], ["frames"])),
        _field(1, _node("Reshape", ["frames", "shape"], ["output"])),
        _field(2, "tiny_piper"),
        _field(5, _tensor("table", table.astype(np.float32))),
        _field(5, _tensor("shape", np.array([1, 1, -1], np.int64))),
        _field(11, _value_info("input", 7, [1, "phonemes"])),
        _field(11, _value_info("input_lengths", 7, [1])),
        _field(11, _value_info("scales", 1, [3])),
        _field(12, _value_info("output", 1, [1, 1, "samples"])),
    ])
    opset = _field(1, "") + _field(2, 13)
    return _field(1, 8) + _field(2, "paksatalker-test") + _field(7, graph) + _field(8, opset)


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    from piper.phoneme_ids import DEFAULT_PHONEME_ID_MAP

    folder = tmp_path_factory.mktemp("piper")
    symbols = 1 + max(i for ids in DEFAULT_PHONEME_ID_MAP.values() for i in ids)
    model = folder / "tiny.onnx"
    model.write_bytes(tiny_piper_onnx(symbols))
    config = {
        "audio": {"sample_rate": RATE}, "espeak": {"voice": "en-us"}, "phoneme_type": "espeak",
        "num_symbols": symbols, "num_speakers": 1, "hop_length": HOP,
        "inference": {"noise_scale": 0.667, "length_scale": 1.0, "noise_w": 0.8},
        "phoneme_id_map": DEFAULT_PHONEME_ID_MAP,
    }
    (folder / "tiny.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    return model


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PAKSATALKER_CACHE", str(tmp_path / "cache"))


def test_piper_loads_the_tiny_voice_itself(voice):
    loaded = piper.PiperVoice.load(voice)
    chunks = list(loaded.synthesize("Hi there."))
    ids = chunks[0].phoneme_ids
    assert len(chunks) == 1 and chunks[0].audio_float_array.size == len(ids) * HOP


def test_synthesis_wav_timings_and_cache(voice, tmp_path):
    text = "Hello there. Piper speaks twice."
    settings = SpeechSettings(backend="piper", model=str(voice), target_lufs=-20.0)
    speech = synthesize(parse(text, "en-us"), settings)
    assert speech.sample_rate == RATE and speech.duration > 0.5
    words = [w.text.strip(".") for w in speech.words]
    assert words == ["Hello", "there", "Piper", "speaks", "twice"]
    assert all(0 <= w.start <= w.end <= speech.duration for w in speech.words)
    assert speech.phonemes and speech.phonemes[-1].end == pytest.approx(speech.duration, abs=0.02)
    wav = tmp_path / "piper.wav"
    write_wav(wav, speech.samples, speech.sample_rate)
    samples, rate = read_wav(wav)
    assert rate == RATE and samples.size == speech.samples.size
    # The second run reads both sentences from the cache and gives the same audio.
    from paksatalker.core.speech import cache as cache_mod

    entries = list(cache_mod.SpeechCache().root.glob("*/*.npz"))
    assert len(entries) == 2
    again = synthesize(parse(text, "en-us"), settings)
    np.testing.assert_array_equal(again.samples, speech.samples)
    assert len(list(cache_mod.SpeechCache().root.glob("*/*.npz"))) == 2


def test_markup_volume_and_speaker_errors(voice):
    settings = SpeechSettings(backend="piper", model=str(voice), target_lufs=0.0, cache=False)
    speech = synthesize(parse("One two three. [volume 0.25] One two three.", "en-us"), settings)
    (a0, a1), (b0, b1) = speech.segment_times
    rate = speech.sample_rate
    loud = np.sqrt(np.mean(speech.samples[int(a0 * rate):int(a1 * rate)] ** 2))
    quiet = np.sqrt(np.mean(speech.samples[int(b0 * rate):int(b1 * rate)] ** 2))
    assert quiet / loud == pytest.approx(0.25, rel=0.1)
    with pytest.raises(InputError, match="speaker"):
        from paksatalker.core.speech.piper import _speaker_id

        _speaker_id("bob", {"ann": 0, "eve": 1}, 2)


def test_missing_voice_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        synthesize(parse("Hi."), SpeechSettings(backend="piper", model=str(tmp_path / "x.onnx")))
    with pytest.raises(InputError, match="no Piper voice"):
        synthesize(parse("Hi."), SpeechSettings(backend="piper", voice="nobody"))


def test_voice_folder_lists_voices(voice, tmp_path):
    from paksatalker.core.speech.piper import voices_folder

    folder = voices_folder()
    (folder / "mine.onnx").write_bytes(voice.read_bytes())
    (folder / "mine.onnx.json").write_text(voice.with_name("tiny.onnx.json").read_text())
    names = [(v.identifier, v.languages) for v in SPEECH.create("piper").voices()]
    assert names == [("mine", ("en-us",))]
    speech = synthesize(parse("Hello."), SpeechSettings(backend="piper", voice="mine"))
    assert [w.text.strip(".") for w in speech.words] == ["Hello"]


def test_varint_matches_protobuf():
    assert _varint(300) == bytes([0xAC, 0x02]) and len(_varint(-1)) == 10


def test_cli_flags_reach_the_speech_settings(voice):
    from paksatalker.headless import cli

    args = cli.build_parser().parse_args([
        "generate", "--text", "Hi.", "--out", "x.npz", "--speech-backend", "piper",
        "--voice-model", str(voice), "--speaker", "0", "--lufs", "-20"])
    speech = cli._generate_settings(args).speech
    assert (speech.backend, speech.model, speech.speaker, speech.target_lufs) == (
        "piper", str(voice), "0", -20.0)
    assert synthesize(parse("Hi."), speech).sample_rate == RATE


def test_resampled_output_keeps_its_timings(voice):
    base = dict(backend="piper", model=str(voice), cache=False)
    own = synthesize(parse("Hello there.", "en-us"), SpeechSettings(**base))
    resampled = synthesize(parse("Hello there.", "en-us"),
                           SpeechSettings(**base, sample_rate=22050))
    assert resampled.sample_rate == 22050
    assert resampled.duration == pytest.approx(own.duration, abs=1e-3)
    assert resampled.language == "en-us"


def test_phonemes_tile_pauses_between_segments(voice):
    settings = SpeechSettings(backend="piper", model=str(voice), cache=False)
    speech = synthesize(parse("One two. [pause 0.7] Three four. [pause 0.3]", "en-us"), settings)
    ph = speech.phonemes
    assert ph[0].start == 0.0 and ph[-1].end == pytest.approx(speech.duration, abs=1e-3)
    for a, b in zip(ph, ph[1:]):
        assert b.start == pytest.approx(a.end, abs=1e-3)
    (_, end0), (start1, _) = speech.segment_times
    assert start1 - end0 == pytest.approx(0.7, abs=0.01)
    assert any(p.symbol == "_" and p.start <= end0 + 0.01 and p.end >= start1 - 0.01 for p in ph)


def test_short_segments_align_and_fallback_estimates(voice, monkeypatch):
    settings = SpeechSettings(backend="piper", model=str(voice), cache=False)
    speech = synthesize(parse("Well [emph]big[/emph] news.", "en-us"), settings)
    assert [w.text for w in speech.words] == ["Well", "big", "news"]
    assert [w.segment for w in speech.words] == [0, 1, 2]
    assert {p.symbol for p in speech.phonemes} - {"_"}

    from paksatalker.core.speech import align as align_mod

    def fail(*_args, **_kw):
        raise InputError("audio is silent: nothing to align")

    monkeypatch.setattr(align_mod, "align", fail)
    guessed = synthesize(parse("Hello there.", "en-us"), settings)
    assert [w.text for w in guessed.words] == ["Hello", "there"]
    symbols = [p.symbol for p in guessed.phonemes]
    assert guessed.phonemes[0].start == 0.0 and "h" in symbols and any("ɛ" in s for s in symbols)
    assert guessed.phonemes[-1].end == pytest.approx(guessed.duration)
