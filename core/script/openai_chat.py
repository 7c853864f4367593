# SPDX-License-Identifier: GPL-3.0-or-later
"""Any OpenAI-compatible chat-completions server (vLLM, Ollama, DashScope, llama.cpp, ...).

Standard library only (``urllib``). ``POST {base_url}/chat/completions`` with ``model``,
``messages``, ``max_tokens``, ``temperature``, ``seed`` and ``stream``. The API key is read from
the environment variable the user names, at request time; it is never stored in settings,
caches or sessions. HTTP 408/409/429/5xx, timeouts and dropped connections are retried with
exponential backoff (``backoff * 2**try`` seconds, or the server's ``Retry-After``, at most
``max_backoff``); other HTTP errors fail at once with the server's own message. With
``stream=True`` the reply is read as server-sent events (``data: {...}`` lines, ``data: [DONE]``)
and each piece goes to ``on_token``.

Token counts are an estimate (servers do not expose their tokenizer): one token per CJK/kana/
Hangul character, one per 4 other characters, plus 4 per message for the chat framing. It
errs on the high side for English, which keeps prompts inside the context window.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from ..errors import BackendError, InputError
from ..settings import ScriptSettings
from .llm import Message, Reply

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class _Retryable(Exception):
    def __init__(self, why: str, retry_after: float | None = None) -> None:
        super().__init__(why)
        self.retry_after = retry_after


def estimate_tokens(text: str) -> int:
    """Rough token count of ``text`` (see the module doc)."""
    wide = sum(1 for c in text if "\u3040" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af")
    return wide + math.ceil((len(text) - wide) / 4)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class OpenAIChat:
    """Chat model served over the OpenAI chat-completions protocol."""

    def __init__(self, base_url: str, model: str = "", *, api_key_env: str = "",
                 timeout: float = 120.0, retries: int = 3, backoff: float = 0.5,
                 max_backoff: float = 20.0, stream: bool = False, context_window: int = 8192,
                 concurrency: int = 4) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InputError(f"{base_url!r} is not an http(s) URL; e.g. http://127.0.0.1:8000/v1")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout, self.retries = timeout, retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self.stream = stream
        self.context_window = context_window
        self.concurrency = concurrency
        self.model_id = f"openai:{self.base_url}#{model}"
        self.requests = 0
        """HTTP requests sent (including retried ones)."""

    @classmethod
    def from_settings(cls, s: ScriptSettings) -> OpenAIChat:
        return cls(s.endpoint, s.model, api_key_env=s.api_key_env, timeout=s.timeout,
                   retries=s.retries, stream=s.stream)

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return sum(4 + estimate_tokens(m["content"]) for m in messages) + 2

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key_env:
            key = os.environ.get(self.api_key_env, "")
            if not key:
                raise BackendError(f"the API key variable ${self.api_key_env} is not set: "
                                   f"export {self.api_key_env}=<your key>")
            headers["Authorization"] = f"Bearer {key}"
        return headers

    # ------------------------------------------------------------------ requests
    def chat(self, messages: Sequence[Message], *, max_tokens: int = 1024,
             temperature: float = 0.7, seed: int = 0,
             on_token: Callable[[str], None] | None = None) -> Reply:
        """One chat completion, retried on transient failures. Raises BackendError."""
        body = {"model": self.model or "default", "messages": list(messages),
                "max_tokens": max_tokens, "temperature": temperature, "seed": seed,
                "stream": self.stream}
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = self._headers()
        last = ""
        for attempt in range(self.retries + 1):
            try:
                return self._once(data, headers, on_token)
            except _Retryable as e:
                last = str(e)
                if attempt == self.retries:
                    break
                delay = e.retry_after if e.retry_after is not None else (
                    self.backoff * 2 ** attempt * (1 + 0.25 * random.random()))
                time.sleep(min(delay, self.max_backoff))
        raise BackendError(f"{self.url}: {last} ({self.retries + 1} tries); check that the "
                           "server is running and reachable, or raise --timeout")

    def chat_many(self, batch: Sequence[Sequence[Message]], **kw) -> list[Reply]:
        """Send the chats concurrently (the server batches them); replies in input order."""
        kw = {**kw, "on_token": None}
        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(batch)))) as pool:
            return list(pool.map(lambda m: self.chat(m, **kw), batch))

    def _once(self, data: bytes, headers: dict[str, str],
              on_token: Callable[[str], None] | None) -> Reply:
        self.requests += 1
        req = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                if self.stream:
                    return self._read_stream(resp, on_token)
                raw = resp.read()
        except urllib.error.HTTPError as e:
            detail = _error_detail(e)
            if e.code in RETRY_STATUS:
                raise _Retryable(f"HTTP {e.code} {detail}".strip(),
                                 _retry_after(e.headers.get("Retry-After"))) from None
            hint = {401: "check the API key variable", 403: "check the API key variable",
                    404: "check the base URL (usually ends in /v1) and the model name"}
            raise BackendError(f"{self.url}: HTTP {e.code} {detail}; "
                               f"{hint.get(e.code, 'check the request settings')}") from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError | socket.timeout):
                raise _Retryable(f"no answer within {self.timeout:g} s") from None
            raise _Retryable(f"cannot connect ({e.reason})") from None
        except TimeoutError:
            raise _Retryable(f"no answer within {self.timeout:g} s") from None
        except (ConnectionError, http.client.HTTPException) as e:
            raise _Retryable(f"the connection failed ({type(e).__name__})") from None
        return _parse_completion(raw)

    def _read_stream(self, resp, on_token: Callable[[str], None] | None) -> Reply:
        pieces: list[str] = []
        refusal, finish, events = "", "", 0
        for raw_line in resp:
            line = raw_line.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue  # blank separators, ": comments", "event:" lines
            payload = line[5:].strip()
            if payload == "[DONE]":
                break
            events += 1
            try:
                chunk = json.loads(payload)
            except json.JSONDecodeError:
                raise _Retryable("the event stream held a line that is not JSON") from None
            if "error" in chunk:
                raise BackendError(f"{self.url}: the server reported {chunk['error']}")
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    pieces.append(delta["content"])
                    if on_token is not None:
                        on_token(delta["content"])
                refusal += delta.get("refusal") or ""
                finish = choice.get("finish_reason") or finish
        if not events:
            raise _Retryable("the event stream ended without data")
        return Reply("".join(pieces), refusal, finish)


def _error_detail(e: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(e.read().decode("utf-8", "replace"))
        msg = body.get("error", body)
        msg = msg.get("message", msg) if isinstance(msg, dict) else msg
    except (OSError, ValueError, AttributeError):
        return ""
    return " ".join(str(msg).split())[:200]


def _parse_completion(raw: bytes) -> Reply:
    try:
        data = json.loads(raw.decode("utf-8"))
        choice = data["choices"][0]
        message = choice.get("message") or {}
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise _Retryable("the server's answer is not a chat completion") from None
    return Reply(message.get("content") or "", message.get("refusal") or "",
                 choice.get("finish_reason") or "")
