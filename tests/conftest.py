# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared test set-up: test helpers importable by name; EEVEE's shader cache kept between runs."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Tests run on eSpeak NG (fast, exact timings) unless they name another backend; the "auto"
# default (Kokoro when installed) has its own test in tests/core/test_speech_default.py.
os.environ.setdefault("PAKSATALKER_SPEECH_BACKEND", "espeak")
os.environ.setdefault("MESA_SHADER_CACHE_DIR",
                      str(Path.home() / ".cache" / "paksatalker" / "mesa"))
