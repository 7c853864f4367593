# SPDX-License-Identifier: GPL-3.0-or-later
"""Structured LLM output: JSON segments, a schema, a validator, repair, and markup.

The model answers ``{"segments": [{"text", "emotion", "intensity", "gestures", "pause_after",
"language"?}]}`` (:data:`SCHEMA`). :func:`parse_reply` extracts the JSON from whatever the model
wrote, repairs common slips (code fences, prose around it, trailing commas, single or curly
quotes, Python literals, unquoted keys, a truncated tail), normalises values (emotion synonyms,
intensity/pause clamped to their ranges) and validates the result with a small hand-written
JSON-Schema subset validator. Anything it cannot make valid raises :class:`InvalidReply` whose
message is fed back to the model. :func:`to_markup` turns valid segments into the markup of
:mod:`.markup` (plain text + ``[emotion]``, ``*gesture*``, ``[pause]``, ``[lang]``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..errors import PaksaError
from ..names import EMOTIONS

MAX_PAUSE = 3.0
"""Longest pause the model may ask for, seconds."""

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["segments"],
    "properties": {
        "segments": {
            "type": "array", "minItems": 1, "maxItems": 200,
            "items": {
                "type": "object",
                "required": ["text", "emotion", "intensity", "gestures", "pause_after"],
                "properties": {
                    "text": {"type": "string", "minLength": 1, "maxLength": 2000},
                    "emotion": {"enum": list(EMOTIONS)},
                    "intensity": {"type": "number", "minimum": 0.0, "maximum": 1.0},
                    "gestures": {"type": "array", "maxItems": 8,
                                 "items": {"type": "string",
                                           "pattern": r"^[a-z][a-z0-9 ]{0,39}$"}},
                    "pause_after": {"type": "number", "minimum": 0.0, "maximum": MAX_PAUSE},
                    "language": {"type": "string", "pattern": r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$"},
                },
            },
        },
    },
}

EMOTION_SYNONYMS = {
    "joyful": "happy", "cheerful": "happy", "excited": "happy", "enthusiastic": "happy",
    "friendly": "happy", "warm": "happy", "glad": "happy", "positive": "happy",
    "calm": "neutral", "serious": "neutral", "informative": "neutral", "professional": "neutral",
    "upset": "sad", "sorry": "sad", "apologetic": "sad", "sympathetic": "sad", "unhappy": "sad",
    "mad": "angry", "annoyed": "angry", "frustrated": "angry",
    "shocked": "surprised", "amazed": "surprised", "astonished": "surprised",
    "afraid": "fearful", "scared": "fearful", "worried": "fearful", "anxious": "fearful",
    "disgust": "disgusted", "fear": "fearful", "surprise": "surprised", "anger": "angry",
    "sadness": "sad", "joy": "happy", "happiness": "happy",
}


class InvalidReply(PaksaError):
    """The model's reply could not be turned into valid segments (message: why)."""


@dataclass(frozen=True)
class Refusal:
    """The model declined (``{"refusal": reason}``)."""

    reason: str


@dataclass
class Parsed:
    """Valid segments (plain dicts following :data:`SCHEMA`) and the repairs that were needed."""

    segments: list[dict[str, Any]]
    repairs: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- validation
_TYPES = {"object": dict, "array": list, "string": str, "number": (int, float)}


