# SPDX-License-Identifier: GPL-3.0-or-later
"""Test material for the LLM script writer.

- :class:`ChatServer`: a real HTTP server on 127.0.0.1 (``http.server`` in a thread) speaking the
  OpenAI chat-completions protocol, JSON or server-sent events. What it answers is planned by the
  test (a queue of actions), and every request it received is recorded.
- :func:`build_tiny_qwen`: a Qwen2/Qwen3 model with random weights and a few tiny layers, plus a
  byte-level BPE tokenizer trained here on a few sentences with a ChatML chat template, saved
  with ``save_pretrained`` the way a real model folder is.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

Action = dict


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        owner = self.server.owner
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        owner.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": {"message": f"no route {self.path}"}})
        action = owner.next_action(body)
        if action.get("delay"):
            time.sleep(action["delay"])
        try:
            if action.get("status", 200) != 200:
                return self._send(action["status"], {"error": {"message": action.get(
                    "message", "server error")}}, action.get("headers", {}))
            if "raw" in action:
                return self._send_bytes(200, action["raw"], "application/json")
            if body.get("stream"):
                return self._stream(action)
            message = {"role": "assistant", "content": action.get("content")}
            if action.get("refusal"):
                message["refusal"] = action["refusal"]
            self._send(200, {"id": "x", "object": "chat.completion", "model": body.get("model"),
                             "choices": [{"index": 0, "message": message,
                                          "finish_reason": action.get("finish", "stop")}]})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def _send(self, status: int, obj, headers: dict | None = None) -> None:
        self._send_bytes(status, json.dumps(obj).encode(), "application/json", headers)

    def _send_bytes(self, status, data: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, action: Action) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        text = action.get("content") or ""
        pieces = [text[i:i + 7] for i in range(0, len(text), 7)]
        self.wfile.write(b": keep-alive comment\n\n")
        for i, piece in enumerate(pieces):
            chunk = {"choices": [{"index": 0, "delta": {"content": piece},
                                  "finish_reason": "stop" if i == len(pieces) - 1 else None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ChatServer


class ChatServer:
    """Chat-completions server on 127.0.0.1; ``plan`` holds the next answers (dicts or callables).

    An action is ``{"content": str}`` plus optional ``status``, ``message``, ``headers``,
    ``delay`` (seconds before answering), ``refusal``, ``finish`` or ``raw`` (body bytes). A
    callable action gets the request body and returns an action. With the plan empty,
    ``default`` answers.
    """

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.plan: deque[Action | Callable[[dict], Action]] = deque()
        self.default: Action | Callable[[dict], Action] = {"content": "{}"}
        self._lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def next_action(self, body: dict) -> Action:
        with self._lock:
            action = self.plan.popleft() if self.plan else self.default
        return action(body) if callable(action) else action

    def reset(self, *plan, default: Action | Callable | None = None) -> None:
        self.requests.clear()
        self.plan = deque(plan)
        self.default = default if default is not None else {"content": "{}"}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and not enable_thinking %}<think>\n\n</think>\n\n"
    "{% endif %}{% endif %}"
)
CORPUS = [
    "Hello there, and welcome to our refund policy.",
    "You can return any item within thirty days for a full refund.",
    '{"segments": [{"text": "Hi!", "emotion": "happy", "intensity": 0.8, "gestures": ["wave"], '
    '"pause_after": 0.3}]}',
    "You are a presenter who speaks on camera as a 3D avatar. Reply with JSON only.",
]


def build_tiny_qwen(folder: Path, arch: str = "qwen2", seed: int = 0) -> Path:
    """Save a random-weight tiny Qwen2/Qwen3 causal LM and its trained tokenizer to ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        PreTrainedTokenizerFast,
        Qwen2Config,
        Qwen2ForCausalLM,
        Qwen3Config,
        Qwen3ForCausalLM,
    )

    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS * 4, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    common = dict(vocab_size=len(fast), hidden_size=32, intermediate_size=64,
                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                  max_position_embeddings=4096, eos_token_id=fast.eos_token_id,
                  pad_token_id=fast.pad_token_id, tie_word_embeddings=True)
    torch.manual_seed(seed)
    if arch == "qwen3":
        model = Qwen3ForCausalLM(Qwen3Config(head_dim=8, **common))
    else:
        model = Qwen2ForCausalLM(Qwen2Config(**common))
    model.save_pretrained(folder)
    return folder
