# SPDX-License-Identifier: GPL-3.0-or-later
"""Schema validation, repair and markup of the LLM's JSON segments; prompt assembly."""

import json

import pytest

from paksatalker.core.body.lexicon import KINDS
from paksatalker.core.errors import InputError
from paksatalker.core.script import langid
from paksatalker.core.script.markup import parse
from paksatalker.core.script.prompting import (
    GESTURES,
    Example,
    Persona,
    PromptSpec,
    build_messages,
    target_words,
)
from paksatalker.core.script.structured import (
    SCHEMA,
    InvalidReply,
    Refusal,
    parse_reply,
    to_markup,
    validate,
)

SEG = {"text": "Hi there.", "emotion": "happy", "intensity": 0.5, "gestures": ["nod"],
       "pause_after": 0.2}


def test_validator_reports_paths_and_problems():
    assert validate({"segments": [SEG]}) == []
    errs = validate({"segments": [{**SEG, "emotion": "giddy", "intensity": 2, "gestures": [3]},
                                  {"emotion": "sad"}]})
    assert "$.segments[0].emotion: 'giddy' is not one of neutral, happy" in errs[0]
    assert "$.segments[0].intensity: 2 outside 0.0..1.0" in errs
    assert "$.segments[0].gestures[0]: expected string, got int" in errs
    assert "$.segments[1]: missing 'text'" in errs
    assert validate({"segments": []}) == ["$.segments: 0 items, allowed 1..200"]
    assert validate([]) == ["$: expected object, got list"]
    assert SCHEMA["properties"]["segments"]["items"]["required"][0] == "text"


@pytest.mark.parametrize("reply, note", [
    ('{"segments": [' + json.dumps(SEG) + ',]}', "removed trailing commas"),
    ("```json\n" + json.dumps({"segments": [SEG]}) + "\n```", "removed a code fence"),
    ("Here you go: " + json.dumps({"segments": [SEG]}) + " Enjoy!", "dropped text around"),
    ('{"segments": [{"text": "Hi there.", "emotion": "happy", "intensity": 0.5, '
     '"gestures": ["nod"], "pause_after": 0.2', "closed a truncated JSON tail"),
    ("{'segments': [{'text': 'Hi there.', 'emotion': 'happy', 'intensity': 0.5, "
     "'gestures': ['nod'], 'pause_after': 0.2, 'x': True}]}", "single-quoted strings"),
    ('{segments: [{text: "Hi there.", emotion: "happy", intensity: 0.5, gestures: ["nod"], '
     "pause_after: 0.2}]}", "quoted bare keys"),
    (json.dumps([SEG]), "wrapped a bare list"),
])
def test_common_slips_are_repaired(reply, note):
    parsed = parse_reply(reply)
    assert parsed.segments[0]["text"] == "Hi there." and parsed.segments[0]["emotion"] == "happy"
    assert any(note in r for r in parsed.repairs), parsed.repairs


def test_repairs_leave_the_inside_of_strings_alone():
    p = parse_reply('{segments: [{text: "Note, first: True, then {b},", emotion: "sad",},]}')
    assert p.segments[0]["text"] == "Note, first: True, then {b},"
    assert p.repairs == ["quoted bare keys", "removed trailing commas"]


def test_values_are_normalised_and_clamped():
    p = parse_reply(json.dumps({"segments": [
        {"text": "  Hello [angry] *wave there ", "emotion": "Cheerful", "intensity": "80%",
         "gestures": "Point Left!", "pause_after": -1},
        {"text": "Bye.", "emotion": "bored"}]}))
    a, b = p.segments
    assert a == {"text": "Hello wave there", "emotion": "happy", "intensity": 1.0,
                 "gestures": ["point left"], "pause_after": 0.0}
    assert (b["emotion"], b["intensity"], b["gestures"]) == ("neutral", 0.7, [])
    assert "unknown emotion 'bored' became neutral" in p.repairs


@pytest.mark.parametrize("reply, why", [
    ("", "empty"), ("no json here at all", "no JSON object"),
    ('{"segments": [{"text": "\x10\x11 ,,"}]}', "has no words"),
    ('{"segments": [{"text": 3}]}', "expected string"),
    ('{"foo": 1}', "missing 'segments'"),
    ("{{{]]] ::", "does not parse"),
])
def test_unrepairable_replies_say_why(reply, why):
    with pytest.raises(InvalidReply, match=why):
        parse_reply(reply)


def test_refusal_object_is_recognised():
    assert parse_reply('{"refusal": "not appropriate"}') == Refusal("not appropriate")


def test_markup_round_trips_through_the_parser_with_code_switching():
    segs = [SEG, {"text": "Willkommen bei uns, wir freuen uns sehr auf Sie und Ihre Familie.",
                  "emotion": "neutral", "intensity": 0.6, "gestures": [], "pause_after": 0.0},
            {"text": "Thank you!", "emotion": "happy", "intensity": 1.0,
             "gestures": ["count 3"], "pause_after": 1.0, "language": "en"}]
    markup = to_markup(segs, "en", langid.split_runs)
    script = parse(markup, "en")
    assert [(s.text, s.language, s.emotion) for s in script.segments] == [
        ("Hi there.", "en", "happy"),
        ("Willkommen bei uns, wir freuen uns sehr auf Sie und Ihre Familie.", "de", "neutral"),
        ("Thank you!", "en", "happy")]
    assert "[lang de]" in markup and "[lang en]" in markup
    assert script.segments[0].pause_after == pytest.approx(0.2)
    assert [(c.name, c.args) for c in script.segments[2].cues] == [("count", ("3",))]


def test_prompt_assembly_persona_length_glossary_and_budget():
    spec = PromptSpec(Persona("Ava", "support agent", "calm"), formality="formal", duration=60,
                      words_per_minute=150, language="de", glossary=(("Crumb", "our app"),))
    assert target_words(60, 150) == 150 and target_words(1, 60) == 5
    msgs = build_messages("Erkläre die Rückgabe", spec)
    system = msgs[0]["content"]
    for part in ("You are Ava, a support agent", "Tone: calm", "no contractions",
                 "about 150 words", "in German", "- Crumb: our app", '{"refusal"'):
        assert part in system
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user", "assistant",
                                         "user"]
    count = lambda ms: sum(len(m["content"]) for m in ms)
    lean = build_messages("Brief", spec, count, count(msgs[:1]) + 10)
    assert len(lean) == 2  # few-shot examples dropped to fit
    with pytest.raises(InputError, match="only 5 fit"):
        build_messages("Brief", spec, count, 5)
    with pytest.raises(InputError, match="brief is empty"):
        build_messages("  ", spec)
    own = PromptSpec(examples=(Example("b", '{"segments": []}'),))
    assert len(build_messages("x", own)) == 4
    for reply in (m["content"] for m in msgs if m["role"] == "assistant"):
        assert validate(json.loads(reply)) == []  # built-in examples follow the schema


def test_suggested_gestures_are_body_gesture_kinds():
    assert all(g.split()[0] in KINDS for g in GESTURES)
