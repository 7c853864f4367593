# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline language identification for briefs and scripts, and code-switching runs.

Two cues, no model files:

1. the Unicode script of the letters (Hangul -> ko, kana -> ja, Han -> zh unless kana appear,
   Greek, Hebrew, Thai, Devanagari, ...; Arabic and Cyrillic are refined by letters only their
   languages use, e.g. Persian پ چ ژ گ, Ukrainian і ї є ґ);
2. for Latin and Cyrillic text, small stop-word profiles (about 25 of the most frequent function
   words per language) plus letters typical of one language (ß, ñ, ł, ğ, ...).

Short Latin text (a few words) is often ambiguous; :func:`detect` then reports a low confidence
and :func:`split_runs` keeps the surrounding language rather than guessing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0370, 0x03FF, "greek"), (0x0400, 0x052F, "cyrillic"), (0x0530, 0x058F, "armenian"),
    (0x0590, 0x05FF, "hebrew"), (0x0600, 0x06FF, "arabic"), (0x0750, 0x077F, "arabic"),
    (0x0900, 0x097F, "devanagari"), (0x0980, 0x09FF, "bengali"), (0x0B80, 0x0BFF, "tamil"),
    (0x0E00, 0x0E7F, "thai"), (0x10A0, 0x10FF, "georgian"), (0x1100, 0x11FF, "hangul"),
    (0x3040, 0x309F, "kana"), (0x30A0, 0x30FF, "kana"), (0x3130, 0x318F, "hangul"),
    (0x3400, 0x4DBF, "han"), (0x4E00, 0x9FFF, "han"), (0xAC00, 0xD7AF, "hangul"),
    (0xFF66, 0xFF9F, "kana"),
)
_SCRIPT_LANG = {
    "greek": "el", "armenian": "hy", "hebrew": "he", "devanagari": "hi", "bengali": "bn",
    "tamil": "ta", "thai": "th", "georgian": "ka", "hangul": "ko", "kana": "ja", "han": "zh",
}

STOP_WORDS: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in {
    "en": "the and of to a in is it you that he was for on are with as i his they be at one "
          "have this from or had by not but what we can our your will",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als "
          "auch es an werden aus er hat dass sie nach wird bei wir ich ihr",
    "fr": "le la les de des et un une du en est que qui dans pour pas sur au avec il elle ce "
          "sont nous vous par plus mais ou je",
    "es": "el la los las de del y a en un una que es por con para no se lo su al como más pero "
          "sus le les ya o este esta está sí porque muy todos cómo hay también nos",
    "it": "il lo la gli le di del della e un una che è per non con sono si da in al ma come "
          "anche ci questo mi ho",
    "pt": "o a os as de do da dos das e um uma que é em para com não se por mais como mas ao "
          "você muito foi são nos todos nossa nosso sobre isso também está",
    "nl": "de het een en van is dat niet in op te zijn met voor er maar ook als bij aan om "
          "wij je ik u dit",
    "sv": "och att det som en på är av för med till den har de inte om ett men jag vi ni "
          "var kan så",
    "pl": "i w z na nie się to że do jest o jak ale po co tak za od już czy jego przez być "
          "dla tylko",
    "tr": "ve bir bu da de için ile çok ne gibi daha ama ben sen o var mı değil olarak en "
          "kadar sonra",
    "id": "yang dan di itu dengan untuk tidak ini dari dalam akan pada juga saya ke karena "
          "tersebut bisa ada kami",
    "ru": "и в не на я что он с как а то все она так его но да ты к у же вы за бы по только",
    "uk": "і в не на що я з як а та це він але до у так ти ми ви його бути від",
    "bg": "и в на не да се че за от с по това как са ще той тя но ли като",
}.items()}

_LETTER_HINTS: dict[str, str] = {
    "de": "ßäöü", "es": "ñ¿¡", "pt": "ãõ", "fr": "œçèêëîâû", "pl": "łąęśźżćń", "tr": "ğşı",
    "sv": "å", "it": "ì", "vi": "ơưđạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ",
    "uk": "іїєґ", "fa": "پچژگکی", "ur": "ٹڈڑںے",
}

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_SENTENCE = re.compile(r"[^.!?。！？؟]+[.!?。！？؟]*\s*")


def char_script(ch: str) -> str:
    """Script name of one character: a :data:`_RANGES` name, "latin", or "" (not a letter)."""
    code = ord(ch)
    for lo, hi, name in _RANGES:
        if lo <= code <= hi:
            return name if (ch.isalpha() or name in ("han", "kana", "thai")) else ""
    if ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
        return "latin"
    return ""


@dataclass(frozen=True)
class Guess:
    """A detected language id (eSpeak style, ``"en"``), the main script and a 0..1 confidence."""

    language: str
    script: str
    confidence: float


def _scripts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ch in text:
        s = char_script(ch)
        if s:
            counts[s] = counts.get(s, 0) + 1
    return counts


