# SPDX-License-Identifier: GPL-3.0-or-later
"""The OpenAI-compatible backend against a real chat-completions server on 127.0.0.1."""

import json

import pytest
from llm_fixtures import ChatServer

from paksatalker.core.errors import BackendError
from paksatalker.core.script import write
from paksatalker.core.script.llm import ScriptWriter
from paksatalker.core.script.llm_cache import LLMCache
from paksatalker.core.script.moderation import Blocked
from paksatalker.core.script.openai_chat import OpenAIChat
from paksatalker.core.settings import ScriptSettings

GOOD = json.dumps({"segments": [
    {"text": "Welcome to our shop!", "emotion": "happy", "intensity": 0.8,
     "gestures": ["wave"], "pause_after": 0.4},
    {"text": "Returns are free for thirty days.", "emotion": "neutral", "intensity": 0.5,
     "gestures": ["point left", "nod"], "pause_after": 0.0},
]})
BRIEF = "20 seconds explaining our refund policy, friendly"


@pytest.fixture(scope="module")
def server():
    s = ChatServer()
    yield s
    s.close()


@pytest.fixture
def chat(server):
    server.reset()
    return OpenAIChat(server.url, "qwen2.5:7b", timeout=2.0, retries=2, backoff=0.01)


def writer(chat, tmp_path, **kw):
    return ScriptWriter(chat, ScriptSettings(**kw), cache=LLMCache(tmp_path / "cache"))


def test_valid_json_answer_becomes_a_script(server, chat, tmp_path):
    server.reset({"content": GOOD})
    r = writer(chat, tmp_path, duration=20, persona_name="Ava", glossary=(("Crumb", ""),)
               ).write(BRIEF)
    segs = r.script.segments
    assert [s.text for s in segs] == ["Welcome to our shop!", "Returns are free for thirty days."]
    assert [(s.emotion, s.intensity) for s in segs] == [("happy", 0.8), ("neutral", 0.5)]
    assert [c.name for c in segs[0].cues] == ["wave"]
    assert [(c.name, c.args) for c in segs[1].cues] == [("point", ("left",)), ("nod", ())]
    assert segs[0].pause_after == pytest.approx(0.4)
    assert (r.attempts, r.repairs, r.fallback, r.language, r.input_language) == (
        1, [], "", "en", "en")
    assert r.voice  # an eSpeak voice that speaks English
    sent = server.requests[0]["body"]
    assert sent["model"] == "qwen2.5:7b" and sent["stream"] is False
    system = sent["messages"][0]["content"]
    assert "Ava" in system and "about 50 words" in system and "Crumb" in system
    assert sent["messages"][-1] == {"role": "user", "content": BRIEF}


def test_http_500_then_success_is_retried(server, chat, tmp_path):
    server.reset({"status": 500, "message": "overloaded"}, {"status": 503}, {"content": GOOD})
    r = writer(chat, tmp_path).write(BRIEF)
    assert r.script is not None and len(server.requests) == 3 and chat.requests == 3


def test_429_honours_retry_after(server, chat):
    server.reset({"status": 429, "headers": {"Retry-After": "0"}}, {"content": "hi"})
    assert chat.chat([{"role": "user", "content": "x"}]).text == "hi"
    assert len(server.requests) == 2


def test_a_body_that_is_not_a_completion_is_retried(server, chat):
    server.reset({"raw": b"<html>bad gateway</html>"}, {"content": "hi"})
    assert chat.chat([{"role": "user", "content": "x"}]).text == "hi"
    server.reset(default={"raw": b'{"choices": []}'})
    with pytest.raises(BackendError, match="not a chat completion"):
        chat.chat([{"role": "user", "content": "x"}])


def test_timeouts_are_retried_then_reported(server, chat):
    chat.timeout = 0.2
    server.reset({"delay": 0.6, "content": "late"}, {"content": "on time"})
    assert chat.chat([{"role": "user", "content": "x"}]).text == "on time"
    server.reset(default={"delay": 0.6, "content": "late"})
    with pytest.raises(BackendError, match="no answer within 0.2 s .3 tries"):
        chat.chat([{"role": "user", "content": "x"}])


