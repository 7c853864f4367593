# SPDX-License-Identifier: GPL-3.0-or-later
"""Batch job files (TOML): many shots, validated up front with errors that name the line.

    [job]
    output = "renders"            # folder for every shot's outputs (relative to this file)
    allow = ["../footage"]        # folders inputs may come from, besides this file's folder
    seed = 7                      # shots without their own seed derive one from this + their name

    [defaults]                    # any option of `paksatalker render`, for every shot
    engine = "cycles"
    resolution = "1280x720"

    [[shot]]
    name = "intro"                # unique; the shot's outputs go to <output>/<name>/
    text = "Hello [happy] there!" # or script_file = "...", audio = "...", performance = "..."
    exports = ["mp4", "npz", "bvh"]
    camera = "close_up"           # any render option, overriding [defaults]

Every other key is a ``paksatalker render`` / ``generate`` option spelled with underscores
(``script_file`` is ``--script-file``); ``true`` turns a flag on. The options are checked with
the CLI's own parser, so a job file accepts exactly what the command line accepts. Paths are
resolved against the job file's folder and must stay inside it or a folder listed in ``allow``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import InputError

EXPORTS = ("mp4", "png", "npz", "wav", "bvh", "fbx", "glb", "csv")
"""What a shot can write: the video, its frames, the Performance (+ WAV), and motion exports."""

SOURCES = ("text", "script_file", "audio", "performance")
_SOURCE_SETS = ({"text"}, {"script_file"}, {"audio"}, {"audio", "text"}, {"audio", "script_file"},
                {"performance"}, {"performance", "audio"})
SHOT_KEYS = {"name", "seed", "exports"}
JOB_KEYS = {"output", "allow", "seed"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Options the batch sets itself, per step.
_RESERVED = {"out", "frames", "work_dir", "performance_out"}


@dataclass(frozen=True)
class Shot:
    name: str
    seed: int
    exports: tuple[str, ...]
    generate_args: tuple[str, ...]
    """``paksatalker generate`` arguments without ``--out`` (empty for a Performance shot)."""
    render_args: tuple[str, ...]
    """``paksatalker render`` arguments without the source, ``--out`` and ``--frames``."""
    performance: Path | None
    """A Performance file given by the job (then nothing is generated)."""
    audio: Path | None
    fps: float
    line: int

    @property
    def key(self) -> str:
        """Hash of everything that shapes this shot's outputs (a change re-runs the shot)."""
        text = "\0".join((*self.generate_args, "|", *self.render_args, str(self.performance),
                          str(self.audio), str(self.seed)))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Job:
    path: Path
    output: Path
    allowed: tuple[Path, ...]
    shots: tuple[Shot, ...] = field(default_factory=tuple)


class _Lines:
    """Line numbers of ``[[shot]]`` tables and their keys, for error messages."""

    def __init__(self, text: str) -> None:
        self.table_start: dict[str, int] = {}
        self.shot_start: list[int] = []
        self.keys: list[dict[str, int]] = []
        current: dict[str, int] | None = None
        tables: dict[str, dict[str, int]] = {}
        for no, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            header = line.split("#")[0].strip()
            if header.startswith("[[") and header.strip("[] ") == "shot":
                self.shot_start.append(no)
                current = {}
                self.keys.append(current)
            elif header.startswith("["):
                name = header.strip("[] ")
                self.table_start[name] = no
                current = tables.setdefault(name, {})
            elif current is not None and "=" in line and not line.startswith("#"):
                current.setdefault(line.split("=", 1)[0].strip().strip('"'), no)
        self.tables = tables

    def shot(self, index: int, key: str | None = None) -> int:
        if index >= len(self.shot_start):
            return 0
        if key is not None and key in self.keys[index]:
            return self.keys[index][key]
        return self.shot_start[index]

    def table(self, name: str, key: str | None = None) -> int:
        if key is not None and key in self.tables.get(name, {}):
            return self.tables[name][key]
        return self.table_start.get(name, 0)


def _fail(path: Path, line: int, msg: str) -> InputError:
    where = f"{path}:{line}" if line else str(path)
    return InputError(f"{where}: {msg}")


def _inside(p: Path, roots: tuple[Path, ...]) -> bool:
    return any(p == r or r in p.parents for r in roots)


