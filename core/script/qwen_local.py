# SPDX-License-Identifier: GPL-3.0-or-later
"""A local Qwen (Qwen2.5 / Qwen3 instruct) through ``transformers``, fully offline.

The model is a folder (``config.json``, ``*.safetensors``, tokenizer files with a chat template)
or a Hugging Face repo id already in the HF cache; both load with ``local_files_only=True``,
``trust_remote_code=False`` and ``use_safetensors=True`` (no pickled ``.bin`` weights). Any
causal LM with a chat template works; Qwen's is what we test and document.

Options: ``device`` auto/cpu/cuda, ``dtype`` auto/float32/bfloat16/float16 (auto: float32 on CPU,
bfloat16 on CUDA when supported, else float16), ``quantization`` 4bit/8bit through bitsandbytes
(CUDA only). Qwen3's thinking is switched off in the chat template (``enable_thinking=False``)
and any ``<think>`` block is removed from the reply. Token counts use the model's own tokenizer
and chat template.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import BackendError, InputError
from ..settings import ScriptSettings
from .llm import Message, Reply

DTYPES = ("auto", "float32", "bfloat16", "float16")
_LOADED: dict[tuple, tuple] = {}
"""The one loaded (tokenizer, model), keyed by (folder, device, dtype, quantization)."""


def _imports():
    try:
        import torch
        import transformers
    except ImportError as e:
        raise BackendError(f"the qwen-local backend needs torch and transformers ({e.name} is "
                           "missing): pip install 'paksatalker[ml]'") from None
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    return torch, transformers


def resolve_model(model: str, cache_dir: str | None = None) -> Path:
    """The model folder for a path or an HF repo id in the local HF cache (never downloads).

    ``cache_dir``: the hub cache folder (default ``$HF_HUB_CACHE``, ``~/.cache/huggingface/hub``).
    """
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise InputError(f"{path} has no config.json: point at a transformers model folder")
        return path
    if re.fullmatch(r"[\w.-]+/[\w.-]+", model) and not path.exists():
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(model, local_files_only=True, cache_dir=cache_dir))
        except ImportError:
            raise BackendError("huggingface_hub is missing: pip install 'paksatalker[ml]'"
                               ) from None
        except (OSError, ValueError):  # LocalEntryNotFoundError is a FileNotFoundError
            raise BackendError(f"{model} is not in the Hugging Face cache: run "
                               f"`huggingface-cli download {model}` where there is network, "
                               "or pass the model folder") from None
    raise InputError(f"{model}: no such model folder (give a folder or an HF repo id)")


def _fingerprint(folder: Path) -> str:
    """Identifies the weights: file names, sizes and times of the folder's model files."""
    h = hashlib.sha256()
    for f in sorted(folder.glob("*.safetensors")) + [folder / "config.json"]:
        st = f.stat()
        h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


