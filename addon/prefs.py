# SPDX-License-Identifier: GPL-3.0-or-later
"""Add-on preferences, looked up only through the package name."""

from __future__ import annotations

import os

import bpy
from bpy.props import StringProperty

from .. import __package__ as base_package


class PAKSA_AddonPreferences(bpy.types.AddonPreferences):
    bl_idname = base_package

    cache_folder: StringProperty(
        name="Cache Folder",
        description="Where speech and other caches go (empty: the extension's user folder)",
        subtype="DIR_PATH",
        default="",
    )

    def draw(self, context):
        self.layout.prop(self, "cache_folder")


def get_prefs(context=None) -> PAKSA_AddonPreferences | None:
    context = context or bpy.context
    addon = context.preferences.addons.get(base_package)
    return addon.preferences if addon else None


def apply_cache_env(context=None) -> None:
    """Point core's cache at the preference, or at the extension's user folder."""
    prefs = get_prefs(context)
    folder = prefs.cache_folder if prefs and prefs.cache_folder else ""
    if not folder:
        try:
            folder = bpy.utils.extension_path_user(base_package, path="cache", create=True)
        except (ValueError, AttributeError):  # not installed as an extension (tests, pip bpy)
            return
    os.environ["PAKSATALKER_CACHE"] = bpy.path.abspath(folder)


classes = (PAKSA_AddonPreferences,)
register, unregister = bpy.utils.register_classes_factory(classes)
