# SPDX-License-Identifier: GPL-3.0-or-later
"""Multi-turn sessions with an LLM: memory on disk, token budget, summaries of old turns.

A :class:`Conversation` keeps the turns (user/assistant messages) and a running summary in a
JSON file (written to a temporary file and renamed after every turn), so ``paksatalker script
--session talk.json`` continues where the last call stopped: "make it shorter", "now in German"
are answered with the earlier script in context.

Tokens are counted by the model's ``count_tokens``: the real tokenizer and chat template for a
local model, an estimate for servers (see :mod:`.openai_chat`). When the prompt would not fit the
budget (context window minus the reply's ``max_tokens``), all but the last ``keep_last`` turns
are folded into the summary by the model itself, and the summary travels in the system message.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import BackendError, InputError
from .llm import ChatModel, Message, ScriptResult, ScriptWriter
from .llm_cache import atomic_write_text

VERSION = 1
DEFAULT_SYSTEM = ("You are a helpful presenter who writes and discusses short spoken scripts "
                  "for a talking 3D avatar. Answer briefly.")
SUMMARY_SYSTEM = ("You summarise conversations. Write at most {words} words. Keep names, numbers, "
                  "decisions, the latest script's topic and the user's preferences.")


class Conversation:
    """A chat session with ``model``; saved to ``path`` (when given) after every turn."""

    def __init__(self, model: ChatModel, path: str | os.PathLike | None = None, *,
                 system: str = DEFAULT_SYSTEM, budget: int | None = None, keep_last: int = 4,
                 max_tokens: int = 512, temperature: float = 0.7, seed: int = 0,
                 summary_words: int = 120) -> None:
        self.model = model
        self.path = Path(path) if path is not None else None
        self.max_tokens, self.temperature, self.seed = max_tokens, temperature, seed
        self.budget = budget if budget is not None else model.context_window - max_tokens
        self.keep_last = max(2, keep_last)
        self.summary_words = summary_words
        self.system = system
        self.summary = ""
        self.turns: list[Message] = []
        self.summarised = 0
        """Turns folded into the summary so far."""
        if self.path is not None and self.path.exists():
            self._load()

    # ------------------------------------------------------------------ persistence
    def _load(self) -> None:
        try:
            state: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
            turns = [{"role": str(t["role"]), "content": str(t["content"])}
                     for t in state["turns"]]
            if state.get("version") != VERSION or any(
                    t["role"] not in ("user", "assistant") for t in turns):
                raise ValueError("unknown format")
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise InputError(f"{self.path}: not a conversation file ({e}); "
                             "delete it or pick another --session path") from None
        self.system = state.get("system") or self.system
        self.summary = str(state.get("summary", ""))
        self.summarised = int(state.get("summarised", 0))
        self.turns = turns

    def save(self) -> None:
        if self.path is None:
            return
        state = {"version": VERSION, "model": self.model.model_id, "system": self.system,
                 "summary": self.summary, "summarised": self.summarised, "turns": self.turns}
        atomic_write_text(self.path, json.dumps(state, ensure_ascii=False, indent=1))

    # ------------------------------------------------------------------ context
    def history(self) -> list[Message]:
        """The memory as chat turns: the summary (as a user/assistant pair) then the turns."""
        head: list[Message] = []
        if self.summary:
            head = [{"role": "user", "content": f"Summary of our conversation so far: "
                                                f"{self.summary}"},
                    {"role": "assistant", "content": "Understood."}]
        return head + self.turns

    def messages(self, extra: Sequence[Message] = ()) -> list[Message]:
        system = self.system + (f"\n\nSummary of the conversation so far: {self.summary}"
                                if self.summary else "")
        return [{"role": "system", "content": system}, *self.turns, *extra]

    def token_count(self, extra: Sequence[Message] = ()) -> int:
        return self.model.count_tokens(self.messages(extra))

    def _summarise(self, old: list[Message]) -> None:
        transcript = "\n".join(f"{t['role']}: {t['content']}" for t in old)
        if self.summary:
            transcript = f"Earlier summary: {self.summary}\n{transcript}"
        reply = self.model.chat(
            [{"role": "system", "content": SUMMARY_SYSTEM.format(words=self.summary_words)},
             {"role": "user", "content": transcript}],
            max_tokens=min(self.max_tokens, 2 * self.summary_words + 32), temperature=0.2,
            seed=self.seed)
        text = " ".join(reply.text.split())
        if not text:
            raise BackendError("the model returned an empty summary of the conversation")
        self.summary = text
        self.summarised += len(old)

    def fit(self, extra: Sequence[Message] = ()) -> None:
        """Fold old turns into the summary until the prompt (with ``extra``) fits the budget."""
        keep = self.keep_last
        while self.token_count(extra) > self.budget:
            if len(self.turns) <= keep:
                if keep <= 0:
                    raise InputError(f"the message needs {self.token_count(extra)} tokens; "
                                     f"the budget is {self.budget}: write a shorter one")
                keep -= 2
                continue
            cut = len(self.turns) - keep
            old, self.turns = self.turns[:cut], self.turns[cut:]
            self._summarise(old)

    # ------------------------------------------------------------------ turns
    def ask(self, text: str) -> str:
        """Answer ``text`` in the context of the session; saves the session."""
        if not text.strip():
            raise InputError("the message is empty")
        question = {"role": "user", "content": text.strip()}
        self.fit([question])
        reply = self.model.chat(self.messages([question]), max_tokens=self.max_tokens,
                                temperature=self.temperature, seed=self.seed)
        self.turns += [question, {"role": "assistant", "content": reply.text.strip()}]
        self.save()
        return reply.text.strip()

    def write_script(self, brief: str, writer: ScriptWriter,
                     language: str | None = None) -> ScriptResult:
        """Write (or revise, for a follow-up) a script with the session as context; saves it."""
        question = {"role": "user", "content": brief.strip()}
        self.fit([question])
        result = writer.write(brief, language, history=self.history())
        self.turns += [question, {"role": "assistant", "content": result.markup}]
        self.save()
        return result
