# SPDX-License-Identifier: GPL-3.0-or-later
"""Moderation before anything is spoken: a configurable block list and the model's refusals.

:func:`check` looks for blocked terms (whole words or phrases, case- and accent-insensitive) in a
brief or a script; :func:`detect_refusal` recognises a model declining the task (phrases such
as "I'm sorry, but I can't", an OpenAI ``refusal`` field, or our ``{"refusal": ...}`` reply).
Either raises :class:`Blocked` with the reason, so the pipeline stops before speech synthesis.

The built-in block list is deliberately empty: what is unacceptable depends on the deployment.
Add terms with ``ScriptSettings.block_terms`` or a UTF-8 file of one term per line (``#``
comments) named by ``$PAKSATALKER_BLOCKLIST``.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

REFUSAL_PATTERNS: tuple[str, ...] = (
    r"^\W*(i'?m|i am) (so |very |really )?sorry,? (but )?i "
    r"(can(no|')?t|won'?t|am unable|'m unable)",
    r"^\W*i (can(no|')?t|won'?t|am not able to|'m not able to) (help|assist|write|create|do|"
    r"comply|provide)",
    r"^\W*(as an ai|as a language model)\b.{0,80}\b(can(no|')?t|unable|not able)",
    r"^\W*i must (decline|refuse)",
    r"^\W*(sorry|unfortunately),? (but )?i (can(no|')?t|won'?t)",
    r"^\W*(抱歉|对不起|很抱歉)[，,]?(我)?(无法|不能)",
    r"^\W*(申し訳ありませんが|申し訳ございませんが)",
    r"^\W*(es tut mir leid|leider kann ich)",
    r"^\W*(lo siento|desolé|désolé|je ne peux pas)",
)
_REFUSAL = re.compile("|".join(f"(?:{p})" for p in REFUSAL_PATTERNS), re.IGNORECASE)


class Blocked(InputError):
    """Moderation stopped a brief or a script; ``reason`` says why (also the message)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"blocked by moderation: {reason}")
        self.reason = reason


def _fold(text: str) -> str:
    """Lower case without accents, so "Café" matches "cafe"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class Policy:
    """Blocked terms (words or phrases) and whether model refusals block."""

    block_terms: tuple[str, ...] = ()
    refusals_block: bool = True

    @classmethod
    def from_settings(cls, terms: Iterable[str] = (), file: str | os.PathLike | None = None
                      ) -> Policy:
        """Terms given plus those of ``file`` (default ``$PAKSATALKER_BLOCKLIST`` when set)."""
        all_terms = [t for t in terms if t.strip()]
        path = file or os.environ.get("PAKSATALKER_BLOCKLIST")
        if path:
            try:
                lines = Path(path).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as e:
                raise InputError(f"{path}: cannot read the block list ({e})") from None
            all_terms += [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
        return cls(tuple(dict.fromkeys(all_terms)))

    def find(self, text: str) -> str | None:
        """The first blocked term found in ``text`` as a whole word/phrase, else None."""
        folded = _fold(text)
        for term in self.block_terms:
            t = _fold(term.strip())
            if t and re.search(rf"(?<!\w){re.escape(t)}(?!\w)", folded):
                return term.strip()
        return None


def check(text: str, policy: Policy, what: str = "text") -> None:
    """Raise :class:`Blocked` if ``text`` contains a blocked term."""
    term = policy.find(text)
    if term is not None:
        raise Blocked(f"the {what} contains the blocked term {term!r}")


def detect_refusal(text: str) -> str | None:
    """The refusing sentence when ``text`` is a model declining the task, else None."""
    head = text.strip()[:300]
    if _REFUSAL.search(head):
        first = re.split(r"(?<=[.!?。])\s", head, maxsplit=1)[0]
        return first.strip()
    return None
