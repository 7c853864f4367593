# SPDX-License-Identifier: GPL-3.0-or-later
"""Entry for a Blender binary: ``blender -b --python headless/blender_run.py -- <cli args>``.

Takes exactly the arguments of the ``paksatalker`` command and runs them through the same
``main()``. The repository (or installed extension) folder is imported as ``paksatalker``.
"""

import importlib.util
import sys
from pathlib import Path


def _import_package():
    try:
        import paksatalker  # installed with pip, or already importable

        return paksatalker
    except ImportError:
        root = Path(__file__).resolve().parent.parent
        spec = importlib.util.spec_from_file_location(
            "paksatalker", root / "__init__.py", submodule_search_locations=[str(root)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["paksatalker"] = module
        spec.loader.exec_module(module)
        return module


def _cli_args(argv: list[str]) -> list[str]:
    return argv[argv.index("--") + 1:] if "--" in argv else []


if __name__ == "__main__":
    _import_package()
    from paksatalker.headless.cli import main

    try:
        code = main(_cli_args(sys.argv))
    except SystemExit as e:  # argparse usage errors
        code = e.code if isinstance(e.code, int) else 2
    except Exception:
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # Blender ignores a script's SystemExit; leave with the status ourselves.
    import os

    os._exit(code)
