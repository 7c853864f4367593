# SPDX-License-Identifier: GPL-3.0-or-later
"""Add-on preferences (Edit > Preferences > Add-ons > PaksaTalker), looked up only through the
package name, so they work both as a legacy add-on and as an extension (``bl_ext.<repo>.…``).

No secret is ever stored: the LLM key is read at run time from the environment variable the
user names here.
"""

from __future__ import annotations

import os
import shutil

import bpy
from bpy.props import StringProperty

from .. import __package__ as base_package


class PAKSA_AddonPreferences(bpy.types.AddonPreferences):
    bl_idname = base_package

    cache_folder: StringProperty(
        name="Cache Folder", subtype="DIR_PATH", default="",
        description="Where speech, performances and other caches go (empty: the extension's "
        "user folder)")
    qwen_model: StringProperty(
        name="Qwen Model", subtype="DIR_PATH", default="",
        description="Local Qwen model folder (or Hugging Face repo id in the offline cache) for "
        "the qwen-local script writer")
    llm_endpoint: StringProperty(
        name="LLM Endpoint", default="",
        description="OpenAI-compatible base URL for the openai script writer, e.g. "
        "http://127.0.0.1:8000/v1")
    llm_model: StringProperty(name="LLM Model", default="",
                              description="The server's model name, e.g. qwen2.5:7b")
    llm_key_env: StringProperty(
        name="Key Variable", default="OPENAI_API_KEY",
        description="NAME of the environment variable holding the API key (the key itself is "
        "never stored in preferences or .blend files)")
    tts_model: StringProperty(
        name="Voice Model", subtype="FILE_PATH", default="",
        description="Neural voice model: Kokoro/Piper .onnx or Coqui checkpoint .pth")
    tts_config: StringProperty(name="Voice Config", subtype="FILE_PATH", default="",
                               description="Piper .onnx.json or Coqui config.json")
    sadtalker_checkpoint: StringProperty(
        name="SadTalker Checkpoint", subtype="FILE_PATH", default="",
        description="SadTalker audio2exp checkpoint (.pth) for the sadtalker face backend")
    bfm_model: StringProperty(name="BFM Model", subtype="FILE_PATH", default="",
                              description="SadTalker's BFM_model_front.mat")
    emage_dir: StringProperty(name="EMAGE Folder", subtype="DIR_PATH", default="",
                              description="Your PantoMatrix checkout for the emage body backend")
    flame_model: StringProperty(
        name="SMPL-X/FLAME Model", subtype="FILE_PATH", default="",
        description="Your SMPL-X or FLAME .npz: adds FLAME expressions to the face")
    python: StringProperty(
        name="External Python", subtype="FILE_PATH", default="",
        description="Optional interpreter with torch and the ML packages: the script, speech "
        "and motion stages run there in a subprocess (when Blender's Python lacks them)")

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        col = layout.column(heading="Storage")
        col.prop(self, "cache_folder")
        col = layout.column(heading="Script Writer")
        col.prop(self, "qwen_model")
        col.prop(self, "llm_endpoint")
        col.prop(self, "llm_model")
        row = col.row()
        row.prop(self, "llm_key_env")
        if self.llm_key_env:
            found = bool(os.environ.get(self.llm_key_env))
            col.label(text=f"${self.llm_key_env} is {'set' if found else 'not set'}",
                      icon="CHECKMARK" if found else "ERROR")
        col = layout.column(heading="Models")
        for name in ("tts_model", "tts_config", "sadtalker_checkpoint", "bfm_model",
                     "emage_dir", "flame_model"):
            col.prop(self, name)
        col = layout.column(heading="Heavy Stages")
        col.prop(self, "python")
        if self.python and not external_python(self):
            col.label(text="Not an executable file", icon="ERROR")


def get_prefs(context=None) -> PAKSA_AddonPreferences | None:
    context = context or bpy.context
    addon = context.preferences.addons.get(base_package)
    return addon.preferences if addon else None


def external_python(prefs) -> str:
    """The external interpreter as an absolute executable path, or "" when unset or unusable."""
    if prefs is None or not prefs.python:
        return ""
    path = bpy.path.abspath(prefs.python)
    found = shutil.which(path)
    return found or ""


def cache_folder(context=None) -> str:
    """The cache folder: the preference, else the extension's user folder, else ""."""
    prefs = get_prefs(context)
    if prefs and prefs.cache_folder:
        return bpy.path.abspath(prefs.cache_folder)
    try:
        return bpy.utils.extension_path_user(base_package, path="cache", create=True)
    except (ValueError, AttributeError):  # not installed as an extension (tests, pip bpy)
        return ""


def apply_cache_env(context=None) -> None:
    """Point core's cache (``PAKSATALKER_CACHE``) at :func:`cache_folder` when there is one."""
    folder = cache_folder(context)
    if folder:
        os.environ["PAKSATALKER_CACHE"] = folder


classes = (PAKSA_AddonPreferences,)
register, unregister = bpy.utils.register_classes_factory(classes)
