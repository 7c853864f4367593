# SPDX-License-Identifier: GPL-3.0-or-later
"""Face stage: Script + Speech -> FaceTrack (ARKit-52, Oculus visemes, jaw and eye rotations).

Backends are chosen by name through :data:`FACE`; the embedded default ``"visemes"`` runs
offline on the CPU (:class:`.procedural.ProceduralFace`).
"""

from __future__ import annotations

from typing import Protocol

from ..registry import Registry
from ..settings import FaceSettings
from ..types import FaceTrack, Script, Speech
from .procedural import ProceduralFace


class FaceBackend(Protocol):
    def animate(
        self, script: Script, speech: Speech, fps: float, settings: FaceSettings
    ) -> FaceTrack:
        """Face motion covering ``speech`` at ``fps`` (``frame_count(speech.duration, fps)``
        frames)."""
        ...


FACE: Registry[FaceBackend] = Registry("face", default="visemes")
FACE.register("visemes", ProceduralFace)


def _sadtalker() -> FaceBackend:
    from .sadtalker import SadTalkerFace  # torch is imported lazily inside

    return SadTalkerFace()


FACE.register("sadtalker", _sadtalker)


def animate(script: Script, speech: Speech, fps: float, settings: FaceSettings) -> FaceTrack:
    """Animate the face with the backend named by ``settings.backend`` (BackendError if unknown).
    With ``settings.flame_model`` set, FLAME-100 expressions are fitted onto the track."""
    face = FACE.create(settings.backend).animate(script, speech, fps, settings)
    if settings.flame_model:
        from .flame_stage import add_flame

        face = add_flame(face, settings.flame_model)
    return face


__all__ = ["FACE", "FaceBackend", "ProceduralFace", "animate"]
