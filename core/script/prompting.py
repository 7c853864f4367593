# SPDX-License-Identifier: GPL-3.0-or-later
"""Prompt assembly for the LLM script writer: persona, formality, length, language, glossary.

The prompt is assembled from sections; a section without content is left out, and few-shot
examples are dropped (last first) when they would not fit the model's context. The reply format
is the JSON schema of :mod:`.structured`.

Length: ``target_words = words_per_minute * seconds / 60`` (150 wpm is an unhurried presenter;
eSpeak's default rate is 165).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import InputError
from ..names import EMOTIONS

Message = dict[str, str]
"""One chat message: ``{"role": "system"|"user"|"assistant", "content": str}``."""

GESTURES: tuple[str, ...] = (
    "nod", "shake", "tilt", "wave", "point left", "point right", "point forward", "you", "self",
    "open", "shrug", "think", "count 3", "big", "small", "together",
)
"""Gesture cues suggested to the model: a kind of core.body.lexicon, then arguments (the body
stage reads ``*point left*`` as kind "point" with argument "left"). Other short names pass as
cues too."""

FORMALITY = {
    "casual": "Casual and warm: contractions, short sentences, direct 'you'.",
    "neutral": "Clear and natural: plain words, varied sentence length.",
    "formal": "Formal and precise: no slang, no contractions, complete sentences.",
}

LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "sv": "Swedish", "pl": "Polish", "tr": "Turkish",
    "ru": "Russian", "uk": "Ukrainian", "el": "Greek", "ar": "Arabic", "he": "Hebrew",
    "hi": "Hindi", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "th": "Thai",
    "id": "Indonesian", "vi": "Vietnamese", "fa": "Persian",
}


@dataclass(frozen=True)
class Persona:
    """Who speaks: shown to the model as the system persona."""

    name: str = ""
    role: str = "presenter"
    tone: str = "friendly"


@dataclass(frozen=True)
class Example:
    """A few-shot pair: a brief and the JSON reply we want for it."""

    brief: str
    reply: str


@dataclass(frozen=True)
class PromptSpec:
    """Everything that shapes the prompt. ``duration`` is seconds of speech."""

    persona: Persona = field(default_factory=Persona)
    formality: str = "neutral"
    duration: float = 30.0
    words_per_minute: int = 150
    language: str = "en"
    glossary: tuple[tuple[str, str], ...] = ()
    examples: tuple[Example, ...] | None = None
    """None: the built-in examples; () for none."""
    notes: str = ""
    """Free extra instructions appended to the system prompt."""

    def __post_init__(self) -> None:
        if self.formality not in FORMALITY:
            raise InputError(f"formality must be one of {', '.join(FORMALITY)}")
        if self.duration <= 0 or self.words_per_minute <= 0:
            raise InputError("duration and words per minute must be > 0")


def target_words(duration: float, words_per_minute: int) -> int:
    """Words that fill ``duration`` seconds at ``words_per_minute`` (at least 5)."""
    return max(5, round(words_per_minute * duration / 60.0))


def language_name(language: str) -> str:
    base = language.lower().replace("_", "-").split("-")[0]
    return LANGUAGE_NAMES.get(base, language)


BUILTIN_EXAMPLES: tuple[Example, ...] = (
    Example(
        "15 seconds welcoming new customers to a bakery app, cheerful",
        json.dumps({"segments": [
            {"text": "Hi, and welcome to Crumb!", "emotion": "happy", "intensity": 0.8,
             "gestures": ["wave"], "pause_after": 0.3},
            {"text": "Order fresh bread before seven and pick it up warm on your way to work.",
             "emotion": "neutral", "intensity": 0.6, "gestures": ["open"],
             "pause_after": 0.0},
        ]}, ensure_ascii=False),
    ),
    Example(
        "10 seconds apologising for a delayed delivery, sincere",
        json.dumps({"segments": [
            {"text": "We are sorry that your order arrived late.", "emotion": "sad",
             "intensity": 0.5, "gestures": ["self"], "pause_after": 0.4},
            {"text": "Your next delivery is free, and it will be on time.",
             "emotion": "happy", "intensity": 0.4, "gestures": ["nod"], "pause_after": 0.0},
        ]}, ensure_ascii=False),
    ),
)


def _system_prompt(spec: PromptSpec) -> str:
    p = spec.persona
    who = f"You are {p.name}, a {p.role}" if p.name else f"You are a {p.role}"
    words = target_words(spec.duration, spec.words_per_minute)
    sections = [
        f"{who} who speaks on camera as a 3D avatar. Tone: {p.tone}.",
        f"Style: {FORMALITY[spec.formality]}",
        f"Write a spoken script of about {words} words (about {spec.duration:g} seconds at "
        f"{spec.words_per_minute} words per minute) in {language_name(spec.language)}.",
        "Write only words to be spoken: no stage directions, headings, lists, emoji or URLs. "
        "If the user gives a draft rather than a brief, keep its meaning and its wording where "
        "it already works.",
    ]
    if spec.glossary:
        terms = "\n".join(f"- {t}: {d}" if d else f"- {t}" for t, d in spec.glossary)
        sections.append(f"Use these terms exactly as written:\n{terms}")
    sections.append(
        "Reply with JSON only, no prose and no code fence: "
        '{"segments": [{"text": str, "emotion": one of ' + ", ".join(EMOTIONS)
        + ', "intensity": 0..1, "gestures": [names], "pause_after": seconds 0..3}]}. '
        'Add "language": "<id>" to a segment only when it is in another language. '
        "Start a new segment when the emotion changes. Gestures you may use: "
        + ", ".join(GESTURES) + "."
    )
    sections.append(
        'If you must refuse, reply {"refusal": "<one-sentence reason>"} instead.'
    )
    if spec.notes.strip():
        sections.append(spec.notes.strip())
    return "\n\n".join(sections)


def build_messages(brief: str, spec: PromptSpec,
                   count_tokens: Callable[[Sequence[Message]], int] | None = None,
                   budget: int | None = None, history: Sequence[Message] = ()) -> list[Message]:
    """Assemble the chat for ``brief``: system, few-shot pairs, ``history``, then the brief.

    When ``count_tokens`` and ``budget`` (tokens available for the prompt) are given, few-shot
    examples are dropped from the end until the prompt fits. Raises InputError for an empty
    brief or when even the bare prompt exceeds the budget.
    """
    if not brief or not brief.strip():
        raise InputError("the brief is empty: say what the avatar should talk about")
    examples = list(BUILTIN_EXAMPLES if spec.examples is None else spec.examples)
    system = {"role": "system", "content": _system_prompt(spec)}
    tail = [*history, {"role": "user", "content": brief.strip()}]
    while True:
        shots: list[Message] = []
        for ex in examples:
            shots += [{"role": "user", "content": ex.brief},
                      {"role": "assistant", "content": ex.reply}]
        messages = [system, *shots, *tail]
        if count_tokens is None or budget is None or count_tokens(messages) <= budget:
            return messages
        if not examples:
            raise InputError(
                f"the prompt needs {count_tokens(messages)} tokens but only {budget} fit the "
                "model's context: shorten the brief or raise max tokens/context"
            )
        examples.pop()


def feedback_message(error: str) -> Message:
    """The user turn that asks the model to fix an invalid reply."""
    return {"role": "user", "content": (
        f"Your reply was not valid: {error}. Reply again with only the JSON object "
        '{"segments": [...]} following the rules.')}
