# SPDX-License-Identifier: GPL-3.0-or-later
"""Forced-alignment accuracy on the real speech clips against their reference alignments.

    .venv/bin/python bench/align_bench.py

For each clip (5 LibriVox clips with PocketSphinx references, and praatio's bobby and mary with
independent Praat references) and each method:

- ``align``: :func:`paksatalker.core.speech.align.align`, the product's aligner (PocketSphinx for
  English, used by every voice backend without timings and by lip-sync from audio);
- ``dtw``: the fallback used for non-English languages (MFCC DTW against an eSpeak NG
  re-synthesis), run on the same English clips to show its accuracy.

prints the median and 90th percentile of word-boundary errors (|start - ref| and |end - ref| of
every word) and of phone-boundary errors (phones paired by matching the two label sequences on
viseme classes; ``match`` is the share of reference phones paired), in ms, and the alignment time.
The last rows pool every boundary of every clip, and of the two independently aligned clips.
"""

from __future__ import annotations

import time

import numpy as np
from speech_refs import clips, phone_boundary_errors, word_boundary_errors

from paksatalker.core.audio import read_wav
from paksatalker.core.speech.align import align, make_words, tile
from paksatalker.core.speech.align_dtw import align_dtw
from paksatalker.core.types import Script, Segment

INDEPENDENT = ("bobby", "mary")
"""Clips whose references were not made by PocketSphinx."""


def _run(method: str, x: np.ndarray, rate: int, script: Script):
    if method == "align":
        return align(x, rate, script)
    words, phonemes = align_dtw(x, rate, script)
    duration = x.size / rate
    return make_words(words, duration), tile(phonemes, duration)


def _ms(values: list[float], q: float) -> str:
    return f"{1000 * np.percentile(values, q):6.1f}" if values else "     -"


def main() -> None:
    pooled: dict[str, tuple[list[float], list[float]]] = {
        k: ([], []) for k in ("align", "dtw", "align indep", "dtw indep")}
    print(f"{'clip':<6} {'method':<12} {'words':>5} {'word med':>8} {'word p90':>8} "
          f"{'phone med':>9} {'phone p90':>9} {'match':>6} {'time s':>7}")
    for clip in clips():
        x, rate = read_wav(clip.wav)
        script = Script((Segment(clip.transcript),))
        for method in ("align", "dtw"):
            t0 = time.perf_counter()
            words, phonemes = _run(method, x, rate, script)
            elapsed = time.perf_counter() - t0
            werr = word_boundary_errors([(w.start, w.end) for w in words], clip.words)
            ours = [(p.symbol, p.start, p.end) for p in phonemes if p.symbol != "_"]
            perr, match = phone_boundary_errors(ours, clip.phones)
            keys = [method] + ([f"{method} indep"] if clip.name in INDEPENDENT else [])
            for key in keys:
                pooled[key][0].extend(werr)
                pooled[key][1].extend(perr)
            flag = "" if len(words) == len(clip.words) else f" ({len(words)} vs {len(clip.words)})"
            print(f"{clip.name:<6} {method:<12} {len(words):>5} {_ms(werr, 50)}   {_ms(werr, 90)}  "
                  f" {_ms(perr, 50)}    {_ms(perr, 90)} {100 * match:5.0f}% {elapsed:7.2f}{flag}")
    for method, (werr, perr) in pooled.items():
        print(f"{'ALL':<6} {method:<12} {len(werr) // 2:>5} {_ms(werr, 50)}   {_ms(werr, 90)}  "
              f" {_ms(perr, 50)}    {_ms(perr, 90)}")
    print("(references: LibriVox made by PocketSphinx itself; bobby and mary by Praat users: "
          "'indep' pools only those two)")


if __name__ == "__main__":
    main()