def validate(value: Any, schema: dict[str, Any] = SCHEMA, path: str = "$") -> list[str]:
    """Errors of ``value`` against ``schema`` (a JSON-Schema subset), as ``path: problem``."""
    errors: list[str] = []
    t = schema.get("type")
    if t and (not isinstance(value, _TYPES[t]) or isinstance(value, bool)):
        return [f"{path}: expected {t}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {', '.join(map(str, schema['enum']))}")
    if t == "number":
        lo, hi = schema.get("minimum", value), schema.get("maximum", value)
        if value != value or not lo <= value <= hi:
            errors.append(f"{path}: {value} outside {lo}..{hi}")
    if t == "string":
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
            errors.append(f"{path}: length {len(value)} out of range")
        if "pattern" in schema and not re.match(schema["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if t == "array":
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            errors.append(f"{path}: {len(value)} items, allowed "
                          f"{schema.get('minItems', 0)}..{schema.get('maxItems', 'any')}")
        for i, item in enumerate(value):
            errors += validate(item, schema.get("items", {}), f"{path}[{i}]")
    if t == "object":
        for key in schema.get("required", ()):
            if key not in value:
                errors.append(f"{path}: missing {key!r}")
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                errors += validate(item, props[key], f"{path}.{key}")
    return errors


# --------------------------------------------------------------------------- extraction/repair
def _balanced_end(text: str, start: int) -> int | None:
    """Index after the bracket closing ``text[start]``, or None when it never closes."""
    depth, in_str, esc, quote = 0, False, False, ""
    for i in range(start, len(text)):
        c = text[i]
        if in_str:
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == quote:
                in_str = False
        elif c in "\"'":
            in_str, quote = True, c
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def extract_json(text: str) -> tuple[str, list[str]]:
    """The JSON part of a reply (fence or first ``{``/``[`` to its match) and notes on what was cut.

    Raises InvalidReply when there is no JSON object at all.
    """
    notes: list[str] = []
    text = re.sub(r"<think>.*?</think>", "", text, flags=re.DOTALL)
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, flags=re.DOTALL)
    if fence:
        text = fence.group(1)
        notes.append("removed a code fence")
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        raise InvalidReply("no JSON object found in the reply")
    start = min(starts)
    end = _balanced_end(text, start)
    if end is None:
        notes.append("closed a truncated JSON tail")
        return text[start:], notes
    if text[:start].strip() or text[end:].strip():
        notes.append("dropped text around the JSON")
    return text[start:end], notes


def _close_open(text: str) -> str:
    """Close an unterminated string and brackets of a truncated JSON text."""
    stack, in_str, esc = [], False, False
    for c in text:
        if in_str:
            esc = (c == "\\") and not esc
            if c == '"' and not esc:
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "{[":
            stack.append("}" if c == "{" else "]")
        elif c in "}]" and stack:
            stack.pop()
    out = text + ('"' if in_str else "")
    out = re.sub(r",\s*$", "", out)
    return out + "".join(reversed(stack))


_FIXES: tuple[tuple[str, re.Pattern[str], str | None, bool], ...] = (
    # (note, pattern, replacement (None: Python literal), only outside "..." strings)
    ("replaced curly quotes", re.compile(r"[\u201c\u201d\u201e\u201f]"), '"', False),
    ("removed comments", re.compile(r"(?m)^\s*//.*$"), "", False),
    ("turned single-quoted strings into JSON strings",
     re.compile(r"(?<=[\[{,:])(\s*)'((?:[^'\\]|\\.)*)'(?=\s*[,:}\]])"), r'\1"\2"', False),
    ("quoted bare keys", re.compile(r"(?<=[{,])(\s*)([A-Za-z_][A-Za-z0-9_]*)(\s*):"),
     r'\1"\2"\3:', True),
    ("replaced Python literals", re.compile(r"(?<=[:\[,\s])(True|False|None)(?=\s*[,}\]])"),
     None, True),
    ("removed trailing commas", re.compile(r",(\s*[}\]])"), r"\1", True),
)
_PY = {"True": "true", "False": "false", "None": "null"}
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _outside_strings(text: str, fix) -> str:
    """Apply ``fix`` to the parts of ``text`` that are not double-quoted JSON strings."""
    out, pos = [], 0
    for m in _JSON_STRING.finditer(text):
        out += [fix(text[pos:m.start()]), m.group(0)]
        pos = m.end()
    return "".join(out) + fix(text[pos:])


def loads_lenient(text: str) -> tuple[Any, list[str]]:
    """``json.loads`` with the repairs of :data:`_FIXES`, applied only when needed."""
    try:
        return json.loads(text, strict=False), []
    except json.JSONDecodeError:
        pass
    notes = []
    for note, pattern, repl, outside in _FIXES:
        sub = (lambda m: _PY[m.group(1)]) if repl is None else repl
        fix = lambda part, pattern=pattern, sub=sub: pattern.sub(sub, part)
        fixed = _outside_strings(text, fix) if outside else fix(text)
        if fixed != text:
            notes.append(note)
            text = fixed
    try:
        return json.loads(text, strict=False), notes
    except json.JSONDecodeError as e:
        first = e
    try:
        return json.loads(_close_open(text), strict=False), notes + ["closed open brackets"]
    except json.JSONDecodeError:
        raise InvalidReply(f"the JSON does not parse ({first.msg} at character {first.pos})"
                           ) from None


# --------------------------------------------------------------------------- normalisation
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]")


def _clean_text(text: str) -> str:
    text = _CTRL.sub("", unicodedata.normalize("NFC", text))
    text = re.sub(r"\[[^\]]*\]|[\[\]]", " ", text)  # markup tags are ours to write
    if text.count("*") % 2:
        text = text.replace("*", "")
    return " ".join(text.split())


