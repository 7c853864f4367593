# SPDX-License-Identifier: GPL-3.0-or-later
"""Every operator of the panel, registered together (one module per verb group)."""

from __future__ import annotations

import bpy

from . import ops_edit, ops_generate, ops_output, ops_voice

classes = (*ops_generate.classes, *ops_edit.classes, *ops_output.classes,
           *ops_voice.classes)
register, unregister = bpy.utils.register_classes_factory(classes)
