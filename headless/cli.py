# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``paksatalker`` command line.

    paksatalker render   --text "Hello!" --out talk.mp4 [--engine eevee|cycles|workbench] ...
    paksatalker generate --text "Hello!" --out perf.npz
    paksatalker generate --audio talk.wav [--text "its transcript"] --out perf.npz
    paksatalker voices   [--backend espeak|kokoro|piper|coqui] [--language de]

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
from . import cmd_batch, cmd_export, cmd_script

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
    src = p.add_mutually_exclusive_group()  # one of them or --audio: checked in main()
    src.add_argument("--text", help="the script, with optional markup ([happy], *nod*, ...)")
    src.add_argument("--script-file", type=Path, help="read the script from a UTF-8 text file")
    cmd_script.add_brief_sources(src)
    audio_help = ("a speech recording (WAV, 8-48 kHz, 1 s to 10 min) to lip-sync: with --text or "
                  "--script-file as its transcript, alone to recognise it (English)")
    if performance:
        src.add_argument("--performance", type=Path,
                         help="render a Performance .npz (ours or EMAGE/BEAT2) instead of text")
        audio_help += ("; with --performance, the WAV for that npz (default: the one named in "
                       "it or beside it)")
    p.add_argument("--audio", type=Path, help=audio_help)
    cmd_script.add_llm_options(p)


def _add_generate_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("speech and motion")
    g.add_argument("--voice", default="en-us", help="voice or language id (see `voices`)")
    g.add_argument("--rate", type=int, default=SpeechSettings.rate, help="words per minute")
    g.add_argument("--pitch", type=int, default=SpeechSettings.pitch, help="0..100")
    g.add_argument("--speech-backend", default=SpeechSettings().backend,
                   help="auto (default: kokoro when installed, else espeak), espeak, kokoro "
                        "(natural, offline), piper or coqui (docs/voices.md)")
    g.add_argument("--voice-model", default="", help="Kokoro/Piper .onnx or Coqui checkpoint")
    g.add_argument("--voice-config", default="", help="Piper .onnx.json or Coqui config.json")
    g.add_argument("--speaker", default="", help="speaker of a multi-speaker Piper/Coqui model")
    g.add_argument("--reference-wav", default="", help="voice to clone (Coqui XTTS v2)")
    g.add_argument("--lufs", type=float, default=SpeechSettings.target_lufs,
                   help="loudness of neural voices in LUFS (0: as synthesised)")
    g.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    g.add_argument("--seed", type=int, default=0, help="seed for blinks, gaze and gestures")
    g.add_argument("--energy", type=_unit, default=BodySettings.energy,
                   help="gesture energy 0..1")
    g.add_argument("--blink-rate", type=float, default=FaceSettings.blink_rate,
                   help="blinks per minute")
    cmd_export.add_body_options(p)
    f = p.add_argument_group("face (sliders; ranges in docs/face.md)")
    for name, hint in FACE_SLIDER_HELP.items():
        f.add_argument(f"--{name.replace('_', '-')}", type=float,
                       default=getattr(FaceSettings, name), help=hint)
    m = p.add_argument_group("face models (your own downloads; see docs/smplx_flame.md)")
    m.add_argument("--flame-model", default="", metavar="NPZ",
                   help="SMPL-X or FLAME .npz: also fit FLAME-100 expressions + jaw")
    m.add_argument("--sadtalker-checkpoint", default="", metavar="PTH",
                   help="SadTalker audio2exp checkpoint: the face comes from the audio "
                        "(needs --bfm-model and --flame-model or --smplx-model)")
    m.add_argument("--bfm-model", default="", metavar="MAT",
                   help="SadTalker's BFM_model_front.mat (BFM -> FLAME conversion)")


# Scene choices (the scenes/ modules import bpy, so they are spelled here; a test checks them).
LIGHTINGS = ("three_point", "soft_studio", "window_daylight", "sunset", "dramatic", "news_desk")
CAMERAS = ("close_up", "medium", "medium_wide", "full_body")
BACKGROUNDS = ("gradient", "solid", "studio_room", "hdri", "sky", "image", "video",
               "blurred_image", "chroma_key", "green_screen", "transparent")
