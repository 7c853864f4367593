# SPDX-License-Identifier: GPL-3.0-or-later
"""The real speech clips in shared/assets/speech with their reference alignments, for benches.

- ``pocketsphinx_librivox``: 5 LibriVox clips (one male reader, 16 kHz) with PocketSphinx word
  (``.json``) and phone (``.phone.json``) alignments, ARPAbet without stress. Made by PocketSphinx:
  our English aligner uses the same engine, so these mostly check that we reproduce it.
- ``praatio_examples``: ``bobby`` (ARPAbet with stress) and ``mary`` (IPA-like labels), 48 kHz,
  Praat TextGrids made independently of PocketSphinx.

Every reference becomes word and phone intervals in seconds; phones carry eSpeak-style IPA
(:func:`paksatalker.core.speech.arpabet.to_ipa`), pauses dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from paksatalker.core.speech import arpabet

ROOT = Path("/work/shared/assets/speech")


@dataclass(frozen=True)
class Clip:
    name: str
    wav: Path
    transcript: str
    words: list[tuple[str, float, float]]
    phones: list[tuple[str, float, float]]
    """(IPA symbol, start, end) of every non-pause reference phone."""


def _arpabet_phones(label: str, a: float, b: float) -> list[tuple[str, float, float]]:
    """One ARPAbet label -> IPA phones; a merged label such as ``"PT"`` splits evenly in time."""
    base, digit = arpabet.split_arpabet(label)
    if not base or base in ("SIL", "SP") or base.startswith(("+", "<", "[")):
        return []
    if arpabet.to_ipa(base) != "_":
        return [(arpabet.to_ipa(base, digit), a, b)]
    parts, i = [], 0
    while i < len(base):  # greedy split into known phones
        two = base[i:i + 2]
        if len(two) == 2 and arpabet.to_ipa(two) != "_":
            parts.append(two)
            i += 2
        elif arpabet.to_ipa(base[i]) != "_":
            parts.append(base[i])
            i += 1
        else:
            return []
    step = (b - a) / len(parts)
    return [(arpabet.to_ipa(p), a + k * step, a + (k + 1) * step) for k, p in enumerate(parts)]


def _librivox(base: Path) -> Clip:
    words = json.loads(base.with_suffix(".json").read_text())["w"]
    phones = json.loads(base.with_suffix(".phone.json").read_text())["w"]
    return Clip(
        name=base.name[-4:],
        wav=base.with_suffix(".wav"),
        transcript=base.with_suffix(".txt").read_text().strip(),
        words=[(w["t"].split("(")[0], w["b"], w["b"] + w["d"]) for w in words
               if not w["t"].startswith("<")],
        phones=[ph for w in phones for p in w["w"]
                for ph in _arpabet_phones(p["t"], p["b"], p["b"] + p["d"])],
    )


def read_textgrid(path: Path) -> dict[str, list[tuple[float, float, str]]]:
    """Interval tiers of a Praat TextGrid (long or short text format): name -> intervals."""
    text = re.sub(r"\[\d*\]", "", path.read_text(encoding="utf-8"))
    tokens = re.findall(r'"([^"]*)"|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)', text)
    tiers: dict[str, list[tuple[float, float, str]]] = {}
    i = 0
    while i < len(tokens):
        if tokens[i][0] != "IntervalTier":
            i += 1
            continue
        name, count = tokens[i + 1][0], int(tokens[i + 4][1])
        cells = tokens[i + 5:i + 5 + 3 * count]
        tiers[name] = [(float(cells[k][1]), float(cells[k + 1][1]), cells[k + 2][0])
                       for k in range(0, 3 * count, 3)]
        i += 5 + 3 * count
    return tiers


def _praatio(name: str, word_grid: str, phone_grid: str, ipa: bool) -> Clip:
    folder = ROOT / "praatio_examples"
    words = [(t.lower(), a, b) for a, b, t in read_textgrid(folder / word_grid)["word"]
             if t.strip()]
    phones = []
    for a, b, t in read_textgrid(folder / phone_grid)["phone"]:
        if t.strip():
            phones += [(t.strip(), a, b)] if ipa else _arpabet_phones(t.strip(), a, b)
    return Clip(name, folder / f"{name}.wav", " ".join(w for w, _, _ in words), words, phones)


def clips() -> list[Clip]:
    """Every clip with a word and phone reference (7: five LibriVox, bobby, mary)."""
    out = [_librivox(p.with_suffix(""))
           for p in sorted((ROOT / "pocketsphinx_librivox").glob("*.wav"))]
    out.append(_praatio("bobby", "bobby_words.TextGrid", "bobby_phones.TextGrid", ipa=False))
    out.append(_praatio("mary", "mary.TextGrid", "mary.TextGrid", ipa=True))
    return out


def word_boundary_errors(ours: list[tuple[float, float]],
                         ref: list[tuple[str, float, float]]) -> list[float]:
    """|start - ref start| and |end - ref end| (s) of each word, words paired in order."""
    return [abs(v) for (a, b), (_, ra, rb) in zip(ours, ref) for v in (a - ra, b - rb)]


def phone_pairs(ours: list[tuple[str, float, float]],
                ref: list[tuple[str, float, float]]) -> list[tuple[int, int]]:
    """Index pairs (ours, ref) of corresponding phones: the two label sequences are matched
    (difflib) on their viseme classes, which absorbs dictionary variants (``ɹ``/``r``)."""
    from difflib import SequenceMatcher

    from paksatalker.core.face.visemes import viseme

    a = [viseme(s) for s, _, _ in ours]
    b = [viseme(s) for s, _, _ in ref]
    pairs = []
    for block in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        pairs += [(block.a + k, block.b + k) for k in range(block.size)]
    return pairs


def phone_boundary_errors(ours: list[tuple[str, float, float]],
                          ref: list[tuple[str, float, float]]) -> tuple[list[float], float]:
    """Boundary errors (s) of corresponding phones (starts and ends) and the share of reference
    phones that found a counterpart."""
    pairs = phone_pairs(ours, ref)
    errs = [abs(v) for i, j in pairs
            for v in (ours[i][1] - ref[j][1], ours[i][2] - ref[j][2])]
    return errs, len(pairs) / max(1, len(ref))
