# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure-Python core: data types, stages and maths. Never imports bpy."""