def derive_seed(job_seed: int, name: str) -> int:
    """A shot's seed from the job seed and its name: stable across runs and machines."""
    digest = hashlib.sha256(f"{job_seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def load(path: str | Path) -> Job:
    """Read and validate a job file; raises :class:`InputError` naming the file and line."""
    path = Path(path).expanduser().absolute()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such job file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read it as UTF-8 text ({e})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        raise _fail(path, int(m.group(1)) if m else 0, f"not valid TOML: {e}") from None
    lines = _Lines(text)
    base = path.parent.resolve()

    unknown = set(data) - {"job", "defaults", "shot"}
    if unknown:
        key = sorted(unknown)[0]
        raise _fail(path, lines.table(key), f"unknown table [{key}]; use [job], [defaults] "
                    "and [[shot]]")
    job = data.get("job", {})
    if not isinstance(job, dict):
        raise _fail(path, 0, "[job] must be a table")
    for key in set(job) - JOB_KEYS:
        raise _fail(path, lines.table("job", key),
                    f"unknown [job] key {key!r}; known: {', '.join(sorted(JOB_KEYS))}")
    allow = job.get("allow", [])
    if not isinstance(allow, list) or not all(isinstance(a, str) for a in allow):
        raise _fail(path, lines.table("job", "allow"), "allow must be a list of folder names")
    allowed = (base, *(_resolve_dir(base / a) for a in allow))
    out_name = job.get("output", "renders")
    if not isinstance(out_name, str) or not out_name:
        raise _fail(path, lines.table("job", "output"), "output must be a folder name")
    output = _resolve_dir(base / out_name)
    if not _inside(output, allowed):
        raise _fail(path, lines.table("job", "output"),
                    f"output {out_name!r} lies outside the job's folders")
    job_seed = job.get("seed", 0)
    if not isinstance(job_seed, int) or isinstance(job_seed, bool):
        raise _fail(path, lines.table("job", "seed"), "seed must be an integer")

    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise _fail(path, 0, "[defaults] must be a table")
    shots_data = data.get("shot", [])
    if not isinstance(shots_data, list) or not shots_data:
        raise _fail(path, 0, "the job has no [[shot]] tables")

    checker = _OptionChecker()
    for key in defaults:
        if key in SHOT_KEYS | set(SOURCES) | _RESERVED:
            raise _fail(path, lines.table("defaults", key),
                        f"{key!r} belongs in a [[shot]], not in [defaults]")
    shots, names = [], set()
    for i, raw in enumerate(shots_data):
        ctx = _ShotContext(path, lines, i, base, allowed)
        shot = _shot(ctx, {**defaults, **raw}, raw, job_seed, checker)
        if shot.name in names:
            raise ctx.fail("name", f"two shots are named {shot.name!r}")
        names.add(shot.name)
        shots.append(shot)
    return Job(path=path, output=output, allowed=allowed, shots=tuple(shots))


def _resolve_dir(p: Path) -> Path:
    return p.resolve()


@dataclass
class _ShotContext:
    path: Path
    lines: _Lines
    index: int
    base: Path
    allowed: tuple[Path, ...]

    def fail(self, key: str | None, msg: str) -> InputError:
        shot_keys = self.lines.keys[self.index] if self.index < len(self.lines.keys) else {}
        if key is not None and key not in shot_keys and key in self.lines.tables.get("defaults",
                                                                                      {}):
            line = self.lines.table("defaults", key)  # the value came from [defaults]
            return _fail(self.path, line, f"[defaults] (shot {self.index + 1}): {msg}")
        return _fail(self.path, self.lines.shot(self.index, key), f"shot {self.index + 1}: {msg}")

    def file(self, key: str, value) -> Path:
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"{key} must be a file name")
        p = (self.base / Path(value).expanduser()).resolve()
        if not _inside(p, self.allowed):
            raise self.fail(key, f"{key} {value!r} lies outside the folders this job allows "
                            "(add its folder to [job] allow)")
        if not p.exists():
            raise self.fail(key, f"{key} {value!r}: no such file")
        return p


