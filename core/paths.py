# SPDX-License-Identifier: GPL-3.0-or-later
"""Where PaksaTalker keeps caches (never inside the add-on folder)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """``$PAKSATALKER_CACHE``, else ``$XDG_CACHE_HOME/paksatalker``, else ``~/.cache/paksatalker``.

    The add-on passes Blender's extension user folder through ``PAKSATALKER_CACHE``.
    """
    root = os.environ.get("PAKSATALKER_CACHE")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
        root = os.path.join(base, "paksatalker")
    path = Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
