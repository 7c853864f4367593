# SPDX-License-Identifier: GPL-3.0-or-later
"""Script-writer throughput: batched vs one-by-one generation, and cache hits, side by side.

    .venv/bin/python bench/llm_bench.py [--model FOLDER] [--briefs 4] [--max-tokens 48]

Without ``--model`` it builds the tiny random Qwen2 of the tests (its output is noise, so every
brief ends in the fallback: this measures the machinery, not writing quality). With a real
instruct model folder it measures that model. Prints seconds for N briefs written one by one,
the same N in one batched generation per attempt round, and a second run served from the cache.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from paksatalker.core.script.llm import ScriptWriter  # noqa: E402
from paksatalker.core.script.llm_cache import LLMCache  # noqa: E402
from paksatalker.core.script.qwen_local import QwenLocal  # noqa: E402
from paksatalker.core.settings import ScriptSettings  # noqa: E402

BRIEFS = ("Our refund policy, friendly", "How to reset a password", "Welcome to the bakery app",
          "Shipping times in winter", "A thank-you to our volunteers", "Office opening hours")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path)
    ap.add_argument("--briefs", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's)")
    a = ap.parse_args()
    if a.threads:
        import torch

        torch.set_num_threads(a.threads)
    tmp = Path(tempfile.mkdtemp(prefix="llm_bench_"))
    folder = a.model
    if folder is None:
        from llm_fixtures import build_tiny_qwen

        folder = build_tiny_qwen(tmp / "tiny")
    model = QwenLocal(str(folder), device="cpu")
    t = time.perf_counter()
    model.load()
    print(f"load: {time.perf_counter() - t:.2f} s ({folder})")
    briefs = [BRIEFS[i % len(BRIEFS)] + f" #{i}" for i in range(a.briefs)]
    s = ScriptSettings(max_tokens=a.max_tokens, attempts=1, on_failure="brief", temperature=0.0)

    t = time.perf_counter()
    for b in briefs:
        ScriptWriter(model, s, cache=LLMCache(tmp / "c1")).write(b)
    one = time.perf_counter() - t
    t = time.perf_counter()
    ScriptWriter(model, s, cache=LLMCache(tmp / "c2")).write_many(briefs)
    batched = time.perf_counter() - t
    s_ok = ScriptSettings(max_tokens=a.max_tokens, attempts=1, temperature=0.0)
    cache = LLMCache(tmp / "c3")
    results = ScriptWriter(model, s_ok, cache=cache).write_many(briefs)
    valid = sum(r.script is not None for r in results)
    t = time.perf_counter()
    ScriptWriter(model, s_ok, cache=cache).write_many(briefs)
    again = time.perf_counter() - t
    print(f"{a.briefs} briefs, {a.max_tokens} new tokens max:")
    print(f"  one by one      {one:7.2f} s")
    print(f"  batched         {batched:7.2f} s   ({one / batched:.2f}x)")
    print(f"  cached re-run   {again:7.2f} s   ({valid} valid scripts were cached; "
          "invalid replies never are)")


if __name__ == "__main__":
    main()