GRADES = ("neutral", "warm", "cool", "teal_orange", "vivid", "vintage", "noir")
LOOKS = ("none", "punchy", "very_high_contrast", "high_contrast", "medium_high_contrast",
         "base_contrast", "medium_low_contrast", "low_contrast", "very_low_contrast")


def _add_scene_options(r: argparse.ArgumentParser) -> None:
    """Render flags for the scene, post and output (docs/rendering.md explains each)."""
    s = r.add_argument_group("scene")
    s.add_argument("--lighting", choices=LIGHTINGS, default="three_point")
    s.add_argument("--intensity", type=float, default=1.0, help="light intensity multiplier")
    s.add_argument("--temperature", type=float, help="key light colour temperature, Kelvin")
    s.add_argument("--softness", type=float, default=1.0, help="light size multiplier")
    s.add_argument("--camera", choices=CAMERAS, default="medium")
    s.add_argument("--aspect", choices=("16:9", "9:16", "1:1"), default=None,
                   help="frame shape (default 16:9, or the one of --resolution)")
    s.add_argument("--fstop", type=float, default=2.8, help="depth-of-field f-stop")
    s.add_argument("--no-dof", action="store_true", help="disable depth of field")
    s.add_argument("--motion-blur", action="store_true", help="180-degree shutter motion blur")
    s.add_argument("--handheld", type=_unit, default=0.0, help="gentle camera drift 0..1")
    s.add_argument("--background", choices=BACKGROUNDS, default="gradient")
    s.add_argument("--background-file", type=Path,
                   help="image / video / green-screen plate / HDRI for --background")
    s.add_argument("--toon", action="store_true", help="cel-shaded materials with outlines")
    p = r.add_argument_group("post")
    p.add_argument("--view", choices=("agx", "filmic", "standard"), default="agx")
    p.add_argument("--look", choices=LOOKS, default="none", help="contrast look of the view")
    p.add_argument("--grade", choices=GRADES, default="neutral", help="colour grade preset")
    p.add_argument("--exposure", type=float, default=0.0, help="stops")
    for name, hint in (("bloom", "glow around highlights"), ("vignette", "dark corners"),
                       ("grain", "film grain"), ("sharpen", "sharpening"),
                       ("chromatic-aberration", "colour fringes at the edges")):
        p.add_argument(f"--{name}", type=_unit, default=0.0, help=f"{hint}, 0..1")
    p.add_argument("--lens-distortion", type=float, default=0.0,
                   help="-1..1: barrel (<0) or pincushion (>0)")
    p.add_argument("--post-denoise", action="store_true",
                   help="compositor denoise (EEVEE/Workbench; Cycles denoises anyway)")
    o = r.add_argument_group("output and speed")
    o.add_argument("--quality", choices=("720p", "1080p", "1440p", "4k"), default="1080p")
    o.add_argument("--layers", action="store_true",
                   help="also write the avatar (RGBA PNG per frame) and background separately")
    o.add_argument("--workers", type=int, default=1,
                   help="render processes sharing the frames (one encode at the end)")
    o.add_argument("--no-fast", action="store_true",
                   help="Cycles: render every frame whole (no cached background, no crop)")


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
    r.add_argument("--resolution", type=_resolution, metavar="WxH",
                   help="frame size (default: from --quality and --aspect)")
    r.add_argument("--samples", type=int, help="render samples (default: engine's fast default)")
    r.add_argument("--frames", type=_frames, metavar="FIRST:LAST",
                   help="render only these frames (1-based, inclusive)")
    r.add_argument("--work-dir", type=Path,
                   help="keep rendered frames here; a re-run resumes from them")
    _add_generate_options(r)
    a = r.add_argument_group("avatar (the bundled MakeHuman human; phenotype values 0..1)")
    for name, hint in PHENOTYPE_HELP.items():
        a.add_argument(f"--{name}", type=_unit, help=hint)
    a.add_argument("--smplx-model", type=Path, metavar="NPZ",
                   help="render on an SMPL-X avatar built from your SMPLX_*.npz instead")
    a.add_argument("--avatar", type=Path, metavar="FILE",
                   help="render on your own avatar (.glb/.gltf/.vrm/.fbx/.blend) instead")
    a.add_argument("--bone-map", type=Path, metavar="TOML",
                   help="bone map for --avatar when its bone names are unusual (docs/avatars.md)")
    a.add_argument("--root", choices=("in_place", "keep"), default="in_place",
                   help="root motion: in place, or keep the path scaled to the avatar's legs")
    _add_scene_options(r)

    g = sub.add_parser("generate", help="text -> Performance .npz + .wav (no Blender needed)")
    _add_text_source(g, performance=False)
    g.add_argument("--out", type=Path, required=True, help="output .npz (a .wav is written beside)")
    _add_generate_options(g)

    v = sub.add_parser("voices", help="list the voices of a speech backend")
    v.add_argument("--backend", default="auto",
                   help="auto (the default speech backend), espeak, kokoro, piper or coqui")
    v.add_argument("--language", help="only voices for this language id prefix, e.g. en")
    v.add_argument("--clear-cache", action="store_true",
                   help="delete the cache of synthesised speech, then list")
    cmd_batch.add_parsers(sub)
    cmd_script.add_parser(sub)
    cmd_export.add_parser(sub)
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
    if cmd_script.has_brief(args):
        return cmd_script.read_brief(args)
    if args.script_file is None:
        return args.text
    try:
        return args.script_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{args.script_file}: no such script file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{args.script_file}: cannot read it as UTF-8 text ({e})") from None


