# SPDX-License-Identifier: GPL-3.0-or-later
"""Domain errors. Their messages are one line a user can act on.

Front doors (CLI, add-on operators) catch :class:`PaksaError` and show ``str(err)`` without a
traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class PaksaError(Exception):
    """Base class of every error caused by user input or the user's environment."""


class InputError(PaksaError, ValueError):
    """Bad user input: empty text, unknown voice, wrong array shapes, unreadable file."""


class BackendError(PaksaError):
    """A backend is unknown, not installed, or failed."""


class OutputError(PaksaError):
    """An output path cannot be written."""


class DataError(InputError):
    """A data object (Speech, FaceTrack, ...) failed validation."""
