# SPDX-License-Identifier: GPL-3.0-or-later
"""The speech stage with the real eSpeak NG library (from espeakng-loader)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from paksatalker.core.errors import BackendError, InputError
from paksatalker.core.settings import SpeechSettings
from paksatalker.core.speech import SPEECH, VoiceInfo, list_voices, synthesize
from paksatalker.core.speech.espeak import phonemize
from paksatalker.core.speech.espeak_timing import closure_onsets, vowel_ends
from paksatalker.core.types import Script, Segment

IPA_VOWELS = set("aeiouyæɑɒɐɔəɚɛɜɝɞɤɨɪʉʊʌʏøœɘɵɯᵻ")


def speak(*texts: str, language: str = "en", pause: float = 0.0, **settings):
    script = Script(tuple(Segment(t, language=language, pause_after=pause) for t in texts))
    return synthesize(script, SpeechSettings(**settings))


@pytest.fixture(scope="module")
def fox():
    return speak("The quick brown fox jumps over the lazy dog.")


def test_audio_and_rate(fox):
    assert fox.sample_rate == 22050 and fox.samples.dtype == np.float32
    assert fox.duration > 1.0 and fox.duration < 6.0
    assert np.max(np.abs(fox.samples)) <= 1.0 and np.max(np.abs(fox.samples)) > 0.1


def test_timings_are_monotonic_and_tile_the_audio(fox):
    ph = fox.phonemes
    assert ph[0].start == 0.0 and ph[-1].end == pytest.approx(fox.duration)
    for a, b in zip(ph, ph[1:]):
        assert a.end == pytest.approx(b.start) and a.start <= a.end
    for seq in (fox.words, ph):
        starts = [x.start for x in seq]
        assert starts == sorted(starts)
        assert all(0.0 <= x.start <= x.end <= fox.duration for x in seq)
    assert not any(a.symbol == b.symbol == "_" for a, b in zip(ph, ph[1:]))


def test_words_match_the_text(fox):
    text = "The quick brown fox jumps over the lazy dog."
    assert [w.text for w in fox.words] == text.rstrip(".").split()
    for w in fox.words:
        assert text[w.char_start:w.char_start + len(w.text)] == w.text and w.segment == 0
    for a, b in zip(fox.words, fox.words[1:]):
        assert a.end <= b.start + 1e-9


def test_multibyte_text_positions():
    text = "Naïve café owners smile, “déjà vu” again."
    sp = speak(text)
    assert [w.text for w in sp.words] == ["Naïve", "café", "owners", "smile", "déjà", "vu",
                                          "again"]
    for w in sp.words:
        assert text[w.char_start:w.char_start + len(w.text)] == w.text


def test_numbers_merge_into_their_token():
    sp = speak("I have 25 cats.")
    assert [w.text for w in sp.words] == ["I", "have", "25", "cats"]


def test_bilabials_inside_their_words():
    sp = speak("Bob met Pam by the map")
    expect = {"Bob": {"b"}, "met": {"m"}, "Pam": {"p", "m"}, "by": {"b"}, "the": set(),
              "map": {"m", "p"}}
    assert [w.text for w in sp.words] == list(expect)
    for w in sp.words:
        inside = {p.symbol for p in sp.phonemes
                  if w.start <= (p.start + p.end) / 2 < w.end and p.symbol in "pbm"}
        assert inside == expect[w.text], w


def test_stress_is_on_vowels_and_stripped(fox):
    stressed = [p for p in fox.phonemes if p.stress == 2]
    assert len(stressed) >= 4
    assert all(set(p.symbol) & IPA_VOWELS for p in stressed)
    assert not any("ˈ" in p.symbol or "ˌ" in p.symbol for p in fox.phonemes)
    sp = speak("pronunciation information")
    assert any(p.stress == 1 for p in sp.phonemes)


def test_faster_rate_is_shorter():
    slow = speak("Hello there, how are you doing today?", rate=120)
    fast = speak("Hello there, how are you doing today?", rate=300)
    assert fast.duration < 0.6 * slow.duration


def _median_f0(x: np.ndarray, sr: int) -> float:
    """Median autocorrelation pitch over loud 1024-sample frames, in Hz."""
    f0 = []
    lo, hi = sr // 400, sr // 60
    for i in range(0, len(x) - 1024, 512):
        f = x[i:i + 1024] - x[i:i + 1024].mean()
        if np.sqrt(np.mean(f**2)) < 0.05:
            continue
        ac = np.correlate(f, f, "full")[1023:]
        f0.append(sr / (lo + np.argmax(ac[lo:hi])))
    return float(np.median(f0))


def test_pitch_changes_the_voice():
    text = "Hello there, how are you doing today my friend?"
    low, high = speak(text, pitch=10), speak(text, pitch=90)
    assert _median_f0(high.samples, high.sample_rate) > 1.3 * _median_f0(low.samples,
                                                                          low.sample_rate)


def test_segments_with_pause():
    sp = speak("First part here.", "And the second part.", pause=0.5)
    (s0, e0), (s1, e1) = sp.segment_times
    assert s0 == 0.0 and e1 <= sp.duration and e1 - s1 > 0.5
    assert s1 - e0 >= 0.5 - 1e-9
    gap = sp.samples[int(e0 * sp.sample_rate):int(s1 * sp.sample_rate)]
    assert np.max(np.abs(gap)) < 1e-3
    assert [w.segment for w in sp.words] == [0, 0, 0, 1, 1, 1, 1]
    assert sp.words[3].text == "And" and sp.words[3].char_start == 0
    assert all(s1 <= w.start for w in sp.words[3:]) and all(w.end <= e0 for w in sp.words[:3])
    assert any(p.symbol == "_" and p.start <= e0 and p.end >= s1 for p in sp.phonemes)


@pytest.mark.parametrize("voice, text, n_words", [
    ("de", "Guten Morgen, wie geht es dir?", 6),
    ("fr", "Bonjour, comment ça va?", 4),
    ("es", "Buenos días, ¿cómo estás?", 4),
    ("cmn", "你好，我很高兴见到你。", 8),
])
def test_other_languages(voice, text, n_words):
    sp = speak(text, language=voice, voice=voice)
    spoken = [p for p in sp.phonemes if p.symbol != "_"]
    assert len(spoken) >= 10 and any(p.stress == 2 for p in spoken)
    assert len(sp.words) == n_words and sp.language == voice
    for w in sp.words:
        assert text[w.char_start:w.char_start + len(w.text)] == w.text


def test_mandarin_words_and_aspiration():
    sp = speak("你好，今天天气很好。", language="zh", voice="cmn")
    assert sp.words[0].text == "你好"
    assert "tʰ" in {p.symbol for p in sp.phonemes}


def test_segment_language_picks_its_own_voice():
    german = speak("Ich spreche Deutsch.", language="de", voice="en-us")
    english = speak("Ich spreche Deutsch.", language="en", voice="en-us")
    assert "ç" in {p.symbol for p in german.phonemes}
    assert "ç" not in {p.symbol for p in english.phonemes}


def test_unknown_voice():
    with pytest.raises(InputError) as err:
        speak("hello", voice="klingon-xx")
    msg = str(err.value)
    assert msg == "unknown voice 'klingon-xx'; run `paksatalker voices` to list them"


def test_unknown_segment_language():
    with pytest.raises(InputError, match="no voice for language 'xx'"):
        speak("hello", language="xx")


def test_unknown_backend():
    with pytest.raises(BackendError, match="available: .*espeak"):
        speak("hello", backend="nope")


def test_list_voices():
    voices = list_voices()
    assert len(voices) > 50 and all(isinstance(v, VoiceInfo) for v in voices)
    english = [v for v in voices if "en-us" in v.languages]
    assert english and english[0].identifier and english[0].gender in {"male", "female",
                                                                       "unknown"}
    assert any("de" in v.languages for v in voices)
    assert SPEECH.default == "espeak" and "espeak" in SPEECH.names()


def _same_speech(a, b) -> None:
    """eSpeak's output varies by a few samples (up to ~13 ms per utterance) from call to call;
    the content does not. A boundary moved to where a vowel's energy halves can follow that
    variation by a little more than 10 ms, so boundaries agree within 20 ms (under a 30 fps
    frame)."""
    assert abs(a.duration - b.duration) < 0.02
    assert [p.symbol for p in a.phonemes] == [p.symbol for p in b.phonemes]
    assert [w.text for w in a.words] == [w.text for w in b.words]
    for x, y in zip(a.phonemes, b.phonemes):
        assert abs(x.start - y.start) < 0.02


def test_voice_by_name_and_variant():
    a = speak("Hello world.", voice="English (America)")
    b = speak("Hello world.", voice="en-us")
    _same_speech(a, b)
    c = speak("Hello world.", voice="en-us+f3")
    assert _median_f0(c.samples, c.sample_rate) > 1.3 * _median_f0(b.samples, b.sample_rate)


def test_repeatable_and_thread_safe():
    first = speak("Repeat after me, please.")
    results = [None] * 4

    def run(i):
        results[i] = speak("Repeat after me, please.")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        _same_speech(r, first)


def test_phonemize():
    ipa = phonemize("Hello world")
    assert ipa.startswith("h") and "ˈ" in ipa and len(ipa.split()) == 2


def test_misplaced_word_events_are_realigned():
    sp = speak("Say déjà vu, or 1999 usw. ok", language="en")
    assert [w.text for w in sp.words] == ["Say", "déjà", "vu", "or", "1999", "usw", "ok"]
    for a, b in zip(sp.words, sp.words[1:]):
        assert a.start < b.start


def test_word_spans_from_event_positions():
    from paksatalker.core.speech.espeak_words import word_spans

    text = "I read 1999 déjà vu usw. ok"
    # "1999" read as three words; "vu" placed inside "déjà"; "ok" placed on the space before it
    events = [(0, 0), (2, 10), (7, 20), (8, 30), (8, 40), (12, 50), (13, 60), (20, 65), (24, 70)]
    spans = word_spans(text, events)
    assert [w for w, _, _ in spans] == ["I", "read", "1999", "déjà", "vu", "usw", "ok"]
    assert [c for _, c, _ in spans] == [0, 2, 7, 12, 17, 20, 25]
    assert [s for _, _, s in spans] == [0, 10, 20, 50, 60, 65, 70]
    assert [w for w, _, _ in word_spans("你好世界。", [(0, 0), (2, 5), (3, 9)])] == [
        "你好", "世", "界"]
    assert word_spans("— …", [(0, 0)]) == []


def test_phoneme_names_become_ipa():
    from paksatalker.core.speech.espeak_timing import parse_symbol

    assert parse_symbol("ˈɑː") == ("ɑː", 2)
    assert parse_symbol("ˌɪ") == ("ɪ", 1)
    assert parse_symbol("") == ("_", 0)
    assert parse_symbol("(en)") is None
    assert parse_symbol("ts.h") == ("ʈʂʰ", 0) and parse_symbol("ˈi.") == ("ɻ̩", 2)
    assert parse_symbol("ə-") == ("ə", 0)


def test_empty_segment_and_languages_in_one_script():
    script = Script((
        Segment("", pause_after=0.3),
        Segment("Good morning.", pause_after=0.2),
        Segment("Guten Morgen.", language="de"),
    ))
    sp = synthesize(script, SpeechSettings(voice="en-us"))
    (s0, e0), (s1, e1), (s2, e2) = sp.segment_times
    assert s0 == e0 == 0.0 and s1 == pytest.approx(0.3, abs=1e-4)
    assert s2 - e1 == pytest.approx(0.2, abs=1e-4) and e2 <= sp.duration
    assert np.max(np.abs(sp.samples[: int(0.3 * sp.sample_rate)])) == 0.0
    assert [(w.text, w.segment, w.char_start) for w in sp.words] == [
        ("Good", 1, 0), ("morning", 1, 5), ("Guten", 2, 0), ("Morgen", 2, 6)]
    ph = sp.phonemes
    assert ph[0].symbol == "_" and ph[0].end >= 0.3 and ph[-1].end == pytest.approx(sp.duration)
    assert all(a.end == pytest.approx(b.start) for a, b in zip(ph, ph[1:]))
    german = {p.symbol for p in ph if p.start >= s2}
    assert "ɔ" in german and "ɡ" in german


def test_unknown_variant_is_unknown_voice():
    with pytest.raises(InputError, match="unknown voice 'en-us\\+nosuch'"):
        speak("hello", voice="en-us+nosuch")


def test_words_read_as_one_phrase_still_get_their_own_times():
    """eSpeak reads "I am" as one dictionary phrase with one word event."""
    from paksatalker.core.script import parse
    from paksatalker.core.settings import SpeechSettings
    from paksatalker.core.speech import synthesize

    speech = synthesize(parse("Hello! I am your new avatar."), SpeechSettings())
    assert [w.text for w in speech.words] == ["Hello", "I", "am", "your", "new", "avatar"]
    i, am = speech.words[1], speech.words[2]
    assert i.start < i.end <= am.start + 1e-6 < am.end
    assert am.char_start == len("Hello! I ")


def test_stop_closures_belong_to_the_stop():
    # eSpeak's p/t/k events come at the release; the closure silence before it is the stop's
    sp = speak("Keep a tight cap on it, Kate.", backend="espeak")
    x, rate = sp.samples, sp.sample_rate
    checked = 0
    for prev, ph in zip(sp.phonemes, sp.phonemes[1:]):
        if ph.symbol in ("p", "t", "k") and prev.symbol != "_":
            tail = x[int(round(prev.end * rate)) - int(0.005 * rate):int(round(prev.end * rate))]
            assert np.max(np.abs(tail)) > 2 / 32768, (prev, ph)
            checked += 1
    assert checked >= 3


def test_closure_and_vowel_end_refinement_on_synthetic_audio():
    rate = 10000
    pcm = np.zeros(4000, np.int16)
    t = np.arange(1500) / rate
    pcm[500:2000] = (8000 * np.sin(2 * np.pi * 150 * t)).astype(np.int16)  # vowel at 0.05 s
    pcm[1500:2000] //= 10  # its sound falls 50 ms before the next event
    pcm[2300:2600] = 3000  # release of a stop whose closure (silence) starts at 0.2 s
    events = [("_", 0, 500, 0), ("a", 500, 2300, 2), ("p", 2300, 2600, 0), ("_", 2600, 4000, 0)]
    closed = closure_onsets(events, pcm, rate)
    assert closed[1][2] == closed[2][1] == 2000 and closed[2][2] == 2600
    ends = vowel_ends(closed, pcm, rate)  # the vowel then ends where its sound falls
    assert abs(ends[1][2] - 1500) <= 100 and ends[2][1] == ends[1][2]
    voiced = pcm.copy()
    voiced[2000:2300] = 500  # a voice bar instead of silence: the stop keeps its event time
    assert closure_onsets(events, voiced, rate) == events
    assert [e[0] for e in ends] == [e[0] for e in events] and ends[0] == events[0]
