# SPDX-License-Identifier: GPL-3.0-or-later
"""Which words call for which gesture: deictic words, an iconic/metaphoric keyword lexicon,
emblems, and the script cues (``*wave*``, ``*point left*``, ``*count 3*``) that force them.

Everything here is plain string handling; :mod:`.gestures` turns the chosen kinds into motion.
Words are matched in lower case with surrounding punctuation removed. The lexicon is English;
other languages get beats and cues only.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("beat", "point", "self", "you", "big", "small", "up", "down", "many", "together", "no",
         "maybe", "shrug", "wave", "count", "open", "think", "nod", "shake", "tilt")
"""Every gesture kind; ``nod``, ``shake`` and ``tilt`` are head-only."""

HEAD_KINDS = frozenset({"nod", "shake", "tilt"})
DIRECTIONS = ("left", "right", "up", "down", "forward")

DEICTIC: dict[str, tuple[str, tuple[str, ...]]] = {
    **{w: ("self", ()) for w in ("i", "me", "my", "mine", "myself", "i'm", "i've", "i'll")},
    **{w: ("you", ()) for w in ("you", "your", "yours", "yourself", "you're", "you've")},
    **{w: ("point", ("down",)) for w in ("this", "these", "here")},
    **{w: ("point", ("forward",)) for w in ("there", "those", "that")},
}
"""Deictic words -> (kind, args): pointing at oneself, the listener, near and far things."""

_GROUPS: dict[str, str] = {
    "big": "big huge large enormous massive giant whole everything everyone everybody all world "
           "entire vast",
    "small": "small little tiny bit few slightly minor detail details precise exactly",
    "up": "up rise rises rising grow grows growth increase increases higher high top above "
          "improve better",
    "down": "down fall falls drop drops decrease decreases lower low bottom below less reduce "
            "worse",
    "many": "many lots plenty several various multiple countless numerous different",
    "together": "together join joins combine combined connect connected unite united both "
                "between team",
    "no": "no not never nothing none nobody neither nor stop don't can't won't isn't",
    "maybe": "maybe perhaps possibly probably might unsure somehow whatever",
    "wave": "hello hi hey bye goodbye welcome",
    "open": "please honestly honest open share offer give thanks thank",
    "think": "think thinking wonder idea ideas consider imagine remember",
}
LEXICON: dict[str, str] = {w: kind for kind, words in _GROUPS.items() for w in words.split()}
"""Keyword -> iconic/metaphoric/emblem gesture kind."""

_COUNT = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "first": 1, "second": 2,
          "third": 3, "fourth": 4, "fifth": 5, "firstly": 1, "secondly": 2, "thirdly": 3}
_CUE_ALIASES = {"nods": "nod", "shakes": "shake", "tilts": "tilt", "points": "point",
                "waves": "wave", "shrugs": "shrug", "counts": "count", "thinks": "think",
                "beats": "beat", "palms": "open", "gesture": "beat"}


@dataclass(frozen=True)
class Request:
    """A gesture asked for by a word or a cue, at ``time`` s (the word's stressed syllable)."""

    kind: str
    time: float
    args: tuple[str, ...] = ()
    forced: bool = False
    """True for script cues: they play even at energy 0 and are never dropped."""


def clean(word: str) -> str:
    """Lower case, punctuation stripped (apostrophes kept)."""
    return "".join(ch for ch in word.lower() if ch.isalnum() or ch == "'").strip("'")


def word_gesture(word: str, language: str = "en") -> tuple[str, tuple[str, ...]] | None:
    """(kind, args) for a word of the lexicon, or None. English only."""
    if not language.lower().startswith("en"):
        return None
    w = clean(word)
    if w in DEICTIC:
        return DEICTIC[w]
    if w in _COUNT:
        return "count", (str(_COUNT[w]),)
    if w in LEXICON:
        return LEXICON[w], ()
    return None


def cue_gesture(name: str, args: tuple[str, ...] = ()) -> tuple[str, tuple[str, ...]] | None:
    """(kind, args) for a script cue (``point`` + ``left``, ``count`` + ``3``), or None.

    Names are matched after removing a plural ``s`` (``nods``) and aliases; ``shakes head``
    is a shake. Unknown cues return None and are ignored by the body.
    """
    n = clean(name)
    n = _CUE_ALIASES.get(n, n)
    if n not in KINDS:
        return None
    words = tuple(clean(a) for a in args)
    if n == "point":
        d = next((a for a in words if a in DIRECTIONS), None)
        if d is None and any(a in ("me", "self", "myself") for a in words):
            return "self", ()
        if d is None and any(a in ("you", "them", "audience") for a in words):
            return "you", ()
        return "point", (d or "forward",)
    if n == "count":
        num = next((a for a in words if a.isdigit()), None)
        num = num or next((str(_COUNT[a]) for a in words if a in _COUNT), "1")
        return "count", (str(min(max(int(num), 1), 5)),)
    return n, words
