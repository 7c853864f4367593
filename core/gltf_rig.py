# SPDX-License-Identifier: GPL-3.0-or-later
"""Read a rig out of a glTF/VRM file without Blender (pure Python): the skins' joint hierarchy
and the VRM humanoid bone table. Used to check an avatar before importing it."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from .errors import InputError


def _gltf_json(path: str | Path) -> dict:
    """The JSON document of a ``.glb``/``.vrm`` (binary glTF) or ``.gltf`` file."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise InputError(f"cannot read {path}: {err}") from None
    try:
        if data[:4] == b"glTF" and len(data) >= 20:
            length, kind = struct.unpack_from("<I4s", data, 12)
            if kind != b"JSON":
                raise ValueError("first chunk is not JSON")
            return json.loads(data[20:20 + length].decode("utf-8"))
        return json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError(f"{path} is not a glTF file: {err}") from None


def vrm_humanoid(path: str | Path) -> dict[str, str]:
    """VRM humanoid bone -> node name from a ``.vrm``/``.glb`` file's JSON (VRM 0.x or 1.0);
    empty when the file has no VRM extension."""
    doc = _gltf_json(path)
    nodes = [n.get("name", f"node{i}") for i, n in enumerate(doc.get("nodes", []))]
    ext = doc.get("extensions", {})
    out: dict[str, str] = {}
    if "VRMC_vrm" in ext:
        for bone, spec in ext["VRMC_vrm"].get("humanoid", {}).get("humanBones", {}).items():
            if 0 <= spec.get("node", -1) < len(nodes):
                out[bone] = nodes[spec["node"]]
    elif "VRM" in ext:
        for spec in ext["VRM"].get("humanoid", {}).get("humanBones", []):
            if 0 <= spec.get("node", -1) < len(nodes):
                out[spec["bone"]] = nodes[spec["node"]]
    return out


def gltf_skeleton(path: str | Path) -> tuple[list[str], list[str | None]]:
    """Joint names and parent joint names (None at roots) of a glTF file's skins, without
    Blender: enough to check a rig before importing it."""
    doc = _gltf_json(path)
    nodes = doc.get("nodes", [])
    joints = sorted({j for skin in doc.get("skins", []) for j in skin.get("joints", [])})
    parent_of = {c: i for i, n in enumerate(nodes) for c in n.get("children", [])}
    names = [nodes[j].get("name", f"node{j}") for j in joints]
    parents: list[str | None] = []
    for j in joints:
        p = parent_of.get(j)
        while p is not None and p not in joints:
            p = parent_of.get(p)
        parents.append(None if p is None else nodes[p].get("name", f"node{p}"))
    return names, parents
