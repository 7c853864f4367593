# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared test set-up: test helpers importable by name; EEVEE's shader cache kept between runs."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("MESA_SHADER_CACHE_DIR",
                      str(Path.home() / ".cache" / "paksatalker" / "mesa"))
