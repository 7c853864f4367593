# SPDX-License-Identifier: GPL-3.0-or-later
"""``--workers N``: shard a render's frames over N processes, then encode the video once.

The parent saves the Performance (npz + WAV) once, so every worker animates exactly the same
motion, and runs the same ``paksatalker render`` command N times with ``--performance`` and
``--frames FIRST:LAST`` for a contiguous share each, writing frames into one folder. Each worker
gets ``cores / N`` render threads. Frames are written atomically, so a killed run resumes from
the frames already there. With the fast Cycles path the first worker renders the shared
background before the others start, so it is rendered once.

On one machine a single process with all threads is usually as fast (ENVIRONMENT.md: one process
with 2 threads beat two 1-thread processes on 2 cores); workers pay off on many cores, where one
Blender process does not scale, and they bound the work lost to a crash.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..core.errors import OutputError
from .render import THREADS_ENV

DROP = {"--text", "--script-file", "--performance", "--audio", "--out", "--frames", "--workers",
        "--work-dir"}
"""Options of the parent's command line that each worker gets its own value for."""


def shards(first: int, last: int, n: int) -> list[tuple[int, int]]:
    """Split ``first..last`` (inclusive) into at most ``n`` contiguous, nearly equal runs."""
    total = last - first + 1
    n = max(1, min(n, total))
    bounds = [first + round(i * total / n) for i in range(n + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(n)]


def child_args(argv: Sequence[str], *, performance: Path, audio: Path, out: Path,
               frames: tuple[int, int]) -> list[str]:
    """The parent's ``render`` arguments with the source, output and frame range replaced."""
    args, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in DROP:
            skip = "=" not in arg
            continue
        args.append(arg)
    return [*args, "--performance", str(performance), "--audio", str(audio), "--out", str(out),
            "--frames", f"{frames[0]}:{frames[1]}"]


def command(args: Sequence[str]) -> list[str]:
    """How to run ``paksatalker <args>`` in a fresh process (pip bpy or a Blender binary)."""
    try:
        import bpy

        binary = bpy.app.binary_path
    except ImportError:
        binary = ""
    if binary:
        entry = Path(__file__).resolve().parent.parent / "headless" / "blender_run.py"
        return [binary, "-b", "--factory-startup", "--python", str(entry), "--", *args]
    return [sys.executable, "-m", "paksatalker.headless.cli", *args]


def run_sharded(
    argv: Sequence[str],
    *,
    performance: Path,
    audio: Path,
    frames_dir: Path,
    frames: tuple[int, int],
    workers: int,
    shared_background: bool,
    log_dir: Path,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Render ``frames`` into ``frames_dir`` with ``workers`` processes; return the frame files.

    Raises :class:`OutputError` naming the log of a worker that failed (the others are stopped).
    """
    frames_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    parts = shards(*frames, workers)
    env = dict(os.environ)
    env[THREADS_ENV] = str(max(1, (os.cpu_count() or 1) // len(parts)))
    procs: list[tuple[subprocess.Popen, Path]] = []

    def start(part: tuple[int, int]) -> None:
        log = log_dir / f"worker-{part[0]:06d}-{part[1]:06d}.log"
        args = child_args(argv, performance=performance, audio=audio, out=frames_dir, frames=part)
        with open(log, "wb") as f:
            proc = subprocess.Popen(command(args), stdout=f, stderr=subprocess.STDOUT, env=env)
        procs.append((proc, log))

    def done() -> int:
        return sum(1 for _ in frames_dir.glob("frame_*.*"))

    total = frames[1] - frames[0] + 1
    try:
        start(parts[0])
        if shared_background and len(parts) > 1:
            while procs[0][0].poll() is None and not any(frames_dir.glob(".background-*.exr")):
                time.sleep(0.5)
        for part in parts[1:]:
            start(part)
        while any(p.poll() is None for p, _ in procs):
            _check(procs)
            if progress is not None:
                progress(min(done(), total), total)
            time.sleep(1.0)
        _check(procs)
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
    if progress is not None:
        progress(total, total)
    pattern = sorted(frames_dir.glob("frame_*.*"))
    return pattern


def _check(procs) -> None:
    for proc, log in procs:
        code = proc.poll()
        if code not in (None, 0):
            raise OutputError(f"a render worker failed (exit {code}); see its log {log}")
