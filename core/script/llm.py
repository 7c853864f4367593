# SPDX-License-Identifier: GPL-3.0-or-later
"""LLM script writing: the chat-model protocol and the brief -> Script flow.

Flow for each brief (:class:`ScriptWriter`):

1. moderation of the brief (block list) -- a blocked brief never reaches the model;
2. prompt assembly (:mod:`.prompting`) within the model's context window;
3. generation (batched over many briefs when the model supports it; cached replies reused);
4. a refusal check, then repair + schema validation of the JSON (:mod:`.structured`); an invalid
   reply is retried with the validation error fed back, up to ``ScriptSettings.attempts``;
5. moderation of the written script, code-switching tags (:mod:`.langid`), markup -> Script.

When every attempt fails the result is a :class:`~paksatalker.core.errors.BackendError`, or with
``on_failure="brief"`` the brief itself spoken as markup, marked ``fallback`` with the reason.
Garbage is never returned as a script.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..errors import BackendError, InputError, PaksaError
from ..settings import ScriptSettings
from ..types import Script
from . import langid, moderation, prompting, structured
from .llm_cache import LLMCache, cache_key
from .markup import parse as parse_markup

log = logging.getLogger(__name__)

Message = prompting.Message
LLM_BACKENDS = ("qwen-local", "openai")


@dataclass(frozen=True)
class Reply:
    """A model's answer: ``text``; ``refusal`` when the API reports one; ``finish_reason``."""

    text: str
    refusal: str = ""
    finish_reason: str = ""


class ChatModel(Protocol):
    """What the script writer needs from a model (local or server)."""

    model_id: str
    """Identifies the model and its weights/endpoint in cache keys."""
    context_window: int
    """Tokens the model attends to (prompt + reply)."""

    def chat(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
             seed: int, on_token: Callable[[str], None] | None = None) -> Reply: ...

    def count_tokens(self, messages: Sequence[Message]) -> int: ...


def chat_many(model: ChatModel, batch: Sequence[Sequence[Message]], **kw) -> list[Reply]:
    """One reply per chat: the model's own ``chat_many`` (real batching) when it has one."""
    many = getattr(model, "chat_many", None)
    if many is not None and len(batch) > 1:
        return list(many(batch, **kw))
    return [model.chat(m, **kw) for m in batch]


@dataclass
class ScriptResult:
    """What writing one brief produced. ``script`` is None when blocked or failed."""

    brief: str
    script: Script | None = None
    markup: str = ""
    """The script as markup text (what ``paksatalker script --out`` writes)."""
    language: str = "en"
    """The language asked for (and of segments without a [lang] tag)."""
    input_language: str = "en"
    """The brief's language, as identified offline."""
    script_language: str = ""
    """The written script's main language, as identified offline ("" when unsure)."""
    voice: str = ""
    """A voice of the default speech backend that speaks ``language`` ("" if none)."""
    attempts: int = 0
    cached: bool = False
    repairs: list[str] = field(default_factory=list)
    fallback: str = ""
    """Why the brief itself was used instead of a written script ("" when it was not)."""
    blocked: str = ""
    error: str = ""
    replies: list[str] = field(default_factory=list)
    """Raw model replies, in order (for debugging a failure)."""


@dataclass
class _Job:
    result: ScriptResult
    base: list[Message]
    messages: list[Message]
    params: dict
    done: bool = False


