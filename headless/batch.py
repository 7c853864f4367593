# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a job file: every shot through generate -> render frames -> encode -> exports.

Each step is a ``paksatalker`` subprocess (one Blender process renders a shot's frames), logged
to ``<output>/<shot>/logs/``. Work lives in ``<output>/<shot>/.work-<key>/`` where the key hashes
the shot's settings, so a re-run resumes: rendered frames are kept, and a shot whose outputs are
in the manifest with matching checksums is skipped. :mod:`.ray_batch` runs the same steps as Ray
tasks.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import BackendError, OutputError
from ..core.paths import atomic_file
from .jobs import Job, Shot

MANIFEST = "manifest.json"
Report = Callable[[str], None]


@dataclass(frozen=True)
class ShotFiles:
    """Where one shot's work and outputs live."""

    shot: Shot
    folder: Path

    @property
    def work(self) -> Path:
        return self.folder / f".work-{self.shot.key}"

    @property
    def performance(self) -> Path:
        return self.shot.performance or self.work / "performance.npz"

    @property
    def wav(self) -> Path:
        """The speech WAV: the job's, the one the Performance names, or the one beside it."""
        if self.shot.audio is not None and self.shot.performance is not None:
            return self.shot.audio
        named = self.performance.with_suffix(".wav")
        if self.shot.performance is not None:
            import numpy as np

            with np.load(self.performance, allow_pickle=False) as data:
                if "audio" in data.files:
                    candidate = self.performance.parent / str(data["audio"])
                    named = candidate if candidate.is_file() else named
        return named

    @property
    def frames(self) -> Path:
        return self.work / "frames"

    @property
    def logs(self) -> Path:
        return self.folder / "logs"

    def output(self, kind: str) -> Path:
        name = self.shot.name
        return {"mp4": self.folder / f"{name}.mp4", "png": self.folder / "frames",
                "npz": self.folder / f"{name}.npz", "wav": self.folder / f"{name}.wav",
                "bvh": self.folder / f"{name}.bvh", "fbx": self.folder / f"{name}.fbx",
                "glb": self.folder / f"{name}.glb", "csv": self.folder / f"{name}.csv"}[kind]


def files_for(job: Job, shot: Shot) -> ShotFiles:
    return ShotFiles(shot, job.output / shot.name)


# --------------------------------------------------------------------------- steps
def cli_command(*args: str) -> list[str]:
    """The ``paksatalker`` command line run by this interpreter."""
    return [sys.executable, "-m", "paksatalker.headless.cli", *args]


def _die_with_parent() -> None:
    """Child processes die with the worker that started them (Linux), so a lost worker leaves
    no orphan render writing frames."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


THREADS_ENV = "PAKSATALKER_THREADS"
"""Render threads per Blender process (read by scenes/render.py); unset: all cores."""


def run_step(args: list[str], log: Path, what: str, threads: int | None = None) -> None:
    """Run one ``paksatalker`` step, its output appended to ``log``; one-line error on failure.

    ``threads`` caps the render threads of the step (a Ray task uses the CPUs it was given)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, THREADS_ENV: str(threads)} if threads else None
    with open(log, "a", encoding="utf-8") as f:
        f.write(f"$ {' '.join(args)}\n")
        f.flush()
        res = subprocess.run(cli_command(*args), stdout=f, stderr=subprocess.STDOUT, env=env,
                             preexec_fn=_die_with_parent if os.name == "posix" else None)
    if res.returncode != 0:
        last = _last_error(log)
        raise BackendError(f"{what} failed (exit {res.returncode}): {last} -- see {log}")


def _last_error(log: Path) -> str:
    try:
        lines = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines()
                 if ln.strip()]
    except OSError:
        return "no log"
    errors = [ln for ln in lines if "error" in ln.lower()]
    return (errors or lines or ["no output"])[-1].strip()[:300]


def generate(f: ShotFiles) -> None:
    """Write the shot's Performance (.npz + .wav) unless it is there or given by the job."""
    if f.shot.performance is not None or f.performance.is_file():
        return
    f.work.mkdir(parents=True, exist_ok=True)
    tmp = f.work / ".generating"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    run_step(["generate", *f.shot.generate_args, "--out", str(tmp / "performance.npz")],
             f.logs / "generate.log", f"shot {f.shot.name}: generate")
    os.replace(tmp / "performance.wav", f.performance.with_suffix(".wav"))
    os.replace(tmp / "performance.npz", f.performance)
    tmp.rmdir()


def frame_count(f: ShotFiles) -> int:
    """Frames of the shot's video: the speech duration at the shot's fps."""
    from ..core.audio import read_wav
    from ..core.types import frame_count as count

    samples, rate = read_wav(f.wav)
    return count(len(samples) / rate, f.shot.fps)


def render_args(f: ShotFiles, first: int, last: int) -> list[str]:
    args = ["render", "--performance", str(f.performance)]
    if f.shot.performance is not None and f.shot.audio is not None:
        args += ["--audio", str(f.shot.audio)]
    return [*args, *f.shot.render_args, "--frames", f"{first}:{last}", "--out", str(f.frames)]


