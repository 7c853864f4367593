# SPDX-License-Identifier: GPL-3.0-or-later
"""Script stage: text (or a brief) -> :class:`~paksatalker.core.types.Script`."""

from __future__ import annotations

from ..registry import Registry
from ..settings import ScriptSettings
from ..types import Script
from .markup import MarkupScriptBackend, parse

SCRIPT: Registry = Registry("script", default="markup")
SCRIPT.register("markup", MarkupScriptBackend)


def _llm_factory(kind: str):
    def factory(settings: ScriptSettings | None = None):
        from .llm import LLMScriptBackend  # the LLM machinery loads only when asked for

        return LLMScriptBackend(kind, settings)
    return factory


SCRIPT.register("qwen-local", _llm_factory("qwen-local"))
SCRIPT.register("openai", _llm_factory("openai"))


def write(text: str, *, backend: str | None = None, language: str = "en",
          settings: ScriptSettings | None = None) -> Script:
    """``text`` -> Script: the markup itself, or for an LLM backend a brief it writes from."""
    name = backend or SCRIPT.default
    options = {"settings": settings} if name in ("qwen-local", "openai") else {}
    return SCRIPT.create(name, **options).write(text, language=language)


__all__ = ["SCRIPT", "parse", "write"]