def _by_words(text: str, candidates: tuple[str, ...]) -> tuple[str, float]:
    lower = text.lower()
    words = [w.replace("’", "'") for w in _WORD.findall(lower)]
    if not words:
        return "", 0.0
    scores = {}
    for lang in candidates:
        hits = sum(w in STOP_WORDS.get(lang, ()) for w in words)
        hint = sum(lower.count(c) for c in _LETTER_HINTS.get(lang, ""))
        scores[lang] = hits + 0.5 * min(hint, 4)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, s1), s2 = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
    if s1 <= 0:
        return "", 0.0
    coverage = min(1.0, s1 / max(3.0, 0.25 * len(words)))
    return best, coverage * (s1 - s2) / s1


_LATIN = ("en", "de", "fr", "es", "it", "pt", "nl", "sv", "pl", "tr", "id", "vi")


def detect(text: str, default: str = "en") -> Guess:
    """The language of ``text`` (``default`` with confidence 0 when nothing decides)."""
    counts = _scripts(text)
    if not counts:
        return Guess(default, "", 0.0)
    total = sum(counts.values())
    script = max(counts, key=counts.get)
    share = counts[script] / total
    if counts.get("kana") and script in ("han", "kana"):
        return Guess("ja", "kana", min(1.0, (counts["kana"] + counts.get("han", 0)) / total))
    if script in _SCRIPT_LANG:
        return Guess(_SCRIPT_LANG[script], script, share)
    if script == "arabic":
        for lang in ("ur", "fa"):
            if any(c in text for c in _LETTER_HINTS[lang]):
                return Guess(lang, script, share * 0.8)
        return Guess("ar", script, share)
    if script == "cyrillic":
        lang, conf = _by_words(text, ("ru", "uk", "bg"))
        return Guess(lang or "ru", script, share * max(conf, 0.5))
    lang, conf = _by_words(text, _LATIN)
    if not lang and any(c in text.lower() for c in _LETTER_HINTS["vi"]):
        lang, conf = "vi", 0.6
    return Guess(lang or default, script, share * conf)


def _script_runs(sentence: str) -> list[tuple[str, str]]:
    """Split a sentence where the letters change script; marks and digits stay with their run."""
    runs: list[list[str]] = []
    for ch in sentence:
        s = char_script(ch)
        s = "cjk" if s in ("han", "kana") else s
        if s and runs and runs[-1][0] not in (s, ""):
            runs.append([s, ch])
        elif runs:
            runs[-1][0] = runs[-1][0] or s
            runs[-1][1] += ch
        else:
            runs.append([s, ch])
    return [(s, t) for s, t in runs]


def language_script(language: str) -> str:
    """The script a language id is written in ("latin" unless known otherwise)."""
    base = language.lower().split("-")[0]
    if base in ("ja", "zh"):
        return "cjk"
    if base in ("ru", "uk", "bg", "sr", "mk", "be", "kk"):
        return "cyrillic"
    if base in ("ar", "fa", "ur"):
        return "arabic"
    return {v: k for k, v in _SCRIPT_LANG.items()}.get(base, "latin")


def split_runs(text: str, base: str, min_confidence: float = 0.35) -> list[tuple[str, str]]:
    """``text`` as ``[(language, chunk), ...]``: code-switched sentences/script runs tagged.

    A run in another script than ``base``'s is decisive; a sentence in ``base``'s own script
    changes language only when :func:`detect` is at least ``min_confidence`` sure. Adjacent
    chunks of one language merge.
    """
    has_kana = any(char_script(c) == "kana" for c in text)
    base_lang, base_script = base.lower().split("-")[0], language_script(base)
    out: list[tuple[str, str]] = []
    for sentence in _SENTENCE.findall(text) or [text]:
        for script, chunk in _script_runs(sentence):
            if not script:
                lang = out[-1][0] if out else base
            elif script == "cjk":
                lang = "ja" if has_kana else "zh"
            elif script != base_script:
                lang = detect(chunk, base).language
            else:
                g = detect(chunk, base)
                lang = g.language if g.confidence >= min_confidence else base
            if lang.split("-")[0] == base_lang:
                lang = base
            if out and out[-1][0] == lang:
                out[-1] = (lang, out[-1][1] + chunk)
            else:
                out.append((lang, chunk))
    return [(lang, chunk.strip()) for lang, chunk in out if chunk.strip()]


def pick_voice(language: str, backend: str = "espeak"):
    """The voice of ``backend`` that best speaks ``language``, or None when none does.

    Preference: a voice whose main language is exactly ``language``, one named after it
    (eSpeak ``gmw/en`` for "en"), one listing it, then one of the same base language; among
    equals the most generic (shortest) identifier. Returns a
    :class:`~paksatalker.core.speech.VoiceInfo`.
    """
    from ..speech import list_voices

    want = language.lower().replace("_", "-")
    base = want.split("-")[0]

    def rank(v) -> tuple[int, int] | None:
        langs = [lang.lower() for lang in v.languages]
        tail = v.identifier.rsplit("/", 1)[-1].lower()
        if langs and langs[0] == want:
            r = 0
        elif tail == want:
            r = 1
        elif want in langs:
            r = 2
        elif langs and langs[0].split("-")[0] == base:
            r = 3
        elif any(lang.split("-")[0] == base for lang in langs):
            r = 4
        else:
            return None
        return r, len(tail)

    ranked = [(rank(v), i, v) for i, v in enumerate(list_voices(backend))]
    ranked = [x for x in ranked if x[0] is not None]
    return min(ranked, key=lambda x: (x[0], x[1]))[2] if ranked else None
