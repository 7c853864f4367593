# SPDX-License-Identifier: GPL-3.0-or-later
"""Body stage: Script + Speech -> :class:`~..types.BodyTrack` (SMPL-X poses), by named backend.

A backend is a callable ``(script, speech, fps, settings) -> BodyTrack``; :data:`BODY` creates
it by name. The embedded default is ``"procedural"`` (:mod:`.procedural`); ``"emage"``
(:mod:`.emage`) runs the user's own PantoMatrix EMAGE installation.
"""

from __future__ import annotations

from collections.abc import Callable

from ..registry import Registry
from ..settings import BodySettings
from ..types import BodyTrack, Script, Speech

BodyBackend = Callable[[Script, Speech, float, BodySettings], BodyTrack]


def _procedural() -> BodyBackend:
    from .procedural import animate as procedural_animate

    return procedural_animate


def _emage() -> BodyBackend:
    from .emage import animate as emage_animate

    return emage_animate


BODY: Registry[BodyBackend] = Registry("body", default="procedural")
BODY.register("procedural", _procedural)
BODY.register("emage", _emage)


def animate(script: Script, speech: Speech, fps: float, settings: BodySettings) -> BodyTrack:
    """Body motion for ``speech`` at ``fps`` from the backend named by ``settings.backend``.

    Raises :class:`~..errors.BackendError` for an unknown backend name.
    """
    return BODY.create(settings.backend)(script, speech, fps, settings)
