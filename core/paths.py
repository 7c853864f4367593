# SPDX-License-Identifier: GPL-3.0-or-later
"""Where PaksaTalker keeps caches (never inside the add-on folder), and atomic file writes."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
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


def make_readable(path: str | os.PathLike) -> None:
    """Give a file created by ``tempfile.mkstemp`` (mode 0600) the mode a plain ``open`` would
    have given it (0666 less the umask), so outputs are not private by accident."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


@contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb", encoding: str | None = None):
    """Write ``path`` through a temporary file in its folder, renamed over it on success.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
        make_readable(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
