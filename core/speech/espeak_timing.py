# SPDX-License-Identifier: GPL-3.0-or-later
"""eSpeak NG phoneme events -> a phoneme timeline, with two boundaries moved to the sound.

Phoneme events name IPA phonemes with stress marks at the sample where eSpeak starts them; here
they become (symbol, start, end, stress) items that tile the audio, and two boundaries move to
where the sound is (:func:`closure_onsets`, :func:`vowel_ends`): eSpeak's events mark a stop's
release and a vowel's fade-out late for lip-sync.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np

_STRESS_MARKS = {"ˈ": 2, "ˌ": 1}
_ESPEAK_TO_IPA = {
    # eSpeak's Mandarin phoneme names that are ASCII mnemonics rather than IPA.
    "ph": "pʰ", "th": "tʰ", "kh": "kʰ", "tsh": "tsʰ", "tɕh": "tɕʰ",
    "ts.": "ʈʂ", "ts.h": "ʈʂʰ", "s.": "ʂ", "i.": "ɻ̩", "o-": "ɤ",
}
PAUSE = "_"


def parse_symbol(raw: str) -> tuple[str, int] | None:
    """A phoneme event's name -> (IPA symbol, stress); None for language-switch markers."""
    if not raw:
        return PAUSE, 0
    if raw.startswith("("):
        return None
    stress = max((s for mark, s in _STRESS_MARKS.items() if mark in raw), default=0)
    symbol = raw.replace("ˈ", "").replace("ˌ", "")
    symbol = _ESPEAK_TO_IPA.get(symbol, symbol.rstrip("-"))  # French "ə-", "a-": optional vowels
    return (symbol, stress) if symbol else None


def _is_modifier(symbol: str) -> bool:
    """Symbols like "ʲ" or "ː" alone: they modify the previous phoneme."""
    return all(unicodedata.category(c) in ("Lm", "Mn") for c in symbol)


def collect_phonemes(
    events: Sequence[tuple[str, int]], offset: int, count: int, out: list[list]
) -> None:
    """Append [symbol, start sample, stress] items of one utterance to ``out``.

    ``offset`` is the utterance's first sample in the whole speech, ``count`` its length. Pauses
    mark its start and end, so phonemes tile the audio once :func:`timeline` has run.
    """
    out.append([PAUSE, offset, 0])
    for raw, sample in events:
        parsed = parse_symbol(raw)
        if parsed is None:
            continue
        symbol, stress = parsed
        start = max(offset + min(max(sample, 0), count), out[-1][1])
        if symbol != PAUSE and _is_modifier(symbol):
            if out[-1][0] != PAUSE:
                out[-1][0] += symbol
            continue
        out.append([symbol, start, stress])
    out.append([PAUSE, offset + count, 0])


_SILENT = 1
"""Largest |int16 sample| that counts as eSpeak's digital silence."""
_MIN_CLOSURE = 0.005
"""Shortest digital silence inside speech that is a stop closure (s)."""
_RELEASE_SLACK = 0.002
"""Most sound (s) allowed between a closure's end and the event that follows it."""


def closure_onsets(
    phonemes: list[tuple[str, int, int, int]], pcm: np.ndarray, rate: int
) -> list[tuple[str, int, int, int]]:
    """Move each stop's start back to its closure.

    eSpeak sends a stop's event (p, t, k, often b, d) at its release: the closure, 20-50 ms of
    digital silence, comes before the event and would count as the end of the previous phoneme
    (a vowel would stay open through it). Annotated speech, and the face, which shuts the lips
    over a p/b/m, put the closure in the stop. A phoneme that follows a spoken phoneme whose
    audio ends in at least :data:`_MIN_CLOSURE` s of silence (up to :data:`_RELEASE_SLACK` s
    before the event) starts where that silence starts. ``phonemes`` are (symbol, start, end,
    stress) in samples of ``pcm`` (int16, the whole speech).
    """
    quiet = np.abs(pcm.astype(np.int32)) <= _SILENT
    slack, shortest = int(_RELEASE_SLACK * rate), int(_MIN_CLOSURE * rate)
    out = list(phonemes)
    for k in range(1, len(out)):
        before, (symbol, start, end, stress) = out[k - 1], out[k]
        if PAUSE in (symbol, before[0]) or start - before[1] <= shortest:
            continue
        near = before[1] + max(0, start - slack - before[1])
        tail = np.flatnonzero(quiet[near:start])
        if not tail.size:
            continue
        stop = near + int(tail[-1]) + 1
        sound = np.flatnonzero(~quiet[before[1]:stop])
        begin = before[1] + (int(sound[-1]) + 1 if sound.size else 0)
        if stop - begin >= shortest and begin > before[1]:
            out[k - 1] = (before[0], before[1], begin, before[3])
            out[k] = (symbol, begin, end, stress)
    return out


def vowel_ends(
    phonemes: list[tuple[str, int, int, int]], pcm: np.ndarray, rate: int
) -> list[tuple[str, int, int, int]]:
    """Move each vowel-to-consonant boundary to where the vowel's sound ends.

    eSpeak's event for a consonant after a vowel comes 20-60 ms after the vowel's loudness has
    fallen (the vowel fades into the transition), where annotated speech puts the boundary at
    the fall: on the 7 reference clips of bench/lipsync_bench.py (PocketSphinx and Praat
    annotations), the vowel's short-time energy (20 ms windows, two voice periods) at the
    annotated end is -3.2 dB (median of 102) below its peak. So the boundary moves to the
    centre of the last window at or above half the vowel's peak energy (never
    earlier than the vowel's middle, never later than eSpeak's event). ``phonemes`` are
    (symbol, start, end, stress) in samples of ``pcm`` (int16, the whole speech).
    """
    from ..face.visemes import is_vowel  # light module (names only); lazy: no import cycle

    out = list(phonemes)
    win, hop = max(1, int(0.02 * rate)), max(1, int(0.0025 * rate))
    for k in range(len(out) - 1):
        symbol, start, end, stress = out[k]
        after = out[k + 1]
        if after[0] == PAUSE or not is_vowel(symbol) or is_vowel(after[0]):
            continue
        x = pcm[start:end].astype(np.float64)
        n = (len(x) - win) // hop + 1
        if n < 3:
            continue
        energy = np.array([np.mean(x[j * hop:j * hop + win] ** 2) for j in range(n)])
        if energy.max() <= 0.0:
            continue
        last = int(np.flatnonzero(energy >= energy.max() / 2)[-1])
        cut = max(start + last * hop + win // 2, (start + end) // 2)
        if cut < end:
            out[k] = (symbol, start, cut, stress)
            out[k + 1] = (after[0], cut, after[2], after[3])
    return out


def timeline(items: list[list], total: int) -> list[tuple[str, int, int, int]]:
    """Items [symbol, start, stress] -> (symbol, start, end, stress), end = next start.

    Zero-length pauses go, consecutive pauses merge; the last item ends at ``total`` samples.
    """
    out: list[tuple[str, int, int, int]] = []
    for k, (symbol, start, stress) in enumerate(items):
        end = items[k + 1][1] if k + 1 < len(items) else total
        if symbol == PAUSE:
            if end == start:
                continue
            if out and out[-1][0] == PAUSE:
                out[-1] = (PAUSE, out[-1][1], end, 0)
                continue
        out.append((symbol, start, end, stress))
    return out