def test_client_errors_fail_at_once_with_the_servers_message(server, chat):
    server.reset({"status": 401, "message": "invalid api key"})
    with pytest.raises(BackendError, match="HTTP 401 invalid api key; check the API key"):
        chat.chat([{"role": "user", "content": "x"}])
    assert len(server.requests) == 1
    bad = OpenAIChat(server.url.replace("/v1", "/nope"), timeout=2, retries=0)
    with pytest.raises(BackendError, match="404"):
        bad.chat([{"role": "user", "content": "x"}])


def test_unreachable_server_is_a_backend_error():
    chat = OpenAIChat("http://127.0.0.1:9/v1", timeout=0.5, retries=1, backoff=0.01)
    with pytest.raises(BackendError, match="cannot connect"):
        chat.chat([{"role": "user", "content": "x"}])


def test_malformed_json_is_repaired(server, chat, tmp_path):
    sloppy = ("Sure! Here is your script:\n```json\n{'segments': [{'text': 'Hello there!', "
              "'emotion': 'Joyful', 'intensity': 1.7, 'gestures': 'wave', 'pause_after': 9,},"
              "{\u201ctext\u201d: \u201cSee you soon.\u201d, emotion: 'sad', intensity: 0.3, "
              "gestures: [], pause_after: 0, language: 'en'},]}\n```\nEnjoy!")
    server.reset({"content": sloppy})
    r = writer(chat, tmp_path).write(BRIEF)
    s = r.script.segments
    assert [x.text for x in s] == ["Hello there!", "See you soon."]
    assert (s[0].emotion, s[0].intensity, s[0].pause_after) == ("happy", 1.0, 3.0)
    assert [c.name for c in s[0].cues] == ["wave"]
    assert r.attempts == 1
    for note in ("removed a code fence", "removed trailing commas", "quoted bare keys",
                 "clamped intensity 1.7 to 0..1", "clamped pause 9 to 0..3"):
        assert note in r.repairs


def test_invalid_answer_is_retried_with_the_error_fed_back(server, chat, tmp_path):
    server.reset({"content": '{"segments": [{"emotion": "happy"}]}'}, {"content": GOOD})
    r = writer(chat, tmp_path).write(BRIEF)
    assert r.attempts == 2 and r.script is not None
    retry = server.requests[1]["body"]["messages"]
    assert retry[-2]["role"] == "assistant" and "emotion" in retry[-2]["content"]
    assert "missing 'text'" in retry[-1]["content"]


def test_garbage_ends_in_a_clear_error_or_a_reported_fallback(server, chat, tmp_path):
    server.reset(default={"content": "lorem {ipsum"})
    with pytest.raises(BackendError, match="no valid script in 2 attempt"):
        writer(chat, tmp_path, attempts=2).write(BRIEF)
    r = writer(chat, tmp_path, attempts=2, on_failure="brief").write("Hello [happy] world")
    assert r.fallback.startswith("the model gave no valid script in 2 attempt")
    assert r.script.text == "Hello world" and r.markup == "Hello [happy] world"


def test_streaming_reads_server_sent_events(server, tmp_path):
    server.reset({"content": GOOD})
    chat = OpenAIChat(server.url, "m", stream=True, timeout=2, retries=0)
    pieces = []
    r = ScriptWriter(chat, ScriptSettings(cache=False), on_token=pieces.append).write(BRIEF)
    assert server.requests[0]["body"]["stream"] is True
    assert len(pieces) > 5 and "".join(pieces) == GOOD
    assert r.script.segments[0].text == "Welcome to our shop!"


