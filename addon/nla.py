# SPDX-License-Identifier: GPL-3.0-or-later
"""Native, editable results: NLA strips of our Actions, the speech as a sound strip, timeline
markers per word or sentence -- and removing exactly those again.

What is ours: Actions tagged by rigs.animation (their strips and the tracks named
``PaksaTalker``), the sequencer strip with the custom property :data:`SOUND_TAG`, and the
markers listed in the scene's :data:`MARKERS_PROP` (by name and frame: a marker the user renamed
or moved becomes theirs). Nothing else is touched.
"""

from __future__ import annotations

import re

import bpy

from ..core.types import Performance
from ..rigs import animation
from ..rigs.anny_avatar import Avatar

SOUND_STRIP = "PaksaTalker Speech"
SOUND_TAG = "paksatalker_sound"
MARKERS_PROP = "paksatalker_markers"


def _owners(avatar: Avatar) -> list[bpy.types.ID]:
    owners: list[bpy.types.ID] = [avatar.armature]
    for obj in avatar.objects:
        key = obj.data.shape_keys if obj.type == "MESH" else None
        if key is not None and key not in owners:
            owners.append(key)
    return owners


def animate(avatar: Avatar, perf: Performance, *, start: int = 1, root: str = "in_place") -> str:
    """Key ``perf`` on ``avatar`` as NLA strips of our Actions (one per rig, one shape-key
    Action shared by the face meshes), replacing only our earlier strips; a user's active
    action stays assigned. Returns the retarget's report line."""
    from ..rigs.retarget import apply_performance

    owners = _owners(avatar)
    before = {o.as_pointer(): animation.active_action(o) for o in owners}
    for owner in owners:
        animation.remove_our_strips(owner)
    report = apply_performance(avatar, perf, frame_start=start, root_policy=root)
    for owner in _owners(avatar):
        action, _ = animation.active_action(owner)
        if animation.is_ours(action):
            animation.push_to_nla(owner, action, start=start,
                                  restore=before.get(owner.as_pointer(), (None, None)))
    return str(report)


def clear_animation(objects) -> int:
    """Remove our strips, tracks and Actions from ``objects`` (and their shape keys); returns
    how many strips went."""
    removed: list[bpy.types.Action] = []
    for obj in objects:
        for owner in (obj, obj.data.shape_keys if obj.type == "MESH" else None):
            if owner is not None:
                removed += animation.remove_our_strips(owner)
    for action in {a.name: a for a in removed}.values():
        if action.users == 0:
            bpy.data.actions.remove(action)
    return len(removed)


# --------------------------------------------------------------------------- sound
def _strips(scene):
    editor = scene.sequence_editor or scene.sequence_editor_create()
    strips = getattr(editor, "strips", None)
    return strips if strips is not None else editor.sequences  # Blender < 5.0


def our_sound(scene):
    if scene.sequence_editor is None:
        return None
    return next((s for s in _strips(scene) if s.get(SOUND_TAG)), None)


def poll_generated(cls, context, hint: str) -> bool:
    """An operator's poll: True once the scene has PaksaTalker settings and our speech strip;
    otherwise tells the user ``hint`` (what to run first)."""
    if getattr(context.scene, "paksatalker", None) is None:
        return False
    if our_sound(context.scene) is None:
        cls.poll_message_set(hint)
        return False
    return True


def set_sound(scene, wav: str, *, start: int = 1):
    """Replace our speech strip with ``wav`` from frame ``start`` (on a free channel)."""
    clear_sound(scene)
    strips = _strips(scene)
    used = {s.channel for s in strips}
    channel = next(c for c in range(1, 129) if c not in used)
    strip = strips.new_sound(SOUND_STRIP, wav, channel=channel, frame_start=start)
    strip[SOUND_TAG] = True
    return strip


def clear_sound(scene) -> bool:
    strip = our_sound(scene)
    if strip is None:
        return False
    sound = strip.sound
    _strips(scene).remove(strip)
    if sound is not None and sound.users == 0:
        bpy.data.sounds.remove(sound)
    return True


# --------------------------------------------------------------------------- markers
_SENTENCE_END = re.compile(r"[.!?…。！？]")


def _sentence_starts(perf: Performance) -> list[int]:
    """Indices of words that start a sentence: the first word, and words after one followed by
    sentence-ending punctuation in the script (else after each segment change)."""
    words = perf.speech.words
    try:
        from ..core.script import parse

        segments = [s.text for s in parse(perf.script_text).segments]
    except Exception:  # an LLM brief, or text that is not markup: segments only
        segments = []
    starts = [0] if words else []
    for i in range(1, len(words)):
        prev, w = words[i - 1], words[i]
        if prev.segment != w.segment:
            starts.append(i)
        elif prev.segment < len(segments):
            text = segments[prev.segment]
            gap = text[prev.char_start + len(prev.text):w.char_start]
            if _SENTENCE_END.search(gap):
                starts.append(i)
    return starts


def set_markers(scene, perf: Performance, mode: str, *, start: int = 1) -> int:
    """Replace our markers with one per word (``WORDS``) or sentence (``SENTENCES``)."""
    clear_markers(scene)
    words = perf.speech.words
    if mode == "WORDS":
        chosen = [(w.start, w.text) for w in words]
    elif mode == "SENTENCES":
        chosen = []
        starts = _sentence_starts(perf)
        for k, i in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(words)
            text = " ".join(w.text for w in words[i:end])
            chosen.append((words[i].start, text if len(text) <= 60 else text[:59] + "…"))
    else:
        chosen = []
    made = []
    for t, name in chosen:
        frame = start + int(round(t * perf.fps))
        scene.timeline_markers.new(name, frame=frame)
        made.append(f"{frame}:{name}")
    scene[MARKERS_PROP] = made
    return len(made)


def clear_markers(scene) -> int:
    ours = set(scene.get(MARKERS_PROP, []))
    gone = [m for m in scene.timeline_markers if f"{m.frame}:{m.name}" in ours]
    for m in gone:
        scene.timeline_markers.remove(m)
    if MARKERS_PROP in scene:
        del scene[MARKERS_PROP]
    return len(gone)