def render_range(f: ShotFiles, first: int, last: int, threads: int | None = None) -> None:
    """Render frames ``first..last`` as PNGs into the shot's work folder (resumable), with
    ``threads`` render threads (None: all cores)."""
    f.work.mkdir(parents=True, exist_ok=True)
    run_step(render_args(f, first, last), f.logs / f"render-{first:06d}-{last:06d}.log",
             f"shot {f.shot.name}: render frames {first}..{last}", threads)


def missing_frames(f: ShotFiles, total: int) -> list[int]:
    have = {int(p.stem[6:]) for p in f.frames.glob("frame_*.png") if p.stem[6:].isdigit()}
    return [n for n in range(1, total + 1) if n not in have]


def finish(f: ShotFiles, total: int) -> dict[str, str]:
    """Encode and export what the shot asks for; returns {output path: sha256}."""
    if missing_frames(f, total) and ("mp4" in f.shot.exports or "png" in f.shot.exports):
        raise OutputError(f"shot {f.shot.name}: frames {missing_frames(f, total)[:5]} are missing")
    f.folder.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, str] = {}
    for kind in f.shot.exports:
        out = f.output(kind)
        if kind == "mp4":
            run_step(["encode", "--frames-dir", str(f.frames), "--audio", str(f.wav),
                      "--fps", repr(f.shot.fps), "--out", str(out)],
                     f.logs / "encode.log", f"shot {f.shot.name}: encode")
        elif kind == "png":
            _copy_tree(f.frames, out)
        elif kind == "npz":  # the Performance and its speech, which it loads from beside it
            _copy(f.wav, out.with_suffix(".wav"))
            _copy(f.performance, out)
        elif kind == "wav":
            _copy(f.wav, out)
        else:
            run_step(["export", "--performance", str(f.performance), "--format", kind,
                      "--out", str(out)], f.logs / f"export-{kind}.log",
                     f"shot {f.shot.name}: export {kind}")
        written = [out, out.with_suffix(".wav")] if kind == "npz" else [out]
        for path in sorted(out.rglob("*")) if out.is_dir() else written:
            if path.is_file():
                outputs[str(path.relative_to(f.folder.parent))] = sha256(path)
    return outputs


def drop_stale_work(f: ShotFiles) -> None:
    """Remove work folders left by earlier settings of this shot (they can never be reused)."""
    for old in f.folder.glob(".work-*"):
        if old != f.work and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def _copy(src: Path, dst: Path) -> None:
    with atomic_file(dst) as out, open(src, "rb") as inp:
        shutil.copyfileobj(inp, out)


def _copy_tree(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    if dst.exists():
        shutil.rmtree(dst)
    os.replace(tmp, dst)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- manifest
def read_manifest(job: Job) -> dict:
    try:
        data = json.loads((job.output / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"shots": {}}
    return data if isinstance(data.get("shots"), dict) else {"shots": {}}


def write_manifest(job: Job, manifest: dict) -> None:
    job.output.mkdir(parents=True, exist_ok=True)
    manifest["job"] = str(job.path)
    with atomic_file(job.output / MANIFEST, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, sort_keys=True)


def is_done(job: Job, shot: Shot, manifest: dict) -> bool:
    """True when the manifest lists the shot with the same settings and its outputs are intact."""
    entry = manifest["shots"].get(shot.name)
    if not entry or entry.get("key") != shot.key or not entry.get("outputs"):
        return False
    for rel, digest in entry["outputs"].items():
        path = job.output / rel
        if not path.is_file() or sha256(path) != digest:
            return False
    return True


def record(manifest: dict, shot: Shot, total: int, outputs: dict[str, str], seconds: float):
    manifest["shots"][shot.name] = {"key": shot.key, "seed": shot.seed, "frames": total,
                                    "fps": shot.fps, "outputs": outputs,
                                    "seconds": round(seconds, 2)}


# --------------------------------------------------------------------------- local runner
def run_local(job: Job, report: Report = print) -> dict:
    """Run every shot on this machine, one after another; returns the manifest."""
    job.output.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(job)
    for n, shot in enumerate(job.shots, start=1):
        head = f"[{n}/{len(job.shots)}] {shot.name}"
        if is_done(job, shot, manifest):
            report(f"{head}: done earlier, skipped")
            continue
        t0 = time.monotonic()
        f = files_for(job, shot)
        report(f"{head}: generate")
        generate(f)
        total = frame_count(f)
        todo = missing_frames(f, total)
        if todo and ("mp4" in shot.exports or "png" in shot.exports):
            report(f"{head}: render {len(todo)} of {total} frames")
            render_range(f, 1, total)
        report(f"{head}: {', '.join(shot.exports)}")
        outputs = finish(f, total)
        record(manifest, shot, total, outputs, time.monotonic() - t0)
        write_manifest(job, manifest)
        drop_stale_work(f)
        report(f"{head}: done in {time.monotonic() - t0:.1f} s")
    return manifest
