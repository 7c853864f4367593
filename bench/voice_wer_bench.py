# SPDX-License-Identifier: GPL-3.0-or-later
"""How understandable is each voice? Word error rate of PocketSphinx on Kokoro vs eSpeak NG.

An independent recogniser (PocketSphinx 5 with its bundled US-English model and language
model, no knowledge of the text) transcribes each backend's rendering of the same English
sentences; the word error rate (substitutions + deletions + insertions over reference words)
is printed per sentence and in total, side by side, with each backend's synthesis speed.

    .venv/bin/python bench/voice_wer_bench.py [--voice jm_kumo] [--sentences N]
"""

from __future__ import annotations

import argparse
import re
import time

import numpy as np

from paksatalker.core.audio import resample
from paksatalker.core.script import parse
from paksatalker.core.settings import SpeechSettings
from paksatalker.core.speech import synthesize

SENTENCES = (
    "Hello there! Today I want to show you how our new avatar speaks, moves and smiles.",
    "The weather will be sunny in the morning and cloudy in the afternoon.",
    "Please send me the report before the meeting on Friday.",
    "We started the company five years ago with three people and one computer.",
    "Thank you for watching, and see you next time.",
)


def recognise(samples: np.ndarray, rate: int) -> str:
    """PocketSphinx's transcript (lower case) of mono float audio."""
    from pocketsphinx import Decoder

    pcm = (np.clip(resample(samples, rate, 16000), -1, 1) * 32767).astype("<i2").tobytes()
    decoder = Decoder(loglevel="FATAL")
    decoder.start_utt()
    for i in range(0, len(pcm), 8192):  # chunks: one call for everything decodes worse
        decoder.process_raw(pcm[i:i + 8192], False, False)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr.lower() if hyp is not None else ""


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def word_errors(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over words."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voice", default="en-us", help="Kokoro voice (default: jm_kumo reading "
                    "English)")
    ap.add_argument("--sentences", type=int, default=len(SENTENCES))
    args = ap.parse_args()
    backends = {
        "espeak": SpeechSettings(backend="espeak", voice="en-us"),
        "kokoro": SpeechSettings(backend="kokoro", voice=args.voice, cache=False),
    }
    totals = {name: [0, 0, 0.0, 0.0] for name in backends}  # errors, words, synth s, audio s
    for text in SENTENCES[:args.sentences]:
        ref = words(text)
        print(f"\n{text}")
        for name, settings in backends.items():
            t0 = time.perf_counter()
            speech = synthesize(parse(text, "en-us"), settings)
            took = time.perf_counter() - t0
            heard = recognise(speech.samples, speech.sample_rate)
            errors = word_errors(ref, words(heard))
            t = totals[name]
            t[0] += errors
            t[1] += len(ref)
            t[2] += took
            t[3] += speech.duration
            print(f"  {name:<7} WER {errors / len(ref):6.1%}  heard: {heard!r}")
    print("\nbackend  WER     synth+align s  audio s  real-time factor (synth+align / audio)")
    for name, (errors, count, took, audio) in totals.items():
        print(f"{name:<8} {errors / count:6.1%}  {took:13.2f}  {audio:7.2f}  {took / audio:5.2f}")
    k, e = totals["kokoro"], totals["espeak"]
    print(f"kokoro / espeak WER ratio: {(k[0] / k[1]) / max(e[0] / e[1], 1e-9):.2f}")


if __name__ == "__main__":
    main()
