# SPDX-License-Identifier: GPL-3.0-or-later
"""``paksatalker script``: a brief -> a marked-up script written by an LLM (see docs/llm.md).

    paksatalker script --brief "60 seconds on our refund policy, friendly" \\
        --llm openai:http://127.0.0.1:8000/v1 --model Qwen/Qwen2.5-7B-Instruct --out script.txt
    paksatalker script --brief-file brief.txt --llm qwen-local:~/models/Qwen2.5-1.5B-Instruct
    paksatalker script --batch briefs.txt --out-dir scripts/ --llm ...  (blank-line separated)

``render`` and ``generate`` take ``--brief``/``--brief-file`` and ``--llm`` too; the script is
then written inside the pipeline. ``--llm`` defaults to ``$PAKSATALKER_LLM``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from ..core.errors import InputError, OutputError
from ..core.settings import ScriptSettings


def _glossary(s: str) -> tuple[str, str]:
    term, _, meaning = s.partition("=")
    if not term.strip():
        raise argparse.ArgumentTypeError(f"{s!r}: write TERM or TERM=MEANING")
    return term.strip(), meaning.strip()


def add_brief_sources(group) -> None:
    """``--brief``/``--brief-file`` in a (mutually exclusive) text-source group."""
    group.add_argument("--brief", help="what the avatar should say, for the LLM to write "
                                       "(needs --llm), e.g. '60 s on our refund policy, friendly'")
    group.add_argument("--brief-file", type=Path, help="read the brief from a UTF-8 text file")


def add_llm_options(p: argparse.ArgumentParser, *, full: bool = False) -> None:
    """LLM options; ``full`` (the ``script`` command) adds short aliases and expert options.

    Every destination is ``llm_<ScriptSettings field>``, so nothing clashes with the other
    options of ``render``/``generate`` (e.g. the light's ``--temperature``).
    """
    g = p.add_argument_group("LLM script writer (docs/llm.md)")
    d = ScriptSettings()

    def add(short: str | None, long: str, field: str, **kw) -> None:
        names = [short, long] if (full and short) else [long]
        if "choices" not in kw and kw.get("action") not in ("store_true", "store_false"):
            kw.setdefault("metavar", field.upper())
        default = None if kw.get("action") == "append" else getattr(d, field)
        g.add_argument(*names, dest=f"llm_{field}", default=default, **kw)

    g.add_argument("--llm", default=None, metavar="qwen-local:PATH|openai:URL",
                   help="the model: a local folder/HF repo id, or a chat-completions server "
                        "(default $PAKSATALKER_LLM)")
    add("--model", "--llm-model", "model", help="server model name (openai), e.g. qwen2.5:7b")
    add(None, "--api-key-env", "api_key_env", metavar="VAR",
        help="NAME of the environment variable holding the API key")
    add("--duration", "--script-duration", "duration", type=float,
        help="target seconds of speech")
    add(None, "--persona", "persona_name", help="the speaker's name")
    add("--role", "--persona-role", "persona_role", help="e.g. support agent")
    add("--tone", "--persona-tone", "tone", help="e.g. friendly, calm, upbeat")
    add("--formality", "--script-formality", "formality",
        choices=("casual", "neutral", "formal"))
    add(None, "--on-failure", "on_failure", choices=("error", "brief"),
        help="when no valid script comes back: fail, or speak the brief as written")
    add("--block", "--block-term", "block_terms", action="append", metavar="TERM",
        help="block briefs/scripts containing TERM (repeatable)")
    if not full:
        return
    add(None, "--language", "language", help="script language id (default: the brief's)")
    add(None, "--words-per-minute", "words_per_minute", type=int)
    add(None, "--glossary", "glossary", action="append", type=_glossary,
        metavar="TERM[=MEANING]", help="a term to use exactly (repeatable)")
    add(None, "--temperature", "temperature", type=float)
    add(None, "--max-tokens", "max_tokens", type=int)
    add(None, "--attempts", "attempts", type=int,
        help="generations tried, each fed the previous validation error")
    add(None, "--timeout", "timeout", type=float, help="seconds per server request")
    add(None, "--retries", "retries", type=int)
    add(None, "--stream", "stream", action="store_true", help="show the reply as it arrives")
    add(None, "--device", "device", help="qwen-local: auto, cpu or cuda")
    add(None, "--dtype", "dtype", help="qwen-local: auto, float32, bfloat16, float16")
    add(None, "--quantization", "quantization", choices=("none", "4bit", "8bit"),
        help="qwen-local: 4bit or 8bit through bitsandbytes (CUDA only)")
    add(None, "--no-cache", "cache", action="store_false", help="always ask the model")
    add(None, "--seed", "seed", type=int)
    g.add_argument("--session", type=Path,
                   help="conversation file: follow-ups ('make it shorter') see earlier turns")


def add_parser(sub) -> None:
    p = sub.add_parser("script", help="a brief -> a marked-up script written by an LLM")
    src = p.add_mutually_exclusive_group(required=True)
    add_brief_sources(src)
    src.add_argument("--batch", type=Path,
                     help="many briefs in one UTF-8 file, separated by blank lines")
    p.add_argument("--out", type=Path, help="write the script here (default: print it)")
    p.add_argument("--out-dir", type=Path, help="--batch: folder for script-NNN.txt files")
    add_llm_options(p, full=True)


# --------------------------------------------------------------------------- argument -> settings
def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what} file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read it as UTF-8 text ({e})") from None


def has_brief(args) -> bool:
    return getattr(args, "brief", None) is not None or getattr(args, "brief_file", None) is not None


def read_brief(args) -> str:
    return args.brief if args.brief is not None else _read(args.brief_file, "brief")


def script_settings(args) -> tuple[str, ScriptSettings]:
    """(script backend name, ScriptSettings) from parsed arguments; InputError when unusable."""
    from ..core.script.llm import parse_llm_spec

    spec = args.llm or os.environ.get("PAKSATALKER_LLM")
    if not spec:
        raise InputError("a brief needs an LLM: pass --llm qwen-local:MODEL_FOLDER or "
                         "--llm openai:BASE_URL (or set PAKSATALKER_LLM)")
    kind, endpoint = parse_llm_spec(spec)
    fields = set(ScriptSettings.__dataclass_fields__)
    kw = {k[4:]: v for k, v in vars(args).items()
          if k.startswith("llm_") and k[4:] in fields and v is not None}
    for key in ("block_terms", "glossary"):
        kw[key] = tuple(kw.get(key) or ())
    if kw.get("quantization") == "none":
        kw["quantization"] = ""
    s = ScriptSettings(**{**kw, "endpoint": endpoint})
    return kind, s


def generate_options(args) -> dict:
    """GenerateSettings keywords for ``render``/``generate``: an LLM backend for a brief, or for
    ``--text`` when ``--llm`` is given explicitly (the text is then a draft to rewrite)."""
    if not has_brief(args) and not args.llm:
        return {}
    kind, s = script_settings(args)
    return {"script_backend": kind, "script": s}


# --------------------------------------------------------------------------- the command
def _report(result) -> None:
    words = len(result.script.text.split())
    print(f"script: {len(result.script.segments)} segment(s), {words} words; language "
          f"{result.language} (brief: {result.input_language}, script reads as "
          f"{result.script_language or '?'}); voice {result.voice or '-'}; "
          f"attempts {result.attempts}{' (cached)' if result.cached else ''}", file=sys.stderr)
    if result.repairs:
        print(f"repaired: {'; '.join(result.repairs)}", file=sys.stderr)
    if result.fallback:
        print(f"warning: FALLBACK: {result.fallback}", file=sys.stderr)


def _write(path: Path, text: str) -> None:
    from ..core.script.llm_cache import atomic_write_text

    if not path.parent.is_dir():
        raise OutputError(f"{path.parent}: no such folder for the script")
    atomic_write_text(path, text + "\n")


def run(args) -> int:
    from ..core.script import llm
    from ..core.script.conversation import Conversation
    from ..core.script.llm import ScriptWriter, make_model

    llm.log.setLevel(logging.ERROR)  # _report() prints the fallback warning itself
    kind, settings = script_settings(args)
    if args.batch is not None and args.out_dir is None:
        raise InputError("--batch needs --out-dir for the scripts")
    if args.out is not None and not args.out.parent.is_dir():  # fail before the model runs
        raise OutputError(f"{args.out.parent}: no such folder for the script")
    model = make_model(kind, settings)
    on_token = None
    if settings.stream:
        on_token = lambda piece: (sys.stderr.write(piece), sys.stderr.flush())
    writer = ScriptWriter(model, settings, on_token=on_token)
    language = settings.language or None
    if args.batch is not None:
        return _run_batch(writer, args, language)
    brief = read_brief(args)
    if args.session is not None:
        result = Conversation(model, args.session, max_tokens=settings.max_tokens
                              ).write_script(brief, writer, language)
    else:
        result = writer.write(brief, language)
    if on_token is not None:
        print(file=sys.stderr)
    _report(result)
    if args.out is not None:
        _write(args.out, result.markup)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        print(result.markup)
    return 0


def _run_batch(writer, args, language) -> int:
    text = _read(args.batch, "batch")
    briefs = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    if not briefs:
        raise InputError(f"{args.batch}: no briefs (separate them by blank lines)")
    if not args.out_dir.is_dir():
        raise OutputError(f"{args.out_dir}: no such folder")
    from ..core.script.llm_cache import write_batch

    failed = 0
    for i, (r, path) in enumerate(write_batch(writer, briefs, args.out_dir, language), 1):
        if path is None:
            failed += 1
            print(f"brief {i}: error: {r.error}", file=sys.stderr)
            continue
        note = " (FALLBACK: the brief as written)" if r.fallback else ""
        print(f"brief {i}: wrote {path}{note}", file=sys.stderr)
    print(f"{len(briefs) - failed} of {len(briefs)} brief(s) written", file=sys.stderr)
    return 0 if not failed else 1
