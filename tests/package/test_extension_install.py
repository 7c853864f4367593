# SPDX-License-Identifier: GPL-3.0-or-later
"""The built zip installs into a throw-away user repository, enables as
``bl_ext.<repo>.paksatalker``, generates and applies on the bundled avatar and on a real avatar,
survives disable/enable twice, keeps its cache in the extension's user folder, and its
``blender -c paksatalker`` command runs the CLI.

Runs in a subprocess: ``BLENDER_USER_RESOURCES`` must be set before bpy starts.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_extension import ROOT, _blender_ext

pytestmark = pytest.mark.blender

AVATAR = Path("/work/shared/assets/avatars/valid_mit/Asian_F_1_Casual_nomeshopt.glb")

SCRIPT = textwrap.dedent("""
    import importlib, os, sys
    import bpy, addon_utils
    zip_path, repo_dir, avatar = sys.argv[1], sys.argv[2], sys.argv[3]
    bpy.ops.wm.read_factory_settings(use_empty=True)
    prefs = bpy.context.preferences
    prefs.extensions.repos.new(name="pttest", module="pttest", custom_directory=repo_dir)
    res = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="pttest",
                                                   enable_on_install=True)
    assert res == {"FINISHED"}, res
    name = "bl_ext.pttest.paksatalker"
    assert name in prefs.addons, list(prefs.addons.keys())
    assert os.path.isfile(os.path.join(repo_dir, "paksatalker", "blender_manifest.toml"))
    scene = bpy.context.scene
    p = scene.paksatalker
    p.text, p.speech_backend, p.build_studio = "Hello from the zip.", "espeak", False
    assert bpy.ops.paksatalker.generate() == {"FINISHED"}
    cache = os.environ["PAKSATALKER_CACHE"]
    assert cache.startswith(os.environ["BLENDER_USER_RESOURCES"]), cache
    assert p.performance.startswith(cache), p.performance

    def ours(obj):
        return [s.name for t in obj.animation_data.nla_tracks for s in t.strips
                if s.action and s.action.get("paksatalker_action")]

    bundled = next(o for o in scene.objects if o.get("paksatalker_avatar"))
    assert ours(bundled), "no strip on the bundled avatar"
    if os.path.isfile(avatar):
        mod = importlib.import_module(name + ".rigs.import_avatar")
        arm = mod.import_avatar(avatar).armature
        for o in bpy.context.view_layer.objects:
            o.select_set(False)
        arm.select_set(True)
        bpy.context.view_layer.objects.active = arm
        p.avatar_source = "SELECTED"
        assert bpy.ops.paksatalker.apply() == {"FINISHED"}
        assert ours(arm), "no strip on the imported avatar"
        print("real avatar:", arm.name, ours(arm))
    cli = importlib.import_module(name + ".addon.cli_command")
    assert cli._handles, "the CLI command is not registered"
    assert cli._run(["voices", "--backend", "espeak", "--language", "en-gb"]) == 0
    for _ in range(2):
        addon_utils.disable(name, default_set=True)
        assert not hasattr(bpy.types.Scene, "paksatalker")
        try:
            bpy.ops.paksatalker.generate.get_rna_type()
            raise AssertionError("the Generate operator is still registered")
        except KeyError:
            pass
        assert addon_utils.enable(name, default_set=True, handle_error=None)
        assert bpy.ops.paksatalker.generate.poll()
    print("EXTENSION-OK")
""")


def test_zip_installs_generates_applies_and_reenables(tmp_path):
    ext = _blender_ext()
    dist = tmp_path / "dist"
    dist.mkdir()
    res = subprocess.run([sys.executable, ext, "build", "--source-dir", str(ROOT),
                          "--output-dir", str(dist)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    (zpath,) = dist.glob("paksatalker-*.zip")
    res = subprocess.run([sys.executable, ext, "validate", str(zpath)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    repo = tmp_path / "repo"
    repo.mkdir()
    script = tmp_path / "install.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if k != "PAKSATALKER_CACHE"}
    env["BLENDER_USER_RESOURCES"] = str(tmp_path / "user")
    env["PYTHONPATH"] = ""  # the add-on must come from the zip, not the checkout
    res = subprocess.run([sys.executable, str(script), str(zpath), str(repo), str(AVATAR)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert "EXTENSION-OK" in res.stdout, (res.stdout + res.stderr)[-4000:]
