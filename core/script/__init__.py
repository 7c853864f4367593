# SPDX-License-Identifier: GPL-3.0-or-later
"""Script stage: text (or a brief) -> :class:`~paksatalker.core.types.Script`."""

from __future__ import annotations

from ..registry import Registry
from ..types import Script
from .markup import MarkupScriptBackend, parse

SCRIPT: Registry = Registry("script", default="markup")
SCRIPT.register("markup", MarkupScriptBackend)


def write(text: str, *, backend: str | None = None, language: str = "en") -> Script:
    return SCRIPT.create(backend).write(text, language=language)


__all__ = ["SCRIPT", "parse", "write"]
