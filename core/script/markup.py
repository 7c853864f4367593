# SPDX-License-Identifier: GPL-3.0-or-later
"""The pass-through script backend: plain text with light markup.

Markup (all optional):

- ``[happy]``, ``[sad 0.5]``: emotion (and intensity 0..1) from here on; starts a new segment.
- ``[pause 1.5]``: a pause of that many seconds; ``...`` is a 0.5 s pause.
- ``[lang de]``: language of the following text (an eSpeak language id).
- ``*nod*``, ``*point left*``: a gesture/head cue at that point of the text.
"""

from __future__ import annotations

import re

from ..errors import InputError
from ..names import EMOTIONS
from ..types import MAX_TEXT_CHARS, Cue, Script, Segment

ELLIPSIS_PAUSE = 0.5
_TOKEN = re.compile(r"\[([^\]]*)\]|\*([^*]+)\*|(\.\.\.|…)")
_LANG = re.compile(r"^[a-z]{2,3}([-_][a-z0-9]{2,8})*$", re.IGNORECASE)


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.strip():
        raise InputError("the script text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(
            f"the script has {len(text)} characters; the limit is {MAX_TEXT_CHARS} "
            "(split it into several renders)"
        )


class _Builder:
    def __init__(self, language: str) -> None:
        self.segments: list[Segment] = []
        self.text = ""
        self.cues: list[Cue] = []
        self.emotion, self.intensity, self.language = "neutral", 1.0, language

    def add_text(self, chunk: str) -> None:
        chunk = re.sub(r"\s+", " ", chunk)
        if not self.text or self.text.endswith(" "):
            chunk = chunk.lstrip()
        self.text += chunk

    def close(self, pause: float = 0.0) -> None:
        text = self.text.rstrip()
        if text or self.cues:
            cues = tuple(Cue(c.name, min(c.char_index, len(text))) for c in self.cues)
            self.segments.append(
                Segment(text, self.language, self.emotion, self.intensity, cues, pause)
            )
        elif pause and self.segments:
            last = self.segments[-1]
            self.segments[-1] = Segment(last.text, last.language, last.emotion,
                                        last.intensity, last.cues, last.pause_after + pause)
        self.text, self.cues = "", []

    def tag(self, body: str) -> None:
        parts = body.strip().split()
        if not parts:
            raise InputError("empty [] tag in the script")
        name, args = parts[0].lower(), parts[1:]
        if name == "pause":
            self.close(_number(args[0] if args else "0.5", "pause", 0.0, 30.0))
        elif name == "lang":
            if len(args) != 1 or not _LANG.match(args[0]):
                raise InputError(f"[{body}]: write a language id like [lang de]")
            self.close()
            self.language = args[0].lower()
        elif name in EMOTIONS:
            self.close()
            self.emotion = name
            self.intensity = _number(args[0], name, 0.0, 1.0) if args else 1.0
        else:
            raise InputError(
                f"unknown tag [{body}]; use an emotion ({', '.join(EMOTIONS)}), "
                "[pause S] or [lang ID]"
            )


def _number(s: str, what: str, lo: float, hi: float) -> float:
    try:
        v = float(s)
    except ValueError:
        raise InputError(f"[{what} {s}]: {s!r} is not a number") from None
    if not lo <= v <= hi:
        raise InputError(f"[{what} {s}]: value must be in {lo:g}..{hi:g}")
    return v


def parse(text: str, language: str = "en") -> Script:
    """Parse marked-up text into a :class:`Script`. Raises InputError on bad markup."""
    _check_text(text)
    b = _Builder(language)
    pos = 0
    for m in _TOKEN.finditer(text):
        b.add_text(text[pos:m.start()])
        pos = m.end()
        if m.group(1) is not None:
            b.tag(m.group(1))
        elif m.group(2) is not None:
            name = " ".join(m.group(2).lower().split())
            b.cues.append(Cue(name, len(b.text.rstrip()) + (1 if b.text.strip() else 0)))
        else:
            b.close(ELLIPSIS_PAUSE)
    b.add_text(text[pos:])
    b.close()
    if not any(s.text.strip() for s in b.segments):
        raise InputError("the script has no words to speak (only markup)")
    return Script(tuple(b.segments))


class MarkupScriptBackend:
    """Script backend "markup": the user's text is the script."""

    def write(self, text: str, *, language: str = "en") -> Script:
        return parse(text, language)