class ScriptWriter:
    """Writes scripts from briefs with a :class:`ChatModel` under :class:`ScriptSettings`."""

    def __init__(self, model: ChatModel, settings: ScriptSettings | None = None,
                 cache: LLMCache | None = None, policy: moderation.Policy | None = None,
                 on_token: Callable[[str], None] | None = None) -> None:
        self.model = model
        self.settings = settings or ScriptSettings()
        self.cache = cache if cache is not None else (LLMCache() if self.settings.cache
                                                      else None)
        self.policy = policy or moderation.Policy.from_settings(self.settings.block_terms)
        self.on_token = on_token

    def spec(self, language: str) -> prompting.PromptSpec:
        s = self.settings
        return prompting.PromptSpec(
            persona=prompting.Persona(s.persona_name, s.persona_role, s.tone),
            formality=s.formality, duration=s.duration, words_per_minute=s.words_per_minute,
            language=language, glossary=s.glossary)

    # ------------------------------------------------------------------ public
    def write(self, brief: str, language: str | None = None,
              history: Sequence[Message] = ()) -> ScriptResult:
        """Write one brief; raises Blocked, BackendError or InputError instead of failing quietly.

        ``language``: script language; None uses ``settings.language`` or the brief's language.
        ``history``: earlier conversation turns placed before the brief (follow-ups).
        """
        result = self._run([brief], language, history)[0]
        if result.blocked:
            raise moderation.Blocked(result.blocked)
        if result.script is None:
            raise BackendError(result.error)
        return result

    def write_many(self, briefs: Sequence[str], language: str | None = None) -> list[ScriptResult]:
        """Write many briefs together (one batched generation per attempt round).

        Failures do not stop the batch: each result carries ``blocked``/``error`` instead.
        """
        return self._run(list(briefs), language, ())

    # ------------------------------------------------------------------ flow
    def _start(self, brief: str, language: str | None, history: Sequence[Message]) -> _Job:
        s = self.settings
        guess = langid.detect(brief)
        lang = language or s.language or guess.language
        result = ScriptResult(brief=brief, language=lang, input_language=guess.language)
        base = prompting.build_messages(brief, self.spec(lang), self.model.count_tokens,
                                        self.model.context_window - s.max_tokens, history)
        params = {"max_tokens": s.max_tokens, "temperature": s.temperature, "seed": s.seed}
        return _Job(result, base, list(base), params)

    def _run(self, briefs: list[str], language: str | None,
             history: Sequence[Message]) -> list[ScriptResult]:
        jobs: list[_Job] = []
        for brief in briefs:
            try:
                moderation.check(brief, self.policy, "brief")
                jobs.append(self._start(brief, language, history))
            except moderation.Blocked as e:
                jobs.append(_Job(ScriptResult(brief, blocked=e.reason, error=str(e)), [], [], {},
                                 done=True))
            except InputError as e:  # e.g. a brief too long for the context
                if len(briefs) == 1:
                    raise
                jobs.append(_Job(ScriptResult(brief, error=str(e)), [], [], {}, done=True))
        for attempt in range(1, self.settings.attempts + 1):
            pending = [j for j in jobs if not j.done]
            if not pending:
                break
            replies = self._generate(pending)
            for job, (reply, cached) in zip(pending, replies):
                job.result.attempts = attempt
                job.result.cached = cached
                if isinstance(reply, BackendError):
                    job.result.error, job.done = str(reply), True
                else:
                    self._take(job, reply, last=attempt == self.settings.attempts)
        for job in jobs:
            r = job.result
            if r.script is not None:
                v = _voice_for(r.language)
                r.voice = v.identifier if v is not None else ""
                g = langid.detect(r.script.text, r.language)
                r.script_language = g.language if g.confidence > 0 else ""
        return [j.result for j in jobs]

    def _generate(self, pending: list[_Job]) -> list[tuple[Reply | BackendError, bool]]:
        """(reply, from cache) per job; in a batch a failed request becomes its BackendError."""
        out: list[tuple[Reply | BackendError, bool] | None] = [None] * len(pending)
        todo = []
        for i, job in enumerate(pending):
            text = None
            if self.cache is not None:
                text = self.cache.get(cache_key(self.model.model_id, job.messages, job.params))
            if text is not None:
                out[i] = (Reply(text), True)
            else:
                todo.append(i)
        if todo:
            p = pending[todo[0]].params
            kw = {"max_tokens": p["max_tokens"], "temperature": p["temperature"],
                  "seed": p["seed"], "on_token": self.on_token}
            try:
                replies: list = chat_many(self.model, [pending[i].messages for i in todo], **kw)
            except BackendError:
                if len(todo) == 1:
                    raise
                replies = [_try_chat(self.model, pending[i].messages, kw) for i in todo]
            for i, reply in zip(todo, replies):
                out[i] = (reply, False)
        return out  # type: ignore[return-value]

    def _take(self, job: _Job, reply: Reply, last: bool) -> None:
        r = job.result
        r.replies.append(reply.text)
        refusal = reply.refusal or moderation.detect_refusal(reply.text)
        if reply.finish_reason == "content_filter" and not refusal:
            refusal = "the server's content filter stopped the answer"
        if refusal:
            self._block(job, f"the model refused: {refusal}")
            return
        try:
            parsed = structured.parse_reply(reply.text)
            if isinstance(parsed, structured.Refusal):
                self._block(job, f"the model refused: {parsed.reason}")
                return
            markup = structured.to_markup(parsed.segments, r.language, langid.split_runs)
            script = parse_markup(markup, r.language)
        except (structured.InvalidReply, InputError) as e:
            self._retry_or_fail(job, reply.text, str(e), last)
            return
        try:
            moderation.check(script.text, self.policy, "script")
        except moderation.Blocked as e:
            self._block(job, e.reason)
            return
        r.script, r.markup, r.repairs = script, markup, parsed.repairs
        if self.cache is not None and not r.cached:
            self.cache.put(cache_key(self.model.model_id, job.messages, job.params), reply.text,
                           self.model.model_id)
        job.done = True

    def _block(self, job: _Job, reason: str) -> None:
        job.result.blocked, job.result.error, job.done = reason, f"blocked: {reason}", True

    def _retry_or_fail(self, job: _Job, reply: str, error: str, last: bool) -> None:
        r = job.result
        if not last:
            log.info("invalid reply (attempt %d): %s", r.attempts, error)
            job.messages = [*job.base, {"role": "assistant", "content": reply[:2000]},
                            prompting.feedback_message(error)]
            return
        job.done = True
        why = (f"the model gave no valid script in {r.attempts} attempt(s) "
               f"(last problem: {error})")
        if self.settings.on_failure == "brief":
            try:
                r.script = parse_markup(r.brief, r.language)
            except InputError as e:
                r.error = f"{why}; the brief cannot be spoken either ({e})"
                return
            r.markup, r.fallback = r.brief, f"{why}; speaking the brief as written"
            log.warning("script fallback: %s", r.fallback)
        else:
            r.error = (f"{why}: try again, use a larger model, or pass --on-failure brief "
                       "to speak the brief as written")


