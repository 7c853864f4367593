# SPDX-License-Identifier: GPL-3.0-or-later
"""``paksatalker export``: a Performance -> BVH, SMPL-X npz, FBX, glTF binary or Live Link CSV.

    paksatalker export --performance perf.npz --format bvh|npz|fbx|glb|csv --out FILE [--fps N]

BVH and npz need no Blender; FBX and GLB build the bundled avatar in Blender (pip ``bpy``) and
use Blender's exporters; CSV is the face as Live Link Face ARKit curves. Also home of the body
flags shared by ``render`` and ``generate`` (:func:`add_body_options`, :func:`body_settings`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import BackendError, InputError
from ..core.settings import BODY_STYLES, HANDEDNESS, BodySettings

FORMATS = ("bvh", "npz", "fbx", "glb", "csv")
_SUFFIX = {"bvh": ".bvh", "npz": ".npz", "fbx": ".fbx", "glb": ".glb", "csv": ".csv"}


def add_parser(sub) -> None:
    e = sub.add_parser("export", help="a Performance -> BVH, SMPL-X npz, FBX, GLB or ARKit CSV")
    e.add_argument("--performance", type=Path, required=True,
                   help="Performance .npz (ours, or EMAGE/BEAT2 SMPL-X motion)")
    e.add_argument("--audio", type=Path, help="its WAV (default: the one named in it or beside)")
    e.add_argument("--format", choices=FORMATS,
                   help="output format (default: from the --out extension)")
    e.add_argument("--out", type=Path, required=True, help="output file")
    e.add_argument("--fps", type=float, help="resample to this frame rate (default: as stored)")


def _format(args) -> str:
    if args.format:
        return args.format
    fmt = args.out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(f"{args.out}: say --format ({', '.join(FORMATS)}); the extension "
                         "does not tell")
    return fmt


def run(args) -> int:
    from ..core import performance

    fmt = _format(args)
    out: Path = args.out
    if out.suffix.lower() != _SUFFIX[fmt]:
        raise InputError(f"{out}: a {fmt} export must end in {_SUFFIX[fmt]}")
    performance.check_output_dir(out)
    if args.fps is not None and not 1.0 <= args.fps <= 240.0:
        raise InputError(f"--fps must be 1..240, got {args.fps}")
    perf = performance.load(args.performance, audio_path=args.audio, fps=args.fps)
    if fmt == "bvh":
        from ..core.body.bvh import write_bvh

        write_bvh(perf.body, out)
    elif fmt == "npz":
        from ..core.body.smplx_npz import write_smplx_npz

        write_smplx_npz(perf.body, out, expressions=perf.face.expressions)
    elif fmt == "csv":
        try:
            from ..core.face.io import write_livelink_csv
        except ImportError:
            raise BackendError("CSV export needs core.face.io (Live Link Face I/O)") from None
        write_livelink_csv(perf.face, out)
    else:
        from ..rigs.export import export_performance  # imports bpy

        export_performance(perf, out, fmt)
    print(f"wrote {out} ({perf.frames} frames at {perf.fps:g} fps)")
    return 0


# --------------------------------------------------------------------------- body flags
def _range(lo: float, hi: float):
    def parse(s: str) -> float:
        try:
            v = float(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{s!r} is not a number") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{s!r} must be in {lo:g}..{hi:g}")
        return v

    return parse


def add_body_options(p: argparse.ArgumentParser) -> None:
    """Body flags for ``render`` and ``generate`` (``--energy`` and ``--seed`` live elsewhere)."""
    b = p.add_argument_group("body (docs/body.md)")
    b.add_argument("--body-backend", default=BodySettings.backend,
                   help="procedural (default) or emage (your PantoMatrix checkout)")
    b.add_argument("--style", choices=BODY_STYLES, default=BodySettings.style,
                   help="gesture style preset")
    b.add_argument("--gesture-rate", type=_range(0.0, 3.0), default=BodySettings.gesture_rate,
                   help="multiplier on how often words get a gesture (0..3)")
    b.add_argument("--amplitude", type=_range(0.0, 2.0), default=BodySettings.amplitude,
                   help="multiplier on gesture size (0..2)")
    b.add_argument("--handedness", choices=HANDEDNESS, default=BodySettings.handedness)
    b.add_argument("--emage-dir", default="", metavar="DIR",
                   help="PantoMatrix checkout for --body-backend emage")
    b.add_argument("--emage-python", default="", metavar="PYTHON",
                   help="Python of the environment EMAGE is installed in")


def body_settings(args) -> BodySettings:
    """BodySettings from the flags of :func:`add_body_options` plus ``--seed``/``--energy``."""
    return BodySettings(
        backend=getattr(args, "body_backend", BodySettings.backend), seed=args.seed,
        energy=args.energy, style=getattr(args, "style", BodySettings.style),
        gesture_rate=getattr(args, "gesture_rate", BodySettings.gesture_rate),
        amplitude=getattr(args, "amplitude", BodySettings.amplitude),
        handedness=getattr(args, "handedness", BodySettings.handedness),
        emage_dir=getattr(args, "emage_dir", ""), emage_python=getattr(args, "emage_python", ""))
