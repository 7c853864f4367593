# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the heavy stages in another Python (one with torch etc.): ``<python> -m
paksatalker.headless.cli generate ... --out x.npz`` in a subprocess, then load the npz.

The add-on's own package folder is put on that interpreter's ``PYTHONPATH`` under the name
``paksatalker`` (an extension lives in ``<repo>/paksatalker``), so nothing has to be installed
there but the ML packages.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from ..core.errors import BackendError
from ..core.settings import FACE_RANGES, GenerateSettings

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def command(python: str, text: str, settings: GenerateSettings, out: Path, *,
            brief: bool = False, audio: Path | None = None) -> tuple[list[str], Path]:
    """The argv for ``generate`` and the temp file holding the text (delete it afterwards)."""
    fd, name = tempfile.mkstemp(prefix="paksatalker-script-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    sp, face, body = settings.speech, settings.face, settings.body
    argv = [python, "-m", "paksatalker.headless.cli", "generate",
            "--brief-file" if brief else "--script-file", name, "--out", str(out),
            "--fps", f"{settings.fps:g}", "--seed", str(face.seed),
            "--speech-backend", sp.backend, "--voice", sp.voice, "--rate", str(sp.rate),
            "--pitch", str(sp.pitch), "--energy", f"{body.energy:g}",
            "--style", body.style, "--gesture-rate", f"{body.gesture_rate:g}",
            "--amplitude", f"{body.amplitude:g}", "--handedness", body.handedness,
            "--body-backend", body.backend]
    for name_ in FACE_RANGES:
        argv += [f"--{name_.replace('_', '-')}", f"{getattr(face, name_):g}"]
    for flag, value in (("--voice-model", sp.model), ("--voice-config", sp.config),
                        ("--flame-model", face.flame_model),
                        ("--sadtalker-checkpoint", face.sadtalker_checkpoint),
                        ("--bfm-model", face.bfm_model), ("--emage-dir", body.emage_dir)):
        if value:
            argv += [flag, value]
    if brief:
        s = settings.script
        argv += ["--llm", f"{settings.script_backend}:{s.endpoint}"]
    if audio is not None:
        argv += ["--audio", str(audio)]
    return argv, Path(name)


def start(python: str, text: str, settings: GenerateSettings, out: Path, **kw
          ) -> tuple[subprocess.Popen, Path]:
    """Start ``generate`` in ``python``; returns the process and the text file to delete."""
    argv, text_file = command(python, text, settings, out, **kw)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(_import_root()), *filter(None, [env.get("PYTHONPATH", "")])])
    try:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    except OSError as e:
        text_file.unlink(missing_ok=True)
        raise BackendError(f"cannot start the external Python {python}: {e.strerror}; fix it "
                           "in the add-on preferences") from None
    return proc, text_file


def finish(proc: subprocess.Popen, text_file: Path) -> None:
    """Wait for ``proc``; BackendError with its last error line when it failed."""
    try:
        _, err = proc.communicate()
    finally:
        text_file.unlink(missing_ok=True)
    if proc.returncode != 0:
        lines = [ln for ln in (err or "").splitlines() if ln.strip()]
        raise BackendError(f"external Python failed: {lines[-1] if lines else proc.returncode}")


def _import_root() -> Path:
    """A folder where ``import paksatalker`` finds this add-on's package."""
    if PACKAGE_DIR.name == "paksatalker":
        return PACKAGE_DIR.parent
    link = Path(tempfile.gettempdir()) / "paksatalker-import" / "paksatalker"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(PACKAGE_DIR, target_is_directory=True)
    return link.parent


def finish_quietly(proc: subprocess.Popen, text_file: Path) -> None:
    """Reap a killed ``proc`` and delete its text file (cancel path: errors do not matter)."""
    try:
        proc.communicate(timeout=5)
    except (subprocess.TimeoutExpired, OSError):
        pass
    text_file.unlink(missing_ok=True)
