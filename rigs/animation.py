# SPDX-License-Identifier: GPL-3.0-or-later
"""Write animation in bulk: Actions we own, their F-curves, keys set with ``foreach_set``.

Blender 4.4+ actions are slotted: curves live in a channelbag per slot
(``bpy_extras.anim_utils.action_ensure_channelbag_for_slot``). Blender 4.2 keeps them on
``action.fcurves``; both paths are handled here and nowhere else.

Ownership: every Action made here carries the custom property :data:`TAG`. Only tagged actions are
ever replaced or deleted; a user's action that was assigned before is kept (with a fake user so it
survives saving) and merely unassigned.
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
