# SPDX-License-Identifier: GPL-3.0-or-later
"""``paksatalker batch JOB.toml`` and ``paksatalker encode``: the studio-pipeline commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import InputError


def _positive(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{s!r} is not a whole number") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{s!r} must be at least 1")
    return v


def add_parsers(sub) -> None:
    b = sub.add_parser("batch", help="run every shot of a TOML job file (see docs/batch.md)")
    b.add_argument("job", type=Path, help="the job file (.toml)")
    b.add_argument("--ray", metavar="auto|ADDRESS",
                   help="spread generation and frame ranges over a Ray cluster "
                        "(auto: a running cluster, else a local one)")
    b.add_argument("--chunk", type=_positive,
                   help="frames per Ray render task (default: about 2 tasks per worker CPU)")
    b.add_argument("--cpus-per-task", type=_positive, default=1,
                   help="CPUs (render threads) per Ray render task (default 1)")
    b.add_argument("--check", action="store_true",
                   help="only validate the job file and list its shots")

    e = sub.add_parser("encode", help="frame_NNNNNN.png files + a WAV -> H.264/AAC MP4")
    e.add_argument("--frames-dir", type=Path, required=True, help="folder of frame_*.png")
    e.add_argument("--audio", type=Path, help="WAV to mux (frame 1 is its start)")
    e.add_argument("--fps", type=float, required=True)
    e.add_argument("--out", type=Path, required=True, help="output .mp4")


def cmd_batch(args) -> int:
    from . import batch, jobs

    job = jobs.load(args.job)
    if args.check:
        for shot in job.shots:
            print(f"{shot.name:<24} line {shot.line:<4} seed {shot.seed:<10} "
                  f"{','.join(shot.exports)}")
        print(f"{args.job}: {len(job.shots)} shot(s), outputs in {job.output}")
        return 0

    def report(msg: str) -> None:
        print(f"batch: {msg}", file=sys.stderr, flush=True)

    if args.ray:
        from .ray_batch import run_ray

        manifest = run_ray(job, args.ray, chunk=args.chunk, cpus_per_task=args.cpus_per_task,
                           report=report)
    else:
        if args.chunk or args.cpus_per_task != 1:
            raise InputError("--chunk and --cpus-per-task apply to --ray runs only")
        manifest = batch.run_local(job, report)
    print(f"wrote {job.output / batch.MANIFEST} ({len(manifest['shots'])} shot(s))")
    return 0


def cmd_encode(args) -> int:
    from ..core.errors import OutputError

    if args.out.suffix.lower() != ".mp4":
        raise OutputError(f"{args.out}: the output must end in .mp4")
    frames = sorted(args.frames_dir.glob("frame_*.png"))
    if not frames:
        raise InputError(f"{args.frames_dir}: no frame_*.png files")
    from ..scenes.output import encode_video, png_size  # imports bpy: after the cheap checks

    size = png_size(frames[0])
    if size is None:
        raise InputError(f"{frames[0]}: not a complete PNG")
    out = encode_video(args.frames_dir, args.audio, args.out, args.fps, size)
    print(f"wrote {out}")
    return 0


COMMANDS = {"batch": cmd_batch, "encode": cmd_encode}
