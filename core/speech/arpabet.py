# SPDX-License-Identifier: GPL-3.0-or-later
"""ARPAbet (CMU dictionary, PocketSphinx en-us model) <-> IPA as eSpeak NG writes it for English.

Stress conventions differ: ARPAbet marks vowels with a digit (``1`` primary, ``2`` secondary,
``0`` none) while :class:`~..types.Phoneme` uses ``2`` primary, ``1`` secondary, ``0`` none.
:func:`arpabet_stress_to_phoneme` converts.

The IPA side uses eSpeak's en-us symbols (``iː``, ``ɑː``, ``oʊ``, ``ɹ``, ``ɚ`` ...) so that aligned
speech and synthesised speech drive the face through the same table (``core/face/visemes.py``).
"""

from __future__ import annotations

import unicodedata

VOWELS: frozenset[str] = frozenset(
    "AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split()
)
"""ARPAbet vowels (they carry stress digits in the CMU dictionary)."""

# ARPAbet -> (IPA when stressed, IPA when unstressed); consonants have one form.
_TO_IPA: dict[str, tuple[str, str]] = {
    "AA": ("ɑː", "ɑː"), "AE": ("æ", "æ"), "AH": ("ʌ", "ə"), "AO": ("ɔː", "ɔː"),
    "AW": ("aʊ", "aʊ"), "AY": ("aɪ", "aɪ"), "EH": ("ɛ", "ɛ"), "ER": ("ɜː", "ɚ"),
    "EY": ("eɪ", "eɪ"), "IH": ("ɪ", "ɪ"), "IY": ("iː", "i"), "OW": ("oʊ", "oʊ"),
    "OY": ("ɔɪ", "ɔɪ"), "UH": ("ʊ", "ʊ"), "UW": ("uː", "uː"),
    "B": ("b", "b"), "CH": ("tʃ", "tʃ"), "D": ("d", "d"), "DH": ("ð", "ð"), "F": ("f", "f"),
    "G": ("ɡ", "ɡ"), "HH": ("h", "h"), "JH": ("dʒ", "dʒ"), "K": ("k", "k"), "L": ("l", "l"),
    "M": ("m", "m"), "N": ("n", "n"), "NG": ("ŋ", "ŋ"), "P": ("p", "p"), "R": ("ɹ", "ɹ"),
    "S": ("s", "s"), "SH": ("ʃ", "ʃ"), "T": ("t", "t"), "TH": ("θ", "θ"), "V": ("v", "v"),
    "W": ("w", "w"), "Y": ("j", "j"), "Z": ("z", "z"), "ZH": ("ʒ", "ʒ"),
}

PAUSE = "_"

# IPA (eSpeak English and common extras) -> ARPAbet sequence. Longest match wins.
_FROM_IPA: dict[str, tuple[str, ...]] = {
    # vowels and diphthongs
    "aɪɚ": ("AY", "ER"), "aʊɚ": ("AW", "ER"), "aɪə": ("AY", "AH"), "aʊə": ("AW", "AH"),
    "ɑː": ("AA",), "ɑ": ("AA",), "ɒ": ("AA",), "a": ("AE",), "æ": ("AE",), "ɐ": ("AH",),
    "ʌ": ("AH",), "ə": ("AH",), "ɔː": ("AO",), "ɔ": ("AO",), "aʊ": ("AW",), "aɪ": ("AY",),
    "ɛ": ("EH",), "e": ("EH",), "ɜː": ("ER",), "ɜ": ("ER",), "ɚ": ("ER",), "eɪ": ("EY",),
    "ɪ": ("IH",), "ᵻ": ("IH",), "ɨ": ("IH",), "iː": ("IY",), "i": ("IY",), "iə": ("IY", "AH"),
    "oʊ": ("OW",), "əʊ": ("OW",), "o": ("OW",), "ɔɪ": ("OY",), "ʊ": ("UH",), "uː": ("UW",),
    "u": ("UW",), "eə": ("EH", "R"), "ʊə": ("UH", "R"), "y": ("UW",), "ø": ("ER",),
    "œ": ("ER",),
    # consonants
    "b": ("B",), "tʃ": ("CH",), "d": ("D",), "ð": ("DH",), "f": ("F",), "ɡ": ("G",),
    "g": ("G",), "h": ("HH",), "dʒ": ("JH",), "k": ("K",), "l": ("L",), "ɫ": ("L",),
    "m": ("M",), "n": ("N",), "ŋ": ("NG",), "p": ("P",), "ɹ": ("R",), "r": ("R",),
    "ɾ": ("T",), "s": ("S",), "ʃ": ("SH",), "t": ("T",), "θ": ("TH",), "v": ("V",),
    "w": ("W",), "j": ("Y",), "z": ("Z",), "ʒ": ("ZH",), "x": ("K",), "ç": ("HH",),
    "ʔ": ("T",), "ts": ("T", "S"), "dz": ("D", "Z"), "ɲ": ("N", "Y"), "ʎ": ("L", "Y"),
    "β": ("B",), "ɣ": ("G",), "ʁ": ("R",), "ʀ": ("R",),
}
_MAX_KEY = max(len(k) for k in _FROM_IPA)
_STRESS_MARKS = {"ˈ": 1, "ˌ": 2}  # IPA mark -> ARPAbet digit


