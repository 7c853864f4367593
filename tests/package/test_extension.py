# SPDX-License-Identifier: GPL-3.0-or-later
"""The repository root validates and builds as an extension with the tool in the bpy wheel."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _blender_ext() -> str:
    bpy = pytest.importorskip("bpy")
    path = os.path.join(bpy.utils.resource_path("LOCAL"),
                        "scripts/addons_core/bl_pkg/cli/blender_ext.py")
    assert os.path.isfile(path), path
    return path


def test_manifest_validates():
    res = subprocess.run([sys.executable, _blender_ext(), "validate", str(ROOT)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_zip_builds_without_dev_files(tmp_path):
    res = subprocess.run([sys.executable, _blender_ext(), "build", "--source-dir", str(ROOT),
                          "--output-dir", str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    (zpath,) = tmp_path.glob("paksatalker-*.zip")
    names = zipfile.ZipFile(zpath).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {"__init__.py", "blender_manifest.toml", "addon", "core", "rigs", "scenes",
            "shaders", "headless"} <= tops
    assert not tops & {"tests", "bench", ".ci", ".venv", "Makefile", "pyproject.toml"}
    assert not [n for n in names if "__pycache__" in n]
