# SPDX-License-Identifier: GPL-3.0-or-later
"""Drive whatever face an avatar has, and report what was driven.

Shape keys are matched by name (:mod:`..core.face_map`): ARKit keys, ``viseme_*`` keys,
Rocketbox visemes and expressions, ``Exp###`` (FLAME, from ``FaceTrack.expressions``) and
whole-face emotion morphs. All curves go on one Action ``PaksaTalker_<armature>_Face`` shared by
every Key datablock of the avatar (a curve whose key a mesh lacks is simply unused there).

When no shape key moves the mouth, the jaw bone opens it (the retargeter keys the face track's
jaw rotation on it: see :func:`jaw_bone_drives_mouth`); an avatar with neither a mouth shape
nor a jaw bone but an emotion morph that opens the mouth (``Surprised``) speaks through that
morph at reduced strength, mixed with the emotion itself. Eye bones always follow the gaze.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import bpy
import numpy as np

from ..core.face_map import FacePlan, face_curves, plan_face
from ..core.names import ARKIT_INDEX
from ..core.types import FaceTrack
from . import animation

MOUTH_PROXY = ("Surprised", "surprised", "Surprise", "MouthOpen", "O")
"""Morphs, in order of preference, that stand in for an open jaw when nothing else can."""
PROXY_GAIN = 0.6
"""jawOpen -> proxy morph weight (a full surprise face at every vowel looks wrong)."""


@dataclass
class FaceReport:
    """keys: convention -> names of the shape keys driven; bones: what bones the face moves;
    mouth: how the mouth moves ("" when it does not)."""

    keys: dict[str, list[str]] = field(default_factory=dict)
    bones: list[str] = field(default_factory=list)
    mouth: str = ""

    def __str__(self) -> str:
        parts = [f"{conv}: {len(names)} keys" for conv, names in sorted(self.keys.items())]
        parts += [f"bones: {', '.join(self.bones)}"] if self.bones else []
        return "face driven by " + ("; ".join(parts) or "nothing") + (
            f" (mouth: {self.mouth})" if self.mouth else " (mouth does not move)")


def avatar_keys(objects) -> list[bpy.types.Key]:
    """Every Key datablock (meshes with shape keys) among ``objects``, each once."""
    out: list[bpy.types.Key] = []
    for obj in objects:
        key = obj.data.shape_keys if obj.type == "MESH" else None
        if key is not None and key not in out and len(key.key_blocks) > 1:
            out.append(key)
    return out


def face_plan(objects, face: FaceTrack | None = None) -> FacePlan:
    names = sorted({kb.name for key in avatar_keys(objects) for kb in key.key_blocks[1:]})
    has_exp = face is not None and face.expressions is not None
    return plan_face(names, has_expressions=has_exp)


def jaw_bone_drives_mouth(objects, joints: dict[str, str]) -> bool:
    """True when the avatar has a mapped jaw bone and no shape key that opens the mouth."""
    return "jaw" in joints and not face_plan(objects).mouth


def drive_face(avatar, face: FaceTrack, frames: np.ndarray, *, jaw_bone: bool,
               eye_bones: list[str]) -> FaceReport:
    """Key ``face`` on the avatar's shape keys at ``frames`` (T,); returns what was driven.

    jaw_bone / eye_bones: what the body retarget already keys from the face track.
    """
    keys = avatar_keys(avatar.objects)
    plan = face_plan(avatar.objects, face)
    curves = face_curves(plan, face)
    report = FaceReport(bones=(["jaw"] if jaw_bone else []) + list(eye_bones))
    for name, conv in plan.conventions.items():
        report.keys.setdefault(conv, []).append(name)
    report.mouth = plan.mouth + " shape keys" if plan.mouth else ("jaw bone" if jaw_bone else "")
    if not plan.mouth and not jaw_bone:
        proxy = next((n for n in MOUTH_PROXY if any(n in k.key_blocks for k in keys)), None)
        if proxy is not None:
            speech = PROXY_GAIN * face.arkit[:, ARKIT_INDEX["jawOpen"]]
            curves[proxy] = np.maximum(curves.get(proxy, 0.0), speech)
            report.mouth = f"jaw fallback through the {proxy!r} morph"
    if not keys or not curves:
        return report
    for key in keys:
        for kb in key.key_blocks[1:]:
            if kb.name in curves and plan.conventions.get(kb.name) == "flame":
                kb.slider_min, kb.slider_max = -5.0, 5.0
    action = animation.new_action(f"{avatar.armature.name}_Face", keys)
    bag = animation.fcurves(action)
    for name, curve in sorted(curves.items()):
        path = f'key_blocks["{bpy.utils.escape_identifier(name)}"].value'
        group = plan.conventions.get(name, "mouth")
        animation.write_curves(bag, path, frames, curve, group=group)
    return report
