# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``paksatalker`` command line.

    paksatalker render   --text "Hello!" --out talk.mp4 [--engine eevee|cycles|workbench] ...
    paksatalker generate --text "Hello!" --out perf.npz
    paksatalker voices   [--language de]

Errors caused by input print one line and exit with status 2. ``render`` runs Blender in this
process (pip ``bpy``), or inside Blender through ``headless/blender_run.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..core.errors import InputError, OutputError, PaksaError
from ..core.settings import BodySettings, FaceSettings, GenerateSettings, SpeechSettings

EXIT_USAGE = 2
ENGINES = ("eevee", "cycles", "workbench")
PHENOTYPE_HELP = {
    "gender": "0 male .. 1 female (default 0.75)",
    "age": "0 baby, 0.5 teen, 0.67 is 25 years, 1 old (default 0.72)",
    "weight": "0 thin .. 1 heavy (default 0.45)",
    "height": "0 short .. 1 tall (default 0.37)",
    "muscle": "0 soft .. 1 muscular (default 0.5)",
    "proportions": "0 ideal .. 1 uncommon (default 0.1)",
}


# --------------------------------------------------------------------------- parsing helpers
def _resolution(s: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in s.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not WIDTHxHEIGHT, e.g. 1920x1080") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"{s!r}: width and height must be 16..8192")
    return w, h


def _frames(s: str) -> tuple[int, int]:
    a, sep, b = s.partition(":")
    try:
        first, last = int(a), int(b)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not FIRST:LAST, e.g. 1:48") from None
    if not sep or not 1 <= first <= last:
        raise argparse.ArgumentTypeError(f"{s!r}: need 1 <= FIRST <= LAST, e.g. 1:48")
    return first, last


def _unit(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a number") from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"{s!r} must be in 0..1")
    return v


def _add_text_source(p: argparse.ArgumentParser, *, performance: bool) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="the script, with optional markup ([happy], *nod*, ...)")
    src.add_argument("--script-file", type=Path, help="read the script from a UTF-8 text file")
    if performance:
        src.add_argument("--performance", type=Path,
                         help="render a Performance .npz (ours or EMAGE/BEAT2) instead of text")
        p.add_argument("--audio", type=Path,
                       help="WAV for --performance (default: the one named in it or beside it)")


def _add_generate_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("speech and motion")
    g.add_argument("--voice", default="en-us", help="voice or language id (see `voices`)")
    g.add_argument("--rate", type=int, default=SpeechSettings.rate, help="words per minute")
    g.add_argument("--pitch", type=int, default=SpeechSettings.pitch, help="0..100")
    g.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    g.add_argument("--seed", type=int, default=0, help="seed for blinks, gaze and gestures")
    g.add_argument("--energy", type=_unit, default=BodySettings.energy,
                   help="gesture energy 0..1")
    g.add_argument("--blink-rate", type=float, default=FaceSettings.blink_rate,
                   help="blinks per minute")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paksatalker",
                                     description="Script to rendered 3D talking avatar.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("render", help="text or a Performance -> MP4 video (or PNG frames)")
    _add_text_source(r, performance=True)
    r.add_argument("--out", type=Path, required=True,
                   help="output .mp4 (H.264 + AAC), or a folder for a PNG sequence")
    r.add_argument("--engine", choices=ENGINES, default="cycles",
                   help="cycles (default: best value on a CPU), eevee, or workbench (fast preview)")
    r.add_argument("--resolution", type=_resolution, default=(1920, 1080), metavar="WxH")
    r.add_argument("--samples", type=int, help="render samples (default: engine's fast default)")
    r.add_argument("--frames", type=_frames, metavar="FIRST:LAST",
                   help="render only these frames (1-based, inclusive)")
    r.add_argument("--work-dir", type=Path,
                   help="keep rendered frames here; a re-run resumes from them")
    _add_generate_options(r)
    a = r.add_argument_group("avatar (the bundled MakeHuman human; phenotype values 0..1)")
    for name, hint in PHENOTYPE_HELP.items():
        a.add_argument(f"--{name}", type=_unit, help=hint)
    s = r.add_argument_group("scene")
    s.add_argument("--camera", choices=("medium", "close_up", "full_body"), default="medium")
    s.add_argument("--fstop", type=float, default=2.8, help="depth-of-field f-stop")
    s.add_argument("--no-dof", action="store_true", help="disable depth of field")

    g = sub.add_parser("generate", help="text -> Performance .npz + .wav (no Blender needed)")
    _add_text_source(g, performance=False)
    g.add_argument("--out", type=Path, required=True, help="output .npz (a .wav is written beside)")
    _add_generate_options(g)

    v = sub.add_parser("voices", help="list the voices of a speech backend")
    v.add_argument("--backend", default="espeak")
    v.add_argument("--language", help="only voices for this language id prefix, e.g. en")
    return parser


@contextmanager
def blender_output_to(log: Path):
    """Send everything written to file descriptors 1 and 2 (Blender's C code) to ``log``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (fd, *saved):
            os.close(f)


# --------------------------------------------------------------------------- commands
def _read_text(args) -> str:
    if args.script_file is None:
        return args.text
    try:
        return args.script_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{args.script_file}: no such script file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{args.script_file}: cannot read it as UTF-8 text ({e})") from None


def _generate_settings(args) -> GenerateSettings:
    return GenerateSettings(
        fps=args.fps,
        speech=SpeechSettings(voice=args.voice, rate=args.rate, pitch=args.pitch),
        face=FaceSettings(seed=args.seed, blink_rate=args.blink_rate),
        body=BodySettings(seed=args.seed, energy=args.energy),
    )


def cmd_generate(args) -> int:
    from ..core import performance, pipeline
    from .progress import StageBars

    out: Path = args.out
    if out.suffix.lower() != ".npz":
        raise OutputError(f"{out}: the Performance output must end in .npz")
    performance.check_output_dir(out)
    text = _read_text(args)
    bars = StageBars()
    try:
        perf = pipeline.generate(text, _generate_settings(args), bars.step)
    except BaseException:
        bars.close(failed=True)
        raise
    bars.close()
    npz, wav = performance.save(perf, out)
    print(f"wrote {npz} and {wav} ({perf.frames} frames, {perf.speech.duration:.2f} s)")
    return 0


def cmd_voices(args) -> int:
    from ..core.speech import list_voices

    voices = list_voices(args.backend)
    if args.language:
        voices = [v for v in voices if any(lang.startswith(args.language) for lang in v.languages)]
    for v in voices:
        print(f"{v.identifier:<28} {','.join(v.languages):<20} {v.gender:<7} {v.name}")
    if not voices:
        raise InputError(f"no {args.backend} voice matches language {args.language!r}")
    return 0


def cmd_render(args) -> int:
    text = None if args.performance else _read_text(args)
    settings = _generate_settings(args)
    from ..addon import pipeline as job_pipeline  # imports bpy: after the cheap checks
    from .progress import StageBars

    job = job_pipeline.job_from_args(args, text=text, generate=settings)
    log = Path(tempfile.gettempdir()) / f"paksatalker-{os.getpid()}.log"
    terminal = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
    bars = StageBars(terminal)
    try:
        with blender_output_to(log):  # Blender's own chatter goes to a log, not the terminal
            out = job_pipeline.run_job(job, bars)
    except BaseException as e:
        bars.close(failed=True)
        if not isinstance(e, PaksaError | KeyboardInterrupt):
            print(f"paksatalker: Blender's log is in {log}", file=terminal)
        raise
    finally:
        terminal.close()
    bars.close()
    log.unlink(missing_ok=True)
    print(f"wrote {out}")
    return 0


COMMANDS = {"render": cmd_render, "generate": cmd_generate, "voices": cmd_voices}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except PaksaError as e:
        print(f"paksatalker: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("paksatalker: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