def _shot(ctx: _ShotContext, merged: dict, raw: dict, job_seed: int,
          checker: _OptionChecker) -> Shot:
    if not isinstance(raw, dict):
        raise ctx.fail(None, "a [[shot]] must be a table")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ctx.fail("name", "every shot needs a name of letters, digits, '-', '_' or '.' "
                       "(it names the shot's output folder)")
    sources = {k for k in SOURCES if k in raw}
    if sources not in _SOURCE_SETS:
        raise ctx.fail(None, f"shot {name!r} needs one of text, script_file, audio or performance "
                       "(audio may come with text or script_file as its transcript, and a "
                       "performance with its audio)")
    seed = raw.get("seed", derive_seed(job_seed, name))
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ctx.fail("seed", "seed must be a non-negative integer")
    exports = raw.get("exports", ["mp4"])
    if (not isinstance(exports, list) or not exports
            or not all(isinstance(e, str) for e in exports)):
        raise ctx.fail("exports", f"exports must be a list drawn from {', '.join(EXPORTS)}")
    bad = [e for e in exports if e not in EXPORTS]
    if bad:
        raise ctx.fail("exports", f"unknown export {bad[0]!r}; known: {', '.join(EXPORTS)}")

    options: dict[str, object] = {}
    for key, value in merged.items():
        if key in SHOT_KEYS or key in SOURCES:
            continue
        if key in _RESERVED:
            raise ctx.fail(key, f"{key!r} is set by the batch itself; remove it")
        options[key] = value
    performance = audio = None
    source: dict[str, object] = {}
    if "audio" in raw:
        audio = ctx.file("audio", raw["audio"])
    if "performance" in raw:
        performance = ctx.file("performance", raw["performance"])
    elif audio is not None:
        source["audio"] = str(audio)
    if "script_file" in raw:
        source["script_file"] = str(ctx.file("script_file", raw["script_file"]))
    if "text" in raw:
        if not isinstance(raw["text"], str) or not raw["text"].strip():
            raise ctx.fail("text", "text must be a non-empty string")
        source["text"] = raw["text"]

    for key, value in list(options.items()):
        if checker.is_path(key) and isinstance(value, str):
            options[key] = str(ctx.file(key, value))
    gen_args: tuple[str, ...] = ()
    if performance is None:
        gen_opts = {k: v for k, v in options.items() if checker.generate_accepts(k)}
        gen_args = (*_argv(source), *_argv(gen_opts), "--seed", str(seed))
        checker.check(ctx, "generate", [*gen_args, "--out", "x.npz"], options)
    render_opts = {k: v for k, v in options.items() if checker.render_accepts(k)}
    unknown = [k for k in options if not (checker.render_accepts(k)
                                          or checker.generate_accepts(k))]
    if unknown:
        raise ctx.fail(unknown[0], f"unknown option {unknown[0]!r}: not an option of "
                       "`paksatalker render` (see `paksatalker render --help`)")
    render_args = tuple(_argv(render_opts))
    checker.check(ctx, "render", ["--performance", "x.npz", *render_args, "--out", "x.mp4"],
                  options)
    fps = float(options.get("fps", 30.0))
    return Shot(name=name, seed=seed, exports=tuple(dict.fromkeys(exports)),
                generate_args=gen_args, render_args=render_args, performance=performance,
                audio=audio, fps=fps, line=ctx.lines.shot(ctx.index))


def _argv(options: dict[str, object]) -> list[str]:
    args: list[str] = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is False:
            continue
        elif isinstance(value, list):
            args += [flag, *map(str, value)]
        else:
            args += [flag, str(value)]
    return args


class _OptionChecker:
    """Checks shot options with the CLI's own argument parser."""

    def __init__(self) -> None:
        from .cli import build_parser

        parser = build_parser()
        subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        self.parsers = subs.choices
        self._dests = {name: self._options(p) for name, p in self.parsers.items()}

    @staticmethod
    def _options(p: argparse.ArgumentParser) -> dict[str, argparse.Action]:
        return {a.dest: a for a in p._actions if a.option_strings}

    def generate_accepts(self, key: str) -> bool:
        return key in self._dests["generate"] and key not in SOURCES

    def render_accepts(self, key: str) -> bool:
        return key in self._dests["render"] and key not in SOURCES

    def is_path(self, key: str) -> bool:
        action = self._dests["render"].get(key) or self._dests["generate"].get(key)
        return action is not None and action.type is Path

    def check(self, ctx: _ShotContext, command: str, argv: list[str], options: dict) -> None:
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                self.parsers[command].parse_args(argv)
        except SystemExit:
            msg = err.getvalue().strip().splitlines()[-1] if err.getvalue().strip() else ""
            msg = msg.split("error:", 1)[-1].strip()
            m = re.search(r"--([a-z0-9-]+)", msg)
            key = m.group(1).replace("-", "_") if m else None
            raise ctx.fail(key if key in options else None, msg or "invalid options") from None
