# SPDX-License-Identifier: GPL-3.0-or-later
import pytest

from paksatalker.core.errors import InputError
from paksatalker.core.script import SCRIPT, parse, write
from paksatalker.core.types import MAX_TEXT_CHARS


def test_plain_text_is_one_neutral_segment():
    s = parse("Hello there.  How are   you?")
    assert len(s.segments) == 1
    seg = s.segments[0]
    assert seg.text == "Hello there. How are you?"
    assert (seg.emotion, seg.intensity, seg.pause_after) == ("neutral", 1.0, 0.0)


def test_emotion_tags_split_segments_with_intensity():
    s = parse("Hi. [happy] Great news! [sad 0.5] But not all.")
    assert [g.text for g in s.segments] == ["Hi.", "Great news!", "But not all."]
    assert [g.emotion for g in s.segments] == ["neutral", "happy", "sad"]
    assert s.segments[2].intensity == 0.5


def test_cues_point_at_the_next_word():
    s = parse("I am *nod* your avatar *wave*")
    seg = s.segments[0]
    assert seg.text == "I am your avatar"
    names = [c.name for c in seg.cues]
    assert names == ["nod", "wave"]
    assert seg.text[seg.cues[0].char_index:].startswith("your")
    assert seg.cues[1].char_index == len(seg.text)


def test_pauses_and_language():
    s = parse("One... two [pause 1.5] three [lang de] vier")
    assert [g.text for g in s.segments] == ["One", "two", "three", "vier"]
    assert [g.pause_after for g in s.segments] == [0.5, 1.5, 0.0, 0.0]
    assert s.segments[-1].language == "de"
    assert s.segments[0].language == "en"


@pytest.mark.parametrize("bad", ["", "   \n\t", "[happy] *nod*", "x" * (MAX_TEXT_CHARS + 1),
                                 "Hi [joyful]", "Hi [sad 2]", "Hi [pause x]", "Hi []",
                                 "Hi [lang 12]"])
def test_bad_input_is_one_line_input_error(bad):
    with pytest.raises(InputError) as e:
        parse(bad)
    assert "\n" not in str(e.value)


def test_registry_lists_markup_and_rejects_unknown():
    assert "markup" in SCRIPT.names()
    assert write("Hi", backend="markup").text == "Hi"
    with pytest.raises(Exception, match="unknown script backend 'nope'; available: markup"):
        write("Hi", backend="nope")
