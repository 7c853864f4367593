# SPDX-License-Identifier: GPL-3.0-or-later
"""A disk cache of LLM replies keyed by model, prompt and generation parameters.

The key is the SHA-256 of a canonical JSON of ``{"model", "messages", "params"}``; ``params``
holds everything that changes the reply (temperature, max tokens, seed, ...). Secrets (API keys)
are never part of the key or the entry. Only replies that produced a valid script are stored
(see :mod:`.llm`), so a bad answer is never replayed. Entries are one small JSON file each,
written to a temporary file and renamed, so concurrent writers never leave half a file.

Default folder: ``cache_dir("llm")`` (``$PAKSATALKER_CACHE/llm``).

:func:`write_batch` writes many briefs at once into a folder of script files.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..paths import atomic_file, cache_dir


def cache_key(model: str, messages: Sequence[dict[str, str]], params: dict[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of model, messages and parameters."""
    blob = json.dumps({"model": model, "messages": list(messages), "params": params},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, "w", encoding="utf-8") as f:
        f.write(text)


class LLMCache:
    """Replies on disk under ``folder/<key[:2]>/<key>.json``."""

    def __init__(self, folder: str | os.PathLike | None = None) -> None:
        self.folder = Path(folder) if folder is not None else cache_dir("llm")
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        """The cached reply text, or None (a corrupt entry counts as a miss)."""
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
            text = entry["reply"]
        except (OSError, ValueError, KeyError, TypeError):
            self.misses += 1
            return None
        if not isinstance(text, str):
            self.misses += 1
            return None
        self.hits += 1
        return text

    def put(self, key: str, reply: str, model: str = "") -> None:
        atomic_write_text(self._path(key), json.dumps({"model": model, "reply": reply},
                                                      ensure_ascii=False))


def write_batch(writer, briefs: Sequence[str], out_dir: str | os.PathLike,
                language: str | None = None) -> list[tuple[Any, Path | None]]:
    """Write many briefs with a :class:`~.llm.ScriptWriter` into ``out_dir/script-NNN.txt``.

    The briefs go through ``writer.write_many`` (one batched generation per attempt round, cached
    replies reused). Returns ``(ScriptResult, path or None)`` per brief, in order; a brief that
    failed or was blocked has no file and says why in its result.
    """
    out = Path(out_dir)
    pairs: list[tuple[Any, Path | None]] = []
    for i, result in enumerate(writer.write_many(list(briefs), language), 1):
        path = None
        if result.script is not None:
            path = out / f"script-{i:03d}.txt"
            atomic_write_text(path, result.markup + "\n")
        pairs.append((result, path))
    return pairs
