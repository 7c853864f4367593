# SPDX-License-Identifier: GPL-3.0-or-later
"""The pass-through script backend: plain text with light markup.

Markup (all optional):

- ``[happy]``, ``[sad 0.5]``: emotion (and intensity 0..1) from here on; starts a new segment.
  ``[happy 0.6 + surprised 0.3]`` blends two emotions.
- ``[pause 1.5]``: a pause of that many seconds; ``...`` is a 0.5 s pause.
- ``[lang de]``: language of the following text (an eSpeak language id).
- ``[rate 1.2]``, ``[pitch -2]``, ``[volume 0.8]``: tone from here on (rate factor 0.5..2, pitch
  in semitones -12..12, gain 0..4; ``[rate 1]`` etc. reset); ``[emph]...[/emph]`` says the text
  between slower, higher and louder. Each starts a new segment.
- ``*nod*``, ``*point left*``, ``*count 3*``: a gesture/head cue at that point of the text
  (name, then arguments).
"""

from __future__ import annotations

import re

from ..errors import InputError
from ..names import EMOTIONS
from ..types import MAX_TEXT_CHARS, Cue, Script, Segment

ELLIPSIS_PAUSE = 0.5
_TOKEN = re.compile(r"\[([^\]]*)\]|\*([^*]+)\*|(\.\.\.|…)")
_LANG = re.compile(r"^[a-z]{2,3}([-_][a-z0-9]{2,8})*$", re.IGNORECASE)
_TONE = {"rate": (0, 0.5, 2.0), "pitch": (1, -12.0, 12.0), "volume": (2, 0.0, 4.0)}
EMPHASIS = (0.9, 2.0, 1.3)
"""[emph]: rate factor, pitch offset (semitones), gain factor."""


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
        self.emotion2, self.intensity2 = "", 0.0  # second emotion of a blend
        self.tone: tuple[float, float, float] = (1.0, 0.0, 1.0)  # rate, pitch, volume
        self.plain_tone: tuple[float, float, float] | None = None  # tone before [emph]

    def add_text(self, chunk: str) -> None:
        chunk = re.sub(r"\s+", " ", chunk)
        if not self.text or self.text.endswith(" "):
            chunk = chunk.lstrip()
        self.text += chunk

    def close(self, pause: float = 0.0) -> None:
        text = self.text.rstrip()
        if text or self.cues:
            cues = tuple(Cue(c.name, min(c.char_index, len(text)), c.args) for c in self.cues)
            self.segments.append(
                Segment(text, self.language, self.emotion, self.intensity, cues, pause, *self.tone,
                        emotion2=self.emotion2, intensity2=self.intensity2)
            )
        elif pause and self.segments:
            last = self.segments[-1]
            self.segments[-1] = Segment(last.text, last.language, last.emotion,
                                        last.intensity, last.cues, last.pause_after + pause,
                                        last.rate, last.pitch, last.volume,
                                        last.emotion2, last.intensity2)
        self.text, self.cues = "", []

    def tag(self, body: str) -> None:
        parts = body.strip().split()
        if not parts:
            raise InputError("empty [] tag in the script")
        name, args = parts[0].lower(), parts[1:]
        if "+" in body:
            self.blend(body)
        elif name == "pause":
            self.close(_number(args[0] if args else "0.5", "pause", 0.0, 30.0))
        elif name == "lang":
            if len(args) != 1 or not _LANG.match(args[0]):
                raise InputError(f"[{body}]: write a language id like [lang de]")
            self.close()
            self.language = args[0].lower()
        elif name in EMOTIONS:
            self.close()
            self.emotion, self.emotion2, self.intensity2 = name, "", 0.0
            self.intensity = _number(args[0], name, 0.0, 1.0) if args else 1.0
        elif name in _TONE and len(args) == 1:
            self.close()
            k, lo, hi = _TONE[name]
            tone = list(self.tone)
            tone[k] = _number(args[0], name, lo, hi)
            self.tone = (tone[0], tone[1], tone[2])
        elif name in ("emph", "/emph"):
            self.close()
            if name == "emph" and self.plain_tone is None:
                self.plain_tone, (r, p, v) = self.tone, self.tone
                self.tone = (max(0.5, r * EMPHASIS[0]), min(12.0, p + EMPHASIS[1]),
                             min(4.0, v * EMPHASIS[2]))
            elif name == "/emph" and self.plain_tone is not None:
                self.tone, self.plain_tone = self.plain_tone, None
        else:
            raise InputError(
                f"unknown tag [{body}]; use an emotion ({', '.join(EMOTIONS)}), "
                "[pause S], [lang ID], [rate X], [pitch ST], [volume G] or [emph]...[/emph]"
            )


    def blend(self, body: str) -> None:
        """``[happy 0.6 + surprised 0.3]``: two emotions with their intensities (default 1)."""
        halves = [h.split() for h in body.split("+")]
        if len(halves) != 2 or any(not h or len(h) > 2 or h[0].lower() not in EMOTIONS
                                   for h in halves):
            raise InputError(f"[{body}]: write a blend of two emotions like "
                             "[happy 0.6 + surprised 0.3]")
        (e1, *a1), (e2, *a2) = halves
        self.close()
        self.emotion, self.emotion2 = e1.lower(), e2.lower()
        self.intensity = _number(a1[0], e1, 0.0, 1.0) if a1 else 1.0
        self.intensity2 = _number(a2[0], e2, 0.0, 1.0) if a2 else 1.0


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
            words = m.group(2).lower().split()
            if not words:
                raise InputError("empty *...* cue in the script; write e.g. *nod*")
            name, *args = words
            b.cues.append(Cue(name, len(b.text.rstrip()) + (1 if b.text.strip() else 0),
                              tuple(args)))
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
