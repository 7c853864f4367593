# SPDX-License-Identifier: GPL-3.0-or-later
"""Write animation in bulk: Actions we own, their F-curves, keys set with ``foreach_set``.

Blender 4.4+ actions are slotted: curves live in a channelbag per slot
(``bpy_extras.anim_utils.action_ensure_channelbag_for_slot``). Blender 4.2 keeps them on
``action.fcurves``; both paths are handled here and nowhere else.

Ownership: every Action made here carries the custom property :data:`TAG`. Only tagged actions are
ever replaced or deleted; a user's action that was assigned before is kept (with a fake user so it
survives saving) and merely unassigned.

NLA (the add-on's editable results): :func:`push_to_nla` moves one of our Actions into a strip
on a track named :data:`TRACK` and gives the owner its previous (user) action back;
:func:`remove_our_strips` removes only strips whose Action is ours. NLA tracks, strips and
markers cannot hold custom properties, so ownership is always decided by the strip's Action.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import bpy
import numpy as np

TAG = "paksatalker_action"
PREFIX = "PaksaTalker_"

_SLOTTED = bpy.app.version >= (4, 4, 0)
_LINEAR = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["LINEAR"].value


def is_ours(action: bpy.types.Action | None) -> bool:
    return action is not None and bool(action.get(TAG))


def new_action(name: str, users: Iterable[bpy.types.ID]) -> bpy.types.Action:
    """A fresh Action ``PaksaTalker_<name>`` assigned to every ID in ``users`` (same type).

    An earlier action of ours with that name is deleted first; user actions are left intact.
    Returns the action; get its curves with :func:`fcurves`.
    """
    users = list(users)
    full = name if name.startswith(PREFIX) else PREFIX + name
    old = bpy.data.actions.get(full)
    if is_ours(old):
        bpy.data.actions.remove(old)
    action = bpy.data.actions.new(full)
    action[TAG] = True
    slot = None
    if _SLOTTED and users:
        slot = action.slots.new(id_type=users[0].id_type, name=users[0].name)
    for user in users:
        anim = user.animation_data or user.animation_data_create()
        if anim.action is not None and not is_ours(anim.action):
            anim.action.use_fake_user = True
        anim.action = action
        if slot is not None:
            anim.action_slot = slot
    return action


def fcurves(action: bpy.types.Action):
    """The F-curve collection of the action's (first) slot, or ``action.fcurves`` on 4.2."""
    if not _SLOTTED:
        return action.fcurves
    from bpy_extras import anim_utils

    return anim_utils.action_ensure_channelbag_for_slot(action, action.slots[0]).fcurves


def write_curves(
    curves,
    data_path: str,
    frames: np.ndarray,
    values: np.ndarray,
    *,
    group: str = "",
    indices: Sequence[int] | None = None,
) -> None:
    """Key ``values`` (T,C) at ``frames`` (T,) on ``data_path`` array indices 0..C-1 (or
    ``indices``), with linear interpolation, in one bulk write per curve.

    ``curves`` is what :func:`fcurves` returns.
    """
    frames = np.asarray(frames, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64).reshape(len(frames), -1)
    idx = list(range(values.shape[1])) if indices is None else list(indices)
    co = np.empty((len(frames), 2))
    co[:, 0] = frames
    interp = np.full(len(frames), _LINEAR, dtype=np.int32)
    for column, index in enumerate(idx):
        if _SLOTTED:
            curve = curves.new(data_path, index=index, group_name=group)
        else:
            curve = curves.new(data_path, index=index, action_group=group)
        co[:, 1] = values[:, column]
        points = curve.keyframe_points
        points.add(len(frames))
        points.foreach_set("co", co.ravel())
        points.foreach_set("interpolation", interp)
        curve.update()


# --------------------------------------------------------------------------- NLA
TRACK = "PaksaTalker"
"""Name of the NLA tracks we make. A strip is ours when its action is (see :func:`is_ours`)."""


def active_action(owner: bpy.types.ID) -> tuple[bpy.types.Action | None, object]:
    """``(action, slot)`` assigned to ``owner`` now (slot is None before Blender 4.4)."""
    anim = owner.animation_data
    if anim is None or anim.action is None:
        return None, None
    return anim.action, getattr(anim, "action_slot", None)


def our_strips(owner: bpy.types.ID) -> list[tuple[bpy.types.NlaTrack, bpy.types.NlaStrip]]:
    """Every ``(track, strip)`` on ``owner`` whose action we made."""
    anim = owner.animation_data
    if anim is None:
        return []
    return [(t, s) for t in anim.nla_tracks for s in t.strips if is_ours(s.action)]


def remove_our_strips(owner: bpy.types.ID) -> list[bpy.types.Action]:
    """Remove our strips from ``owner`` (any track), then our tracks left empty, and unassign an
    active action of ours. A user's strips, tracks and actions are never touched. Returns the
    actions the removed strips played."""
    anim = owner.animation_data
    if anim is None:
        return []
    actions = []
    for track, strip in our_strips(owner):
        actions.append(strip.action)
        track.strips.remove(strip)
    for track in [t for t in anim.nla_tracks if t.name.startswith(TRACK) and not t.strips]:
        anim.nla_tracks.remove(track)
    if is_ours(anim.action):
        actions.append(anim.action)
        anim.action = None
    return actions


def push_to_nla(owner: bpy.types.ID, action: bpy.types.Action, *, start: int,
                restore: tuple[bpy.types.Action | None, object] = (None, None)
                ) -> bpy.types.NlaStrip:
    """Play ``action`` (ours) on ``owner`` as a strip from frame ``start`` on a new top NLA track
    named :data:`TRACK`, and give ``owner`` back the active action it had before (``restore``,
    from :func:`active_action`; a user's action keeps evaluating on top, as Blender does)."""
    anim = owner.animation_data or owner.animation_data_create()
    slot = getattr(anim, "action_slot", None) if anim.action is action else None
    if anim.action is action:
        anim.action = None
    track = anim.nla_tracks.new()
    track.name = TRACK
    strip = track.strips.new(action.name, int(start), action)
    if _SLOTTED and action.slots:
        strip.action_slot = slot if slot is not None else action.slots[0]
    user_action, user_slot = restore
    if user_action is not None and not is_ours(user_action):
        anim.action = user_action
        if user_slot is not None and hasattr(anim, "action_slot"):
            anim.action_slot = user_slot
    return strip