def _number(value: Any, lo: float, hi: float, name: str, notes: list[str]) -> Any:
    if isinstance(value, str):
        try:
            value = float(value.strip().rstrip("s%"))
        except ValueError:
            return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        if not lo <= value <= hi:
            notes.append(f"clamped {name} {value:g} to {lo:g}..{hi:g}")
            value = min(max(float(value), lo), hi)
        return float(value)
    return value


def normalise(obj: Any) -> tuple[Any, list[str]]:
    """Fix what can be fixed without guessing content: shapes, synonyms, ranges, stray markup."""
    notes: list[str] = []
    if isinstance(obj, list):
        obj = {"segments": obj}
        notes.append("wrapped a bare list as segments")
    if not isinstance(obj, dict) or not isinstance(obj.get("segments"), list):
        return obj, notes
    out = []
    for seg in obj["segments"]:
        if isinstance(seg, str):
            seg = {"text": seg}
        if not isinstance(seg, dict):
            out.append(seg)
            continue
        seg = dict(seg)
        for key, default in (("emotion", "neutral"), ("intensity", 0.7), ("gestures", []),
                             ("pause_after", 0.0)):
            seg.setdefault(key, default)
        if isinstance(seg.get("text"), str):
            seg["text"] = _clean_text(seg["text"])
        emo = seg["emotion"]
        if isinstance(emo, str):
            low = emo.strip().lower()
            seg["emotion"] = EMOTION_SYNONYMS.get(low, low)
            if seg["emotion"] not in EMOTIONS:
                notes.append(f"unknown emotion {emo!r} became neutral")
                seg["emotion"] = "neutral"
        seg["intensity"] = _number(seg["intensity"], 0.0, 1.0, "intensity", notes)
        seg["pause_after"] = _number(seg["pause_after"], 0.0, MAX_PAUSE, "pause", notes)
        gestures = seg["gestures"]
        if isinstance(gestures, str):
            gestures = [gestures]
        if isinstance(gestures, list):
            gestures = [" ".join(re.sub(r"[^a-z0-9 ]", " ", g.lower()).split())[:40]
                        for g in gestures if isinstance(g, str)]
            seg["gestures"] = [g for g in gestures if g][:8]
        if isinstance(seg.get("language"), str):
            seg["language"] = seg["language"].strip().lower().replace("_", "-")
        out.append(seg)
    return {**obj, "segments": out}, notes


def parse_reply(reply: str) -> Parsed | Refusal:
    """Segments from a model reply, repaired and validated; raises :class:`InvalidReply`."""
    if not reply or not reply.strip():
        raise InvalidReply("the reply is empty")
    text, notes = extract_json(reply)
    obj, more = loads_lenient(text)
    notes += more
    if isinstance(obj, dict) and isinstance(obj.get("refusal"), str) and "segments" not in obj:
        return Refusal(obj["refusal"].strip() or "the model refused")
    obj, more = normalise(obj)
    notes += more
    errors = validate(obj)
    if isinstance(obj, dict) and isinstance(obj.get("segments"), list):
        for i, seg in enumerate(obj["segments"]):
            text_i = seg.get("text") if isinstance(seg, dict) else None
            if isinstance(text_i, str) and not any(c.isalpha() for c in text_i):
                errors.append(f"$.segments[{i}].text: has no words")
    if errors:
        more_n = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise InvalidReply("; ".join(errors[:3]) + more_n)
    return Parsed(obj["segments"], notes)


# --------------------------------------------------------------------------- markup
def to_markup(segments: list[dict[str, Any]], language: str,
              split_language=None) -> str:
    """Markup text for valid ``segments`` (see :mod:`.markup`), ready for ``markup.parse``.

    ``split_language(text, base) -> [(language, chunk), ...]`` (e.g. :func:`.langid.split_runs`)
    tags code-switched sentences of segments that name no language themselves.
    """
    parts: list[str] = []
    current = language
    for seg in segments:
        base = seg.get("language") or language
        runs = [(base, seg["text"])]
        if split_language is not None and not seg.get("language"):
            runs = split_language(seg["text"], base)
        first = True
        for lang, chunk in runs:
            if lang != current:
                parts.append(f"[lang {lang}]")
                current = lang
            if first:
                parts.append(f"[{seg['emotion']} {seg['intensity']:.2g}]")
                parts += [f"*{g}*" for g in seg["gestures"]]
                first = False
            parts.append(chunk)
        if seg["pause_after"] > 0:
            parts.append(f"[pause {seg['pause_after']:.2g}]")
    return " ".join(parts)
