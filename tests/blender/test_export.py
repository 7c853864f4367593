# SPDX-License-Identifier: GPL-3.0-or-later
"""FBX and glTF export of the bundled avatar with a short Performance, re-imported by Blender."""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
pytest.importorskip("anny")

from paksatalker.core.body import procedural  # noqa: E402
from paksatalker.core.errors import InputError  # noqa: E402
from paksatalker.core.performance import assemble  # noqa: E402
from paksatalker.core.settings import BodySettings  # noqa: E402
from paksatalker.core.types import FaceTrack, Phoneme, Script, Segment, Speech, Word  # noqa: E402
from paksatalker.rigs.export import export_performance  # noqa: E402

pytestmark = pytest.mark.blender
FPS = 12.0


@pytest.fixture(scope="module")
def perf():
    words = (Word("hello", 0.1, 0.5, 0, 0), Word("there", 0.5, 0.9, 0, 6))
    phonemes = (Phoneme("h", 0.1, 0.15), Phoneme("ə", 0.15, 0.3, 2), Phoneme("l", 0.3, 0.5),
                Phoneme("ð", 0.5, 0.6), Phoneme("ɛ", 0.6, 0.9, 2))
    speech = Speech(np.zeros(16000, np.float32), 16000, words, phonemes)
    script = Script((Segment("hello there"),))
    body = procedural.animate(script, speech, FPS, BodySettings(energy=1.0))
    face = FaceTrack.zeros(body.frames, FPS)
    face.arkit[:, 17] = np.linspace(0.0, 0.8, body.frames)  # jawOpen
    return assemble(speech, face, body)


def _action_lengths() -> list[int]:
    out = []
    for action in bpy.data.actions:
        lo, hi = action.frame_range
        out.append(int(round(hi - lo)) + 1)
    return out


@pytest.mark.parametrize("fmt", ["glb", "fbx"])
def test_export_reimports_with_animation(perf, tmp_path, fmt):
    path = export_performance(perf, tmp_path / f"talk.{fmt}")
    assert path.is_file() and path.stat().st_size > 100_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".talk")]
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.scene.render.fps = int(FPS)  # glTF stores seconds; the importer uses this
    if fmt == "glb":
        assert "FINISHED" in bpy.ops.import_scene.gltf(filepath=str(path))
    else:
        assert "FINISHED" in bpy.ops.import_scene.fbx(filepath=str(path))
    arm = [o for o in bpy.data.objects if o.type == "ARMATURE"]
    assert len(arm) == 1 and len(arm[0].data.bones) > 100
    assert any(o.type == "MESH" and o.find_armature() is arm[0] for o in bpy.data.objects)
    assert perf.frames in _action_lengths(), _action_lengths()


def test_export_refuses_unknown_format(perf, tmp_path):
    with pytest.raises(InputError):
        export_performance(perf, tmp_path / "talk.obj")
