# SPDX-License-Identifier: GPL-3.0-or-later
"""The add-on registers cleanly, twice, and its Generate operator animates the bundled avatar."""

import pytest

bpy = pytest.importorskip("bpy")
import addon_utils  # noqa: E402  (ships with bpy)

pytestmark = pytest.mark.blender


@pytest.fixture
def enabled():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    mod = addon_utils.enable("paksatalker", default_set=True, handle_error=None)
    assert mod is not None
    yield mod
    addon_utils.disable("paksatalker", default_set=True)


def test_enable_disable_twice():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    for _ in range(2):
        assert addon_utils.enable("paksatalker", default_set=True, handle_error=None)
        assert hasattr(bpy.types.Scene, "paksatalker")
        assert hasattr(bpy.ops.paksatalker, "generate")
        addon_utils.disable("paksatalker", default_set=True)
        assert not hasattr(bpy.types.Scene, "paksatalker")


def test_generate_builds_and_animates_the_avatar(enabled):
    scene = bpy.context.scene
    scene.paksatalker.text = "Hello! [happy] Nice to meet you."
    scene.render.fps = 24
    assert bpy.ops.paksatalker.generate() == {"FINISHED"}
    rigs = [o for o in scene.objects if o.type == "ARMATURE" and o.get("paksatalker_avatar")]
    assert len(rigs) == 1
    rig = rigs[0]
    assert rig.animation_data and rig.animation_data.action
    assert rig.animation_data.action.name.startswith("PaksaTalker")
    keyed = [o for o in scene.objects if o.type == "MESH" and o.data.shape_keys
             and o.data.shape_keys.animation_data and o.data.shape_keys.animation_data.action]
    assert keyed, "no shape-key action"
    strips = scene.sequence_editor.strips
    sound = strips.get("PaksaTalker Speech")
    assert sound is not None and sound.type == "SOUND"
    assert scene.frame_end == round(sound.frame_final_duration) or abs(
        scene.frame_end - sound.frame_final_duration) <= 1
    assert scene.camera is not None

    # Generating again re-uses the avatar and replaces only our strip.
    scene.paksatalker.text = "Goodbye."
    assert bpy.ops.paksatalker.generate() == {"FINISHED"}
    assert len([o for o in scene.objects if o.get("paksatalker_avatar")]) == 1
    assert len([s for s in scene.sequence_editor.strips if s.name.startswith("PaksaTalker")]) == 1


def test_generate_reports_bad_input(enabled):
    scene = bpy.context.scene
    scene.paksatalker.text = "Hi [nonsense-tag]"
    with pytest.raises(RuntimeError, match="unknown tag"):
        bpy.ops.paksatalker.generate()
    assert not [o for o in scene.objects if o.get("paksatalker_avatar")]
