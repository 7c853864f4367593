# SPDX-License-Identifier: GPL-3.0-or-later
"""Terminal progress: one bar per stage, with an ETA for counted work (frames)."""

from __future__ import annotations

import sys
import time


class Bar:
    """A single-line progress bar on stderr; plain periodic lines when stderr is not a TTY."""

    def __init__(self, label: str, total: int | None = None, stream=None) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.monotonic()
        self._last_pct = -1
        self._closed = False

    def update(self, done: float, total: int | None = None, detail: str = "") -> None:
        total = total if total is not None else self.total
        self.total = total
        frac = (done / total) if total else float(done)
        frac = min(max(frac, 0.0), 1.0)
        pct = int(frac * 100)
        if not self.tty and pct < 100 and pct - self._last_pct < 10:
            return
        self._last_pct = pct
        elapsed = time.monotonic() - self.t0
        count = f" {int(done)}/{total}" if total else ""
        eta = ""
        if total and 0 < done < total:
            eta = f" ETA {_fmt(elapsed / done * (total - done))}"
        width = 24
        filled = int(round(frac * width))
        bar = "#" * filled + "-" * (width - filled)
        line = f"{self.label:<10} [{bar}] {pct:3d}%{count} {_fmt(elapsed)}{eta}"
        if detail:
            line += f"  {detail}"
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self, detail: str = "", *, failed: bool = False) -> None:
        """Finish the bar at 100 %; ``failed`` leaves it where it stopped."""
        if self._closed:
            return
        self._closed = True
        if self._last_pct < 100 and not failed:
            self.update(self.total or 1, self.total, detail)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _fmt(seconds: float) -> str:
    seconds = int(round(seconds))
    m, s = divmod(seconds, 60)
    return f"{m}:{s:02d}" if m < 60 else f"{m // 60}:{m % 60:02d}:{s:02d}"


class StageBars:
    """One bar per stage: call it as ``bars(stage, done, total=None, detail="")``.

    ``done``/``total`` count items (frames, with an ETA); with ``total`` None, ``done`` is a 0..1
    fraction. A new stage closes the previous bar; stage "done" only prints its detail.
    """

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.bar: Bar | None = None
        self.stage = ""

    def __call__(self, stage: str, done: float = 0.0, total: int | None = None,
                 detail: str = "") -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            if stage == "done":
                if detail:
                    self.stream.write(f"{'done':<10} {detail}\n")
                return
            self.bar = Bar(stage, total, self.stream)
        if self.bar is not None:
            self.bar.update(done, total, detail)

    def step(self, step) -> None:
        """Adapter for ``core.pipeline.Step`` events."""
        self(step.stage, 0.0, None, step.detail)

    def close(self, *, failed: bool = False) -> None:
        if self.bar is not None:
            self.bar.close(failed=failed)
            self.bar = None