def _face_models(args) -> dict:
    """FaceSettings model options: --flame-model (defaulting to --smplx-model), SadTalker."""
    flame = getattr(args, "flame_model", "") or str(getattr(args, "smplx_model", None) or "")
    sad = getattr(args, "sadtalker_checkpoint", "")
    out = {"flame_model": flame, "sadtalker_checkpoint": sad,
           "bfm_model": getattr(args, "bfm_model", "")}
    if sad:
        out["backend"] = "sadtalker"
    return out


FACE_SLIDER_HELP = {
    "articulation": "mouth shape size 0..2 (0.5 mumbles, 1.2 over-articulates)",
    "emotion_strength": "scale of the script's emotions 0..2",
    "emotion_ease": "seconds an emotion change takes, 0.2..3",
    "gaze_at_camera": "share of the time the eyes rest on the camera, 0..1",
    "saccades": "small eye jumps while fixating, 0..2",
    "micro_expressions": "brief involuntary expressions, 0..2",
    "breathing": "breathing in the face (nostrils), 0..2",
    "head_motion": "prosody-driven head motion, 0..2",
    "asymmetry": "left/right differences, 0..2",
}


def _face_sliders(args) -> dict:
    """FaceSettings slider values from --articulation, --gaze-at-camera, ..."""
    return {name: getattr(args, name) for name in FACE_SLIDER_HELP if hasattr(args, name)}


def _generate_settings(args) -> GenerateSettings:
    return GenerateSettings(
        fps=args.fps,
        speech=SpeechSettings(backend=args.speech_backend, voice=args.voice, rate=args.rate,
                              pitch=args.pitch, model=args.voice_model, config=args.voice_config,
                              speaker=args.speaker, reference_wav=args.reference_wav,
                              target_lufs=args.lufs),
        face=FaceSettings(seed=args.seed, blink_rate=args.blink_rate, **_face_models(args),
                          **_face_sliders(args)),
        body=cmd_export.body_settings(args),
        **cmd_script.generate_options(args),
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
        if args.audio is not None:
            steps = pipeline.generate_from_audio_steps(args.audio, text, _generate_settings(args))
            perf = pipeline.run(steps, bars.step)
        else:
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

    if args.clear_cache:
        from ..core.speech.cache import clear

        print(f"removed {clear()} cached speech pieces")
    voices = list_voices(args.backend)
    if args.language:
        voices = [v for v in voices if any(lang.startswith(args.language) for lang in v.languages)]
    for v in voices:
        print(f"{v.identifier:<28} {','.join(v.languages):<20} {v.gender:<7} {v.name}")
    if not voices and not args.language:
        raise InputError(f"no {args.backend} voices installed; docs/voices.md says where to get "
                         "them")
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
COMMANDS.update(cmd_batch.COMMANDS)
COMMANDS["script"] = cmd_script.run
COMMANDS["export"] = cmd_export.run


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # --workers re-runs it per shard
    if args.command in ("render", "generate") and args.text is None and not (
            args.script_file or args.audio or getattr(args, "performance", None)
            or cmd_script.has_brief(args)):
        parser.error("one of --text, --script-file, --brief, --audio or --performance is required")
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
