# SPDX-License-Identifier: GPL-3.0-or-later
"""PaksaTalker: script to rendered 3D talking avatar.

This file stays thin: the Blender add-on is imported only inside ``register()`` so that
``paksatalker.core`` imports in a plain Python without Blender.
"""


def register():
    from . import addon

    addon.register()


def unregister():
    from . import addon

    addon.unregister()