def test_model_refusal_blocks_and_nothing_is_spoken(server, chat, tmp_path):
    server.reset({"content": "I'm sorry, but I can't help with that request."})
    with pytest.raises(Blocked, match="the model refused: I'm sorry, but I can't help"):
        writer(chat, tmp_path).write(BRIEF)
    server.reset({"content": '{"refusal": "This is a dangerous topic."}'})
    with pytest.raises(Blocked, match="dangerous topic"):
        writer(chat, tmp_path).write(BRIEF)
    server.reset({"content": None, "refusal": "policy violation"})
    with pytest.raises(Blocked, match="policy violation"):
        writer(chat, tmp_path).write(BRIEF)
    assert len(server.requests) == 1  # one request per refusal, no retries


def test_block_list_stops_the_brief_before_the_model_and_the_script_after(server, chat,
                                                                         tmp_path):
    server.reset(default={"content": GOOD})
    w = writer(chat, tmp_path, block_terms=("casino", "thirty days"))
    with pytest.raises(Blocked, match="brief contains the blocked term 'casino'"):
        w.write("Advertise our CASINO, 20 seconds")
    assert server.requests == []
    with pytest.raises(Blocked, match="script contains the blocked term 'thirty days'"):
        w.write(BRIEF)


def test_api_key_comes_from_the_named_variable_and_is_never_stored(server, tmp_path,
                                                                  monkeypatch):
    chat = OpenAIChat(server.url, "m", api_key_env="TEST_LLM_KEY", timeout=2, retries=0)
    with pytest.raises(BackendError, match=r"\$TEST_LLM_KEY is not set"):
        chat.chat([{"role": "user", "content": "x"}])
    monkeypatch.setenv("TEST_LLM_KEY", "sk-secret-123")
    server.reset({"content": GOOD})
    writer(chat, tmp_path).write(BRIEF)
    assert server.requests[-1]["headers"]["Authorization"] == "Bearer sk-secret-123"
    stored = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    assert stored and "sk-secret" not in stored


def test_cache_is_keyed_by_model_prompt_and_parameters(server, chat, tmp_path):
    server.reset(default={"content": GOOD})
    first = writer(chat, tmp_path).write(BRIEF)
    again = writer(chat, tmp_path).write(BRIEF)
    assert (first.cached, again.cached, len(server.requests)) == (False, True, 1)
    assert again.script == first.script
    writer(chat, tmp_path, temperature=0.2).write(BRIEF)
    writer(chat, tmp_path).write(BRIEF + "!")
    other = OpenAIChat(server.url, "another-model", timeout=2, retries=0)
    writer(other, tmp_path).write(BRIEF)
    assert len(server.requests) == 4


def test_batch_of_briefs_collects_failures(server, chat, tmp_path):
    def answer(body):
        asked = " ".join(m["content"] for m in body["messages"] if m["role"] == "user")
        return {"content": "nonsense"} if "a bad one" in asked else {"content": GOOD}

    server.reset(default=answer)
    briefs = ["refunds, 10 s", "shipping, 10 s", "a bad one", "casino promo"]
    results = writer(chat, tmp_path, attempts=2, block_terms=("casino",)).write_many(briefs)
    assert [r.script is not None for r in results] == [True, True, False, False]
    assert "no valid script" in results[2].error and "casino" in results[3].blocked
    assert len(server.requests) == 2 + 2  # 3 briefs in round 1, the bad one again in round 2


def test_pipeline_script_stage_uses_the_server(server):
    server.reset({"content": GOOD})
    s = ScriptSettings(endpoint=server.url, model="m", timeout=2, retries=0, cache=False)
    script = write(BRIEF, backend="openai", language="en", settings=s)
    assert script.segments[1].text == "Returns are free for thirty days."


def test_a_failed_request_in_a_batch_fails_only_its_brief(server, chat, tmp_path):
    def answer(body):
        asked = body["messages"][-1]["content"]
        return {"status": 400, "message": "context too long"} if "huge" in asked else {
            "content": GOOD}

    server.reset(default=answer)
    ok, bad = writer(chat, tmp_path).write_many(["refunds, 10 s", "a huge brief"])
    assert ok.script is not None and bad.script is None
    assert "HTTP 400 context too long" in bad.error
