# SPDX-License-Identifier: GPL-3.0-or-later
"""core/ must import in a Python where Blender's modules do not exist."""

import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import importlib, pkgutil, sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"bpy", "bmesh", "mathutils", "gpu"}:
                raise ImportError(f"blocked {name}")
            return None

    sys.meta_path.insert(0, Block())
    import paksatalker.core as core
    names = [m.name for m in pkgutil.walk_packages(core.__path__, "paksatalker.core.")]
    for name in names:
        importlib.import_module(name)
    print(len(names))
    """
)


def test_every_core_module_imports_without_blender():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.strip()) >= 10


def test_root_package_import_is_lazy():
    code = "import sys, paksatalker; print('bpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