def split_arpabet(phone: str) -> tuple[str, int | None]:
    """``"AH0"`` -> ``("AH", 0)``; ``"AH"`` -> ``("AH", None)`` (stress unknown)."""
    p = phone.strip().upper()
    if p and p[-1].isdigit():
        return p[:-1], int(p[-1])
    return p, None


def arpabet_stress_to_phoneme(digit: int | None) -> int:
    """ARPAbet stress digit (1 primary, 2 secondary, 0/None none) -> Phoneme.stress (2/1/0)."""
    return {1: 2, 2: 1}.get(digit if digit is not None else 0, 0)


def to_ipa(phone: str, stress: int | None = None) -> str:
    """One ARPAbet phone (``"AH0"``, ``"ER"``, ``"SIL"``) -> eSpeak-style IPA.

    ``stress`` (an ARPAbet digit) overrides a digit in ``phone``. Silence and filler phones
    (``SIL``, ``+NSN+``, ``+SPN+`` ...) give ``"_"``; an unknown phone gives ``"_"`` too.
    """
    base, digit = split_arpabet(phone)
    if stress is not None:
        digit = stress
    forms = _TO_IPA.get(base)
    if forms is None:
        return PAUSE
    return forms[0] if digit in (1, 2) else forms[1]


def is_vowel(phone: str) -> bool:
    """True for an ARPAbet vowel (with or without its stress digit)."""
    return split_arpabet(phone)[0] in VOWELS


def from_ipa(ipa: str) -> list[str]:
    """eSpeak IPA (stress marks, length marks, word spaces allowed) -> ARPAbet with stress digits.

    ``"həlˈoʊ wˈɜːld"`` -> ``["HH", "AH0", "L", "OW1", "W", "ER1", "L", "D"]``. A stress mark
    applies to the next vowel. Unknown symbols and diacritics are skipped, so the result may be
    empty for text eSpeak could not read.
    """
    s = unicodedata.normalize("NFD", ipa)
    s = "".join(c for c in s if unicodedata.category(c) != "Mn")  # nasalisation, syllabic marks
    out: list[str] = []
    pending = 0
    i = 0
    while i < len(s):
        ch = s[i]
        if ch in _STRESS_MARKS:
            pending = _STRESS_MARKS[ch]
            i += 1
            continue
        for size in range(min(_MAX_KEY, len(s) - i), 0, -1):
            key = s[i:i + size]
            if key in _FROM_IPA:
                for ph in _FROM_IPA[key]:
                    if ph in VOWELS:
                        out.append(f"{ph}{pending}")
                        pending = 0
                    else:
                        out.append(ph)
                i += size
                break
        else:
            i += 1  # length mark alone, tone digit, space, unknown symbol
    return out


def strip_stress(phones: list[str]) -> list[str]:
    """ARPAbet phones without stress digits (the PocketSphinx en-us model's phone set)."""
    return [split_arpabet(p)[0] for p in phones]
