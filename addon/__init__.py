# SPDX-License-Identifier: GPL-3.0-or-later
"""The Blender layer: preferences, scene settings, operators, panel and CLI command."""

from __future__ import annotations

from . import cli_command, operators, panels, prefs, props

_modules = (prefs, props, operators, panels, cli_command)


def register():
    for m in _modules:
        m.register()


def unregister():
    for m in reversed(_modules):
        m.unregister()
