# SPDX-License-Identifier: GPL-3.0-or-later
"""``blender -c paksatalker <args>``: the same commands as the ``paksatalker`` CLI."""

from __future__ import annotations

import bpy

_handles: list = []


def _run(argv: list[str]) -> int:
    from ..headless.cli import main

    try:
        return main(argv)
    except SystemExit as e:  # argparse usage errors and --help
        return e.code if isinstance(e.code, int) else 2


def register():
    if hasattr(bpy.utils, "register_cli_command"):
        _handles.append(bpy.utils.register_cli_command("paksatalker", _run))


def unregister():
    while _handles:
        bpy.utils.unregister_cli_command(_handles.pop())