def _try_chat(model: ChatModel, messages: list[Message], kw: dict) -> Reply | BackendError:
    try:
        return model.chat(messages, **kw)
    except BackendError as e:
        return e


def _voice_for(language: str):
    try:
        return langid.pick_voice(language)
    except PaksaError:
        return None


# --------------------------------------------------------------------------- registry glue
def make_model(kind: str, settings: ScriptSettings) -> ChatModel:
    """The chat model for backend ``kind`` ("qwen-local" or "openai") from ``settings``."""
    if kind == "qwen-local":
        from .qwen_local import QwenLocal

        return QwenLocal.from_settings(settings)
    if kind == "openai":
        from .openai_chat import OpenAIChat

        return OpenAIChat.from_settings(settings)
    raise BackendError(f"unknown LLM backend {kind!r}; use one of {', '.join(LLM_BACKENDS)}")


def parse_llm_spec(spec: str) -> tuple[str, str]:
    """``"qwen-local:PATH"`` or ``"openai:URL"`` -> (backend, endpoint)."""
    kind, sep, endpoint = spec.partition(":")
    if not sep or kind not in LLM_BACKENDS or not endpoint.strip():
        raise InputError(f"--llm {spec!r}: write qwen-local:MODEL_FOLDER_OR_REPO_ID or "
                         "openai:BASE_URL (e.g. openai:http://127.0.0.1:8000/v1)")
    return kind, endpoint.strip()


class LLMScriptBackend:
    """Script-stage backend that writes the script from a brief with an LLM."""

    def __init__(self, kind: str, settings: ScriptSettings | None = None,
                 model: ChatModel | None = None) -> None:
        self.kind = kind
        self.settings = settings or ScriptSettings()
        self._model = model
        self.last_result: ScriptResult | None = None

    def writer(self) -> ScriptWriter:
        if self._model is None:
            self._model = make_model(self.kind, self.settings)
        return ScriptWriter(self._model, self.settings)

    def write(self, text: str, *, language: str = "en") -> Script:
        """``text`` is the brief; the script is in ``settings.language`` or else ``language``."""
        result = self.writer().write(text, self.settings.language or language)
        self.last_result = result
        return result.script  # type: ignore[return-value]  # write() raised if None
