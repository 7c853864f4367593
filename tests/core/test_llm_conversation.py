# SPDX-License-Identifier: GPL-3.0-or-later
"""Multi-turn sessions against a real chat-completions server: memory on disk, summaries."""

import json

import pytest
from llm_fixtures import ChatServer

from paksatalker.core.errors import InputError
from paksatalker.core.script.conversation import Conversation
from paksatalker.core.script.llm import ScriptWriter
from paksatalker.core.script.openai_chat import OpenAIChat, estimate_tokens
from paksatalker.core.settings import ScriptSettings


@pytest.fixture(scope="module")
def server():
    s = ChatServer()
    yield s
    s.close()


def answer(body):
    """A scripted 'model': summaries on request, otherwise it quotes what it knows."""
    system = body["messages"][0]["content"]
    if system.startswith("You summarise conversations"):
        return {"content": "The user is Ada; her favourite colour is teal."}
    question = body["messages"][-1]["content"]
    known = "teal" if "teal" in json.dumps(body["messages"]) else "unknown"
    return {"content": f"Reply to '{question[:30]}' (colour: {known})"}


def test_memory_summary_and_follow_ups(server, tmp_path):
    server.reset(default=answer)
    chat = OpenAIChat(server.url, "m", timeout=2, retries=0)
    path = tmp_path / "session.json"
    conv = Conversation(chat, path, budget=160, keep_last=2, max_tokens=64)
    conv.ask("Hi, I am Ada and my favourite colour is teal. " + "Tell me a story. " * 4)
    for i in range(4):
        reply = conv.ask(f"Follow-up question number {i}, please answer in context.")
    assert conv.summarised > 0 and conv.summary.startswith("The user is Ada")
    assert all(chat.count_tokens(r["body"]["messages"]) <= 160 for r in server.requests)
    summaries = [r for r in server.requests
                 if r["body"]["messages"][0]["content"].startswith("You summarise")]
    assert summaries and "Ada" in summaries[0]["body"]["messages"][1]["content"]
    last = server.requests[-1]["body"]["messages"]
    assert "The user is Ada" in last[0]["content"]  # the summary rides in the system message
    assert "Tell me a story" not in json.dumps(last)  # the old turn itself is gone
    assert "(colour: teal)" in reply  # the follow-up was answered with the memory
    saved = json.loads(path.read_text())
    assert saved["summary"] == conv.summary and len(saved["turns"]) == len(conv.turns)
    again = Conversation(chat, path, budget=160)
    assert (again.summary, again.turns, again.summarised) == (conv.summary, conv.turns,
                                                              conv.summarised)
    assert not list(tmp_path.glob(".session.json.*"))  # atomic writes leave no temp files


def test_script_follow_up_keeps_the_earlier_script_in_context(server, tmp_path):
    good = '{"segments": [{"text": "Refunds take five days.", "emotion": "neutral"}]}'
    server.reset({"content": good}, {"content": good.replace("five", "three")})
    chat = OpenAIChat(server.url, "m", timeout=2, retries=0)
    writer = ScriptWriter(chat, ScriptSettings(cache=False))
    conv = Conversation(chat, tmp_path / "s.json")
    conv.write_script("Our refund policy", writer)
    r = conv.write_script("Make it faster: three days", writer)
    assert r.script.text == "Refunds take three days."
    sent = server.requests[1]["body"]["messages"]
    assert sent[-3:] == [
        {"role": "user", "content": "Our refund policy"},
        {"role": "assistant", "content": "[neutral 0.7] Refunds take five days."},
        {"role": "user", "content": "Make it faster: three days"}]


def test_bad_session_files_and_oversized_messages_are_input_errors(server, tmp_path):
    chat = OpenAIChat(server.url, "m", timeout=2, retries=0)
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 99, "turns": []}')
    with pytest.raises(InputError, match="not a conversation file"):
        Conversation(chat, bad)
    with pytest.raises(InputError, match="write a shorter one"):
        Conversation(chat, budget=50).ask("word " * 200)


def test_server_token_estimate():
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("你好世界") == 4
    chat = OpenAIChat("http://127.0.0.1:1/v1")
    assert chat.count_tokens([{"role": "user", "content": "abcd"}]) == 4 + 1 + 2
