# SPDX-License-Identifier: GPL-3.0-or-later
"""On-disk cache of synthesised speech pieces (one sentence of one voice with one tone).

A key is the SHA-256 of a canonical JSON of everything that changes the audio: backend, model
identity (path, size and modification time of its files), voice, speaker, language, text and
tone. Entries are ``.npz`` files holding ``samples`` (float32 (N,)) and ``sample_rate``, read with
``allow_pickle=False`` and written atomically (temporary file, then rename), so a crash never
leaves a half-written entry. The cache lives in ``core.paths.cache_dir("speech")``; delete it
with :func:`clear` (or ``paksatalker voices --clear-cache``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..paths import cache_dir

FORMAT = 1
"""Bumped when synthesis changes in a way that makes old entries wrong."""


def file_identity(path: str | os.PathLike) -> str:
    """``path|size|mtime_ns`` of a model file, cheap enough to compute per sentence."""
    st = os.stat(path)
    return f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}"


def make_key(**parts: object) -> str:
    """The cache key (64 hex digits) for JSON-serialisable ``parts``."""
    blob = json.dumps({"format": FORMAT, **parts}, sort_keys=True, ensure_ascii=False,
                      default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class SpeechCache:
    """Speech pieces on disk under ``root`` (default: the user cache); counts hits and misses."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else cache_dir("speech")
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str) -> tuple[np.ndarray, int] | None:
        """``(samples, sample_rate)`` stored under ``key``, or None (a damaged entry is removed)."""
        path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                samples = np.asarray(data["samples"], dtype=np.float32)
                rate = int(data["sample_rate"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        return samples, rate

    def put(self, key: str, samples: np.ndarray, sample_rate: int) -> None:
        """Store an entry atomically; a cache that cannot be written is skipped silently."""
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                np.savez(f, samples=np.asarray(samples, dtype=np.float32),
                         sample_rate=np.int64(sample_rate))
            os.replace(tmp, path)
        except OSError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError, OSError):
                tmp.unlink()

    def fetch(self, key: str, make: Callable[[], tuple[np.ndarray, int]]
              ) -> tuple[np.ndarray, int]:
        """The entry for ``key``; on a miss ``make()`` it and store it."""
        found = self.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        samples, rate = make()
        self.put(key, samples, rate)
        return np.asarray(samples, dtype=np.float32), int(rate)

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        count = sum(1 for _ in self.root.glob("*/*.npz"))
        for sub in self.root.iterdir() if self.root.is_dir() else ():
            if sub.is_dir():
                shutil.rmtree(sub, ignore_errors=True)
        return count


def clear(root: str | os.PathLike | None = None) -> int:
    """Empty the speech cache (the user cache unless ``root`` is given); returns entries removed."""
    return SpeechCache(root).clear()
