# SPDX-License-Identifier: GPL-3.0-or-later
"""IPA phonemes -> Oculus-15 visemes, with the jaw openness each sound asks for.

Symbols come as eSpeak NG writes them for English, German, French, Spanish and Mandarin:
affricates (``tʃ``, ``dʒ``, ``ts``), diphthongs (``aɪ``, ``oʊ``, Mandarin ``iɑu``), length and
stress marks (``ː``, ``ˈ``), nasalisation (``ɑ̃``), tone digits (``i2``), eSpeak's Mandarin
retroflex dot (``ts.h`` = aspirated ``tʂ``) and aspiration written as ``h``.

A symbol becomes one or more :class:`VisemeUnit` (a diphthong splits into its two halves, each with
a share of the phoneme's duration). Nothing here raises on an unknown symbol: it is classified by
its base letter (``unicodedata`` name), and anything without a letter (``"_"``, ``""``) is silence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ..names import VISEMES

PAUSE = "_"

VISEME_OPENNESS: dict[str, float] = {
    "sil": 0.0, "PP": 0.0, "FF": 0.05, "TH": 0.15, "DD": 0.12, "kk": 0.18, "CH": 0.08,
    "SS": 0.05, "nn": 0.12, "RR": 0.12, "aa": 0.6, "E": 0.35, "ih": 0.18, "oh": 0.4, "ou": 0.15,
}
"""Typical jawOpen (0..1) of each viseme; vowels refine it per vowel quality."""


@dataclass(frozen=True)
class VisemeUnit:
    """One mouth target inside a phoneme.

    viseme:   a name from :data:`~..names.VISEMES`.
    openness: jaw opening target, 0 (closed) .. 1 (wide open).
    share:    fraction of the phoneme's duration (the shares of a symbol sum to 1).
    vowel:    a vowel (or r-coloured vowel); drives the jaw.
    bilabial: ``p``, ``b`` or ``m``: the lips must close.
    rounded:  ``u``/``o``-like vowel or ``w``: lip rounding is anticipated.
    glottal:  ``h``/``ʔ``: no mouth shape of its own, it takes its neighbours'.
    tongue:   extra tongueOut (0..1) the sound shows between the teeth (``l``: a little).
    """

    viseme: str
    openness: float
    share: float = 1.0
    vowel: bool = False
    bilabial: bool = False
    rounded: bool = False
    glottal: bool = False
    tongue: float = 0.0


def _v(viseme: str, openness: float, rounded: bool = False) -> VisemeUnit:
    return VisemeUnit(viseme, openness, vowel=True, rounded=rounded)


def _c(viseme: str, **flags: bool) -> VisemeUnit:
    return VisemeUnit(viseme, VISEME_OPENNESS[viseme], **flags)


_SIL = VisemeUnit("sil", 0.0)
_l = VisemeUnit("nn", VISEME_OPENNESS["nn"] + 0.03, tongue=0.12)  # tongue tip behind the teeth

_TABLE: dict[str, VisemeUnit] = {
    # open and central vowels
    "a": _v("aa", 0.60), "ɑ": _v("aa", 0.60), "æ": _v("aa", 0.55), "ɐ": _v("aa", 0.40),
    "ʌ": _v("aa", 0.45), "ɶ": _v("oh", 0.50, True), "ɒ": _v("oh", 0.55, True),
    # mid vowels
    "e": _v("E", 0.30), "ɛ": _v("E", 0.40), "ə": _v("E", 0.25), "ɘ": _v("E", 0.25),
    "ɜ": _v("E", 0.35), "ɤ": _v("E", 0.30), "ɞ": _v("oh", 0.35, True),
    "o": _v("oh", 0.35, True), "ɔ": _v("oh", 0.45, True), "ɵ": _v("oh", 0.30, True),
    "œ": _v("oh", 0.38, True), "ø": _v("ou", 0.28, True),
    # close vowels
    "i": _v("ih", 0.15), "ɪ": _v("ih", 0.20), "ɨ": _v("ih", 0.15), "ᵻ": _v("ih", 0.18),
    "ɯ": _v("ih", 0.15), "u": _v("ou", 0.15, True), "ʊ": _v("ou", 0.20, True),
    "ʉ": _v("ou", 0.15, True), "y": _v("ou", 0.15, True), "ʏ": _v("ou", 0.20, True),
    # r-coloured vowels
    "ɚ": _v("RR", 0.25), "ɝ": _v("RR", 0.30),
    # lips
    "p": _c("PP", bilabial=True), "b": _c("PP", bilabial=True), "m": _c("PP", bilabial=True),
    "ɸ": _c("PP"), "β": _c("PP"), "ʙ": _c("PP"),
    "f": _c("FF"), "v": _c("FF"), "ɱ": _c("FF"), "ʋ": _c("FF"),
    "w": _c("ou", rounded=True), "ʍ": _c("ou", rounded=True), "ɥ": _c("ou", rounded=True),
    # teeth and tongue tip
    "θ": _c("TH"), "ð": _c("TH"),
    "t": _c("DD"), "d": _c("DD"), "ɾ": _c("DD"), "ʈ": _c("DD"), "ɖ": _c("DD"), "ɽ": _c("DD"),
    "n": _c("nn"), "ɳ": _c("nn"), "ɲ": _c("nn"), "ʎ": _c("nn"),
    "l": _l, "ɫ": _l, "ɬ": _l, "ɮ": _l, "ɭ": _l,
    "s": _c("SS"), "z": _c("SS"),
    "ʃ": _c("CH"), "ʒ": _c("CH"), "ɕ": _c("CH"), "ʑ": _c("CH"), "ʂ": _c("CH"), "ʐ": _c("CH"),
    "ç": _c("CH"), "ʝ": _c("CH"),
    "ɹ": _c("RR"), "ɻ": _c("RR"), "r": _c("RR"),
    "j": _c("ih"),
    # back of the mouth
    "k": _c("kk"), "g": _c("kk"), "ɡ": _c("kk"), "ŋ": _c("kk"), "x": _c("kk"), "ɣ": _c("kk"),
    "c": _c("kk"), "ɟ": _c("kk"), "q": _c("kk"), "ɢ": _c("kk"), "ɴ": _c("kk"), "χ": _c("kk"),
    "ʁ": _c("kk"), "ʀ": _c("kk"), "ɰ": _c("kk"),
    # throat: no shape of their own
    "h": _c("kk", glottal=True), "ɦ": _c("kk", glottal=True), "ʔ": _c("kk", glottal=True),
    "ħ": _c("kk", glottal=True), "ʕ": _c("kk", glottal=True),
}

_TABLE.update({  # affricate ligatures (some eSpeak voices write them): the fricative's lips
    "ʦ": _TABLE["s"], "ʣ": _TABLE["z"], "ʧ": _TABLE["ʃ"], "ʤ": _TABLE["ʒ"], "ʨ": _TABLE["ɕ"],
    "ʥ": _TABLE["ʑ"],
})

_AFFRICATES: dict[str, str] = {
    # affricate -> the fricative whose lip shape it shows
    "tʃ": "ʃ", "dʒ": "ʒ", "ts": "s", "dz": "z", "tɕ": "ɕ", "dʑ": "ʑ", "tʂ": "ʂ", "dʐ": "ʐ",
    "ʈʂ": "ʂ", "ɖʐ": "ʐ", "tθ": "θ", "dð": "ð",
}
_STOPS = frozenset("ptkcqbdgɡʈɖɟɢʦʣʧʤʨʥ") | frozenset(_AFFRICATES)
_RETROFLEX_DOT = re.compile(r"(ts|dz|s|z)\.")
_RETROFLEX = {"ts": "tʂ", "dz": "dʐ", "s": "ʂ", "z": "ʐ"}
_FALLBACK = VisemeUnit("nn", VISEME_OPENNESS["nn"])


def _letters(symbol: str) -> str:
    """Letters of ``symbol`` (NFC) without marks, tones, digits, length or stress marks."""
    s = unicodedata.normalize("NFC", symbol)
    s = _RETROFLEX_DOT.sub(lambda m: _RETROFLEX[m.group(1)], s)
    return "".join(ch.lower() for ch in s if unicodedata.category(ch) in ("Ll", "Lu", "Lo"))


def _tokens(symbol: str) -> list[str]:
    """Split a symbol into sounds: affricates and ``ng`` stay whole, aspiration and Mandarin's
    tone ``ɜ`` after a vowel are dropped."""
    s = _letters(symbol)
    out: list[str] = []
    i = 0
    while i < len(s):
        pair = s[i:i + 2]
        if pair in _AFFRICATES:
            out.append(pair)
            i += 2
            continue
        if pair in ("ng", "nɡ"):
            out.append("ŋ")
            i += 2
            continue
        ch = s[i]
        i += 1
        if out and ch == "h" and out[-1] in _STOPS:
            continue  # aspiration (eSpeak Mandarin writes "tɕh", "ts.h")
        if ch == "ɜ" and i == len(s) and any(_unit(t).vowel for t in out):
            continue  # eSpeak Mandarin's tone mark closing a syllable ("uoɜ", "ərɜ")
        out.append(ch)
    return out


def normalize(symbol: str) -> str:
    """The bare sounds of ``symbol``: ``"ˈaɪ"`` -> ``"aɪ"``, ``"ɑ̃ː"`` -> ``"ɑ"``,
    ``"ts.h"`` -> ``"tʂ"``, ``"i2"`` -> ``"i"``, ``"_"`` -> ``""``."""
    return "".join(_tokens(symbol))


@lru_cache(maxsize=512)
def _unit(token: str) -> VisemeUnit:
    """The unit of one token, falling back to its base letter, then to a neutral consonant."""
    if token in _AFFRICATES:
        return _TABLE[_AFFRICATES[token]]
    if token in _TABLE:
        return _TABLE[token]
    base = unicodedata.normalize("NFD", token)[:1]
    if base in _TABLE:
        return _TABLE[base]
    words = unicodedata.name(token[:1], "").split()
    if "LETTER" in words:
        after = words[words.index("LETTER") + 1:]
        letter = next((w.lower() for w in after if len(w) == 1), "")
        if letter in _TABLE:
            return _TABLE[letter]
    return _FALLBACK


@lru_cache(maxsize=4096)
def units(symbol: str) -> tuple[VisemeUnit, ...]:
    """The mouth targets of one phoneme, in order; never empty.

    Equal neighbouring visemes merge. A diphthong gives two units whose shares favour the more
    open vowel (its nucleus): ``"aɪ"`` -> aa (0.64), ih (0.36). Pauses give one ``sil`` unit.
    """
    if symbol.strip() == PAUSE:
        return (_SIL,)
    merged: list[tuple[VisemeUnit, float]] = []
    for tok in _tokens(symbol):
        u = _unit(tok)
        weight = 0.3 + u.openness
        if merged and merged[-1][0].viseme == u.viseme:
            prev, w = merged[-1]
            keep = prev if prev.openness >= u.openness else u
            merged[-1] = (keep, w + weight)
        else:
            merged.append((u, weight))
    if not merged:
        return (_SIL,)
    total = sum(w for _, w in merged)
    return tuple(
        VisemeUnit(u.viseme, u.openness, w / total, u.vowel, u.bilabial, u.rounded, u.glottal,
                   u.tongue)
        for u, w in merged
    )


def unmapped(symbol: str) -> tuple[str, ...]:
    """The sounds of ``symbol`` that no table entry covers (they fall back to a neutral
    consonant); ``()`` when every sound is mapped. Used to check a language's phoneme set."""
    out = []
    for tok in _tokens(symbol):
        base = unicodedata.normalize("NFD", tok)[:1]
        if tok not in _AFFRICATES and tok not in _TABLE and base not in _TABLE:
            out.append(tok)
    return tuple(out)


def visemes(symbol: str) -> tuple[str, ...]:
    """Viseme names of ``symbol`` in order, e.g. ``"aʊ"`` -> ``("aa", "ou")``."""
    return tuple(u.viseme for u in units(symbol))


def viseme(symbol: str) -> str:
    """The main viseme of ``symbol`` (the unit with the largest share)."""
    return max(units(symbol), key=lambda u: u.share).viseme


def is_vowel(symbol: str) -> bool:
    """True when the main unit of ``symbol`` is a vowel."""
    return max(units(symbol), key=lambda u: u.share).vowel


assert set(VISEME_OPENNESS) == set(VISEMES)
assert all(u.viseme in VISEMES for u in _TABLE.values())