class QwenLocal:
    """Chat model from a local transformers folder; loaded on first use and kept loaded."""

    def __init__(self, model: str, *, device: str = "auto", dtype: str = "auto",
                 quantization: str = "", max_context: int | None = None,
                 cache_dir: str | None = None) -> None:
        if dtype not in DTYPES:
            raise InputError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
            raise InputError(f"device must be auto, cpu or cuda, got {device!r}")
        if quantization not in ("", "4bit", "8bit"):
            raise InputError(f"quantization must be 4bit or 8bit, got {quantization!r}")
        self.folder = resolve_model(model, cache_dir)
        self.device, self.dtype, self.quantization = device, dtype, quantization
        self.max_context = max_context
        self.model_id = (f"qwen-local:{self.folder.resolve()}#{_fingerprint(self.folder)}"
                         f"#{dtype}#{quantization}")
        self._tok = self._model = None
        self._device = "cpu"

    @classmethod
    def from_settings(cls, s: ScriptSettings) -> QwenLocal:
        if not s.endpoint:
            raise InputError("qwen-local needs a model folder or repo id: --llm qwen-local:PATH")
        return cls(s.endpoint, device=s.device, dtype=s.dtype, quantization=s.quantization)

    # ------------------------------------------------------------------ loading
    def _torch_setup(self, torch):
        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendError("device cuda was asked for but torch sees no CUDA GPU: "
                               "use --device cpu")
        name = self.dtype
        if name == "auto":
            name = "float32" if device == "cpu" else (
                "bfloat16" if torch.cuda.is_bf16_supported() else "float16")
        quant = None
        if self.quantization:
            if not device.startswith("cuda"):
                raise BackendError(f"{self.quantization} quantization needs a CUDA GPU "
                                   "(bitsandbytes); use no quantization on CPU")
            try:
                import bitsandbytes  # noqa: F401
            except ImportError:
                raise BackendError(f"{self.quantization} quantization needs bitsandbytes: "
                                   "pip install bitsandbytes") from None
            from transformers import BitsAndBytesConfig

            quant = (BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                        bnb_4bit_compute_dtype=getattr(torch, name))
                     if self.quantization == "4bit" else BitsAndBytesConfig(load_in_8bit=True))
        return device, getattr(torch, name), quant

    def load(self):
        """Load (once per process) and return ``(tokenizer, model)``."""
        if self._model is not None:
            return self._tok, self._model
        torch, transformers = _imports()
        device, dtype, quant = self._torch_setup(torch)
        key = (str(self.folder.resolve()), device, str(dtype), self.quantization)
        if key not in _LOADED:
            _LOADED.clear()  # keep one model in memory
            try:
                tok = transformers.AutoTokenizer.from_pretrained(
                    self.folder, local_files_only=True, trust_remote_code=False)
                extra = {"quantization_config": quant, "device_map": device} if quant else {}
                model = transformers.AutoModelForCausalLM.from_pretrained(
                    self.folder, local_files_only=True, trust_remote_code=False,
                    use_safetensors=True, dtype=dtype, **extra)
            except (OSError, ValueError, KeyError) as e:
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise BackendError(f"{self.folder}: cannot load the model ({first[:200]}); it "
                                   "needs config.json, *.safetensors and tokenizer files") from None
            if not getattr(tok, "chat_template", None):
                raise BackendError(f"{self.folder}: the tokenizer has no chat template; use an "
                                   "instruct/chat model")
            if tok.pad_token_id is None:
                tok.pad_token = tok.eos_token
            if not quant:
                model.to(device)
            model.eval()
            _LOADED[key] = (tok, model)
        self._tok, self._model = _LOADED[key]
        self._device = device
        return self._tok, self._model

    @property
    def context_window(self) -> int:
        _, model = self.load()
        n = int(getattr(model.config, "max_position_embeddings", 4096) or 4096)
        return min(n, self.max_context) if self.max_context else n

    # ------------------------------------------------------------------ text
    def _prompt(self, messages: Sequence[Message]) -> str:
        tok, _ = self.load()
        return tok.apply_chat_template(list(messages), tokenize=False,
                                       add_generation_prompt=True, enable_thinking=False)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens of the chat as the model sees it (its own tokenizer and chat template)."""
        tok, _ = self.load()
        return len(tok(self._prompt(messages), add_special_tokens=False)["input_ids"])

    def chat(self, messages: Sequence[Message], *, max_tokens: int = 1024,
             temperature: float = 0.7, seed: int = 0,
             on_token: Callable[[str], None] | None = None) -> Reply:
        return self._generate([messages], max_tokens, temperature, seed, on_token)[0]

    def chat_many(self, batch: Sequence[Sequence[Message]], **kw) -> list[Reply]:
        """Generate all chats in one left-padded batch."""
        return self._generate(batch, kw.get("max_tokens", 1024), kw.get("temperature", 0.7),
                              kw.get("seed", 0), None)

    def _generate(self, batch, max_tokens, temperature, seed, on_token) -> list[Reply]:
        torch, _ = _imports()
        tok, model = self.load()
        tok.padding_side = "left"
        enc = tok([self._prompt(m) for m in batch], return_tensors="pt", padding=True,
                  add_special_tokens=False).to(self._device)
        n = enc["input_ids"].shape[1]
        room = self.context_window - n
        if room < 16:
            raise InputError(f"the prompt has {n} tokens and leaves no room to answer in the "
                             f"model's {self.context_window}-token context: shorten the brief")
        kw = {"max_new_tokens": min(max_tokens, room), "pad_token_id": tok.pad_token_id,
              "eos_token_id": tok.eos_token_id, "do_sample": temperature > 0}
        if temperature > 0:
            kw.update(temperature=temperature, top_p=0.9)
        if on_token is not None:
            kw["streamer"] = _Streamer(tok, on_token)
        torch.manual_seed(seed)
        with torch.inference_mode():
            out = model.generate(**enc, **kw)
        replies = []
        for row in out[:, n:]:
            ids = row.tolist()
            stopped = tok.eos_token_id in ids or tok.pad_token_id in ids
            text = tok.decode(row, skip_special_tokens=True)
            text = re.sub(r"<think>.*?(</think>|$)", "", text, flags=re.DOTALL).strip()
            replies.append(Reply(text, "", "stop" if stopped else "length"))
        return replies


class _Streamer:
    """Passes newly decoded text to ``on_token`` as ``generate`` produces tokens."""

    def __init__(self, tok, on_token: Callable[[str], None]) -> None:
        self.tok, self.on_token = tok, on_token
        self.ids: list[int] = []
        self.sent = 0
        self.prompt_seen = False

    def put(self, value) -> None:
        if not self.prompt_seen:  # generate() first hands over the prompt
            self.prompt_seen = True
            return
        self.ids += value.reshape(-1).tolist()
        self._emit(final=False)

    def end(self) -> None:
        self._emit(final=True)

    def _emit(self, final: bool) -> None:
        text = self.tok.decode(self.ids, skip_special_tokens=True)
        if len(text) > self.sent and (final or not text.endswith("\ufffd")):
            self.on_token(text[self.sent:])  # a partial UTF-8 character waits for its rest
            self.sent = len(text)
