# SPDX-License-Identifier: GPL-3.0-or-later
"""eSpeak NG word events -> the words of the text with their times.

eSpeak's word events carry character positions that are hints, not exact; :func:`word_spans`
maps them onto the text's tokens, :func:`word_times` times each word by its phonemes, and
:func:`split_merged` gives tokens eSpeak read as one word ("I am") their own words.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from .espeak_timing import PAUSE

_TOKEN = re.compile(r"\S+")
_UNSPACED_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HALFWIDTH", "THAI", "LAO", "KHMER",
                     "MYANMAR", "TIBETAN")


def _unspaced(char: str) -> bool:
    """True for characters of scripts written without spaces between words."""
    return unicodedata.name(char, "").split(" ", 1)[0] in _UNSPACED_SCRIPTS


_READ_ALOUD = frozenset("%‰&@#")


def _silent(char: str) -> bool:
    """Punctuation that is not read as a word (unlike "%" or "&")."""
    return unicodedata.category(char).startswith("P") and char not in _READ_ALOUD


def _strip_punctuation(token: str) -> tuple[str, int]:
    """``token`` without silent punctuation at its ends, and how many characters left its front."""
    lead = 0
    while lead < len(token) and _silent(token[lead]):
        lead += 1
    end = len(token)
    while end > lead and _silent(token[end - 1]):
        end -= 1
    return token[lead:end], lead


def _speakable(token: str) -> bool:
    """False for tokens of punctuation only ("—", "..."), which eSpeak does not read."""
    return not all(_silent(c) for c in token)


def word_spans(text: str, events: Sequence[tuple[int, int]]) -> list[tuple[str, int, int]]:
    """Word events -> (word, char_start, sample), one per spoken word of ``text``.

    Words are the whitespace-separated tokens of ``text`` (punctuation at their ends removed);
    an event's character position picks its token, the last one starting at or before it.
    eSpeak's positions are hints, not exact:

    - a token read as several words ("1999", "$20", "GmbH") gets events inside itself: they
      stay one word;
    - an event that lands in or before the current token while the next token gets no event
      of its own belongs to that next token (eSpeak places the second word of dictionary
      phrases like "déjà vu" one character after the first, and sometimes a word's position
      one character early);
    - in scripts written without spaces (Chinese, Japanese, Thai) an event inside a token
      starts a new word there.
    """
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text) if _speakable(m.group())]
    starts = [s for s, _ in tokens]
    hints = [max(0, bisect_right(starts, pos) - 1) for pos, _ in events]
    last_hint = {hint: k for k, hint in enumerate(hints)}
    spans: list[tuple[int, int, int]] = []  # (token index, char_start, sample)
    for k, ((pos, sample), hint) in enumerate(zip(events, hints)):
        if not tokens:
            break
        if not spans or hint > spans[-1][0]:
            spans.append((hint, tokens[hint][0], sample))
            continue
        current, current_start, _ = spans[-1]
        if hint == current and current_start < pos < tokens[current][1] and _unspaced(text[pos]):
            spans.append((current, pos, sample))
        elif current + 1 < len(tokens) and last_hint.get(current + 1, -1) < k:
            spans.append((current + 1, tokens[current + 1][0], sample))
    out = []
    for k, (ti, start, sample) in enumerate(spans):
        same_token = k + 1 < len(spans) and spans[k + 1][0] == ti
        end = spans[k + 1][1] if same_token else tokens[ti][1]
        word, lead = _strip_punctuation(text[start:end])
        if word:
            out.append((word, start + lead, sample))
    return out


def word_times(
    spans: list[tuple[str, int, int]], events: list[tuple[str, int, int, int]],
    phonemes: list[tuple[str, int, int, int]], offset: int, end: int,
) -> list[tuple[int, int]]:
    """(start, end) samples of each word: the span of its non-pause phonemes.

    A phoneme belongs to the word whose event precedes the phoneme's own event: ``events`` are
    the phonemes at eSpeak's event times, ``phonemes`` the same phonemes with refined
    boundaries, which give the times (``offset`` shifts event samples into the whole speech;
    ``end`` closes the last word). A word without phonemes keeps its event time and lasts until
    the next word.
    """
    marks = [offset + s for _, _, s in spans] + [end]
    starts = [p[1] for p in events]
    out = []
    for k in range(len(spans)):
        lo, hi = marks[k], max(marks[k], marks[k + 1])
        i, j = bisect_right(starts, lo - 1), bisect_right(starts, hi - 1)
        own = [p for p in phonemes[i:j] if p[0] != PAUSE]
        out.append((own[0][1], own[-1][2]) if own else (lo, hi))
    for k in range(1, len(out)):  # keep word starts monotonic
        if out[k][0] < out[k - 1][0]:
            out[k] = (out[k - 1][0], max(out[k - 1][0], out[k][1]))
    return out


def split_merged(
    text: str, spans: list[tuple[str, int, int]], times: list[tuple[int, int]]
) -> tuple[list[tuple[str, int, int]], list[tuple[int, int]]]:
    """Give every token its own word when eSpeak read several as one ("I am" is one event).

    Tokens that got no word of their own share the time of the word before them, split in
    proportion to their lengths in characters.
    """
    words = []
    for m in _TOKEN.finditer(text):
        if _speakable(m.group()):
            word, lead = _strip_punctuation(m.group())
            words.append((word, m.start() + lead))
    out_spans: list[tuple[str, int, int]] = []
    out_times: list[tuple[int, int]] = []
    for k, (span, (a, b)) in enumerate(zip(spans, times)):
        nxt = spans[k + 1][1] if k + 1 < len(spans) else len(text)
        group = [span] + [(w, st, span[2]) for w, st in words
                          if w and span[1] + len(span[0]) <= st < nxt]
        weights = np.cumsum([0] + [max(1, len(w)) for w, _, _ in group], dtype=float)
        edges = a + (b - a) * weights / weights[-1]
        for g, lo, hi in zip(group, edges[:-1], edges[1:]):
            out_spans.append(g)
            out_times.append((int(round(lo)), int(round(hi))))
    return out_spans, out_times
