# SPDX-License-Identifier: GPL-3.0-or-later
"""Retarget SMPL-X motion onto any armature by world-space rotation transfer (pure numpy).

Frames: SMPL-X is Y-up, facing +Z; the target armature is Blender's Z-up, facing -Y; both have +X
at the subject's left. Target matrices are *armature space* (``bone.matrix_local``), so the motion
follows the armature object wherever the user puts it.

The method, per frame and bone:

1. SMPL-X forward kinematics gives each joint's global rotation ``G_j`` (its zero pose is a
   T-pose), turned into the armature frame: ``G'_j = K G_j K^T``.
2. The two rests differ (MakeHuman stands in an A-pose with bent elbows, SMPL-X in a T-pose), so
   each mapped bone gets a rest correction ``C_b``: the smallest rotation taking the target's rest
   segment (mapped bone head -> head of the bone mapped to the SMPL-X child joint) onto the SMPL-X
   rest segment. The bone's world rotation away from its rest is then ``D_b = G'_j C_b``; with the
   zero pose every mapped segment points exactly as in SMPL-X's T-pose.
3. Pose-bone rotations relative to the rest are ``Q_b = M_b^-1 D_parent^-1 D_b M_b`` (M: rest
   rotation of the bone in armature space), which is what ``pose_bone.rotation_quaternion`` holds.

Policies:

- ``keep_rest`` joints (the torso chain) are taken as equal in both rests (``C = I``): their
  directions are anatomically alike and MakeHuman's natural spine curve is kept.
- Joints with no mapped child (feet, the head's leaves) reuse their parent's correction.
- Fingers reuse the wrist's correction. SMPL-X hand poses are stored relative to the MANO mean
  hand (``flat_hand_mean=False``, as EMAGE writes them) and no MANO data ships here, so the
  target's relaxed rest hand stands in for the mean hand: a zero hand pose leaves the fingers at
  the rig's rest, and non-zero poses bend them from there about SMPL-X's axes.
- Unmapped bones keep their rest relative to their parent (``Q = I``), unless a ``share`` chain
  lists them: the chain's bones split the SMPL-X joint's rotation evenly (slerp), so a 3-bone neck
  bends smoothly while the chain's last bone still ends at the SMPL-X orientation.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .body.skeleton import REST_JOINTS, forward_kinematics
from .errors import InputError
from .names import JOINT_INDEX, NUM_JOINTS, SMPLX_JOINTS, SMPLX_PARENTS
from .rotations import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_quaternion,
    rotation_between,
)

SMPLX_TO_BLENDER = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
"""K: SMPL-X (Y-up, facing +Z) vectors -> Blender (Z-up, facing -Y): ``v_b = K @ v_s``."""

ROOT_POLICIES = ("in_place", "keep", "relative", "fixed")
"""``keep`` and ``relative`` are the same policy (the whole path, scaled to the avatar)."""

FINGERS = ("index", "middle", "pinky", "ring", "thumb")
_PREFERRED_CHILD = {"left_wrist": "left_middle1", "right_wrist": "right_middle1"}


@dataclass(frozen=True)
class BoneMap:
    """SMPL-X joint -> target bone names, with the retarget policies (see the module docstring).

    joints: SMPL-X joint name -> bone name.
    share: SMPL-X joint name -> chain of bones (parent first) that split that joint's rotation.
    keep_rest: SMPL-X joints whose rest orientation is taken as equal to SMPL-X's.
    follow: unmapped bone -> SMPL-X joint whose world rotation it copies (e.g. the palm bones
    of a hand without a wrist bone), instead of following its parent.
    auto: the map only overrides the automatic map (:mod:`.bone_names`); a joint mapped to
    ``""`` is removed from it.
    """

    joints: dict[str, str]
    share: dict[str, tuple[str, ...]]
    keep_rest: frozenset[str]
    follow: dict[str, str] = field(default_factory=dict)
    auto: bool = False

    def __post_init__(self) -> None:
        named = (*self.joints, *self.share, *self.keep_rest, *self.follow.values())
        unknown = [j for j in named if j not in JOINT_INDEX]
        if unknown:
            raise InputError(f"bone map names unknown SMPL-X joints: {', '.join(unknown)}")
        for joint, chain in self.share.items():
            if self.joints.get(joint) not in chain:
                raise InputError(f"bone map share chain of {joint!r} must contain its bone")
        bones = [b for b in self.joints.values() if b]
        if len(set(bones)) != len(bones):
            raise InputError("bone map maps two SMPL-X joints to one bone")


def load_bone_map(path: str | Path) -> BoneMap:
    """Read a bone map TOML: ``[joints]`` joint = "bone", ``[share]`` joint = [bones],
    ``[follow]`` bone = "joint", ``keep_rest = [joints]``, ``auto = true|false`` (see
    docs/avatars.md)."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise InputError(f"cannot read bone map {path}: {err}") from None
    return BoneMap(
        joints={str(k): str(v) for k, v in raw.get("joints", {}).items()},
        share={str(k): tuple(map(str, v)) for k, v in raw.get("share", {}).items()},
        keep_rest=frozenset(map(str, raw.get("keep_rest", ()))),
        follow={str(k): str(v) for k, v in raw.get("follow", {}).items()},
        auto=bool(raw.get("auto", False)),
    )


def merge_maps(base: BoneMap, over: BoneMap) -> BoneMap:
    """``over`` on top of ``base``: its joints replace (``""`` removes), the rest is joined."""
    joints = {**base.joints, **over.joints}
    joints = {j: b for j, b in joints.items() if b}
    share = {j: c for j, c in {**base.share, **over.share}.items()
             if joints.get(j) and joints[j] in c}
    follow = {b: j for b, j in {**base.follow, **over.follow}.items()
              if b not in joints.values()}
    keep = frozenset(j for j in base.keep_rest | over.keep_rest if j in joints)
    return BoneMap(joints, share, keep, follow)


@dataclass(frozen=True)
class TargetRest:
    """The target armature at rest, in armature space (Blender, Z-up).

    names: (B,) bone names; parents: (B,) parent index or -1 (parents precede children);
    matrices: (B,4,4) rest matrices (``bone.matrix_local``): rotation = bone axes, translation =
    bone head.
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    matrices: np.ndarray

    def __post_init__(self) -> None:
        m = np.asarray(self.matrices, dtype=np.float64)
        if m.shape != (len(self.names), 4, 4) or len(self.parents) != len(self.names):
            raise InputError(f"rest matrices must be (B,4,4) for {len(self.names)} bones")
        if any(p >= i for i, p in enumerate(self.parents)):
            raise InputError("target bones must be ordered parents first")
        object.__setattr__(self, "matrices", m)

    def index(self, bone: str) -> int:
        try:
            return self.names.index(bone)
        except ValueError:
            raise InputError(f"the armature has no bone {bone!r}") from None


@dataclass(frozen=True)
class RetargetPlan:
    """Everything precomputed for :func:`retarget_rotations`.

    bones: (N,) indices of the target bones that get keys (mapped and shared ones);
    corrections: (55,3,3) rest correction C per SMPL-X joint (armature frame; I if unmapped).
    """

    target: TargetRest
    bone_map: BoneMap
    bones: tuple[int, ...]
    corrections: np.ndarray


def child_joint(joint: str, mapped: dict[str, str]) -> str | None:
    if joint in _PREFERRED_CHILD and _PREFERRED_CHILD[joint] in mapped:
        return _PREFERRED_CHILD[joint]
    j = JOINT_INDEX[joint]
    kids = [SMPLX_JOINTS[c] for c, p in enumerate(SMPLX_PARENTS) if p == j]
    kids = [k for k in kids if k in mapped]
    return kids[0] if kids else None


def is_finger(joint: str) -> bool:
    return joint.split("_", 1)[-1].rstrip("123") in FINGERS


def plan_retarget(target: TargetRest, bone_map: BoneMap, rest_joints=None) -> RetargetPlan:
    """Rest corrections for ``bone_map`` on ``target``.

    rest_joints: (55,3) SMPL-X rest joints (Y-up metres); default the bundled rest skeleton.
    """
    rest = REST_JOINTS if rest_joints is None else np.asarray(rest_joints, dtype=np.float64)
    if rest.shape != (NUM_JOINTS, 3):
        raise InputError(f"rest joints must have shape (55,3), got {rest.shape}")
    if bone_map.auto:
        raise InputError("merge an 'auto = true' bone map with the automatic map first")
    mapped = {j: target.index(b) for j, b in bone_map.joints.items()}
    heads = target.matrices[:, :3, 3]
    corr = np.tile(np.eye(3), (NUM_JOINTS, 1, 1))
    for j, name in enumerate(SMPLX_JOINTS):  # parents come first in SMPL-X order
        parent = SMPLX_PARENTS[j]
        inherit = corr[parent] if parent >= 0 else np.eye(3)
        if name not in mapped or name in bone_map.keep_rest:
            corr[j] = inherit if name not in bone_map.keep_rest else np.eye(3)
            continue
        if is_finger(name):
            side = name.split("_", 1)[0]
            corr[j] = corr[JOINT_INDEX[f"{side}_wrist"]]
            continue
        child = child_joint(name, mapped)
        if child is None:
            corr[j] = inherit
            continue
        have = heads[mapped[child]] - heads[mapped[name]]
        want = SMPLX_TO_BLENDER @ (rest[JOINT_INDEX[child]] - rest[j])
        if np.linalg.norm(have) < 1e-6:
            raise InputError(f"bones {bone_map.joints[name]!r} and its child share a head")
        corr[j] = axis_angle_to_matrix(rotation_between(have, want))
    keyed = set(mapped.values()) | {target.index(b) for b in bone_map.follow}
    for chain in bone_map.share.values():
        keyed.update(target.index(b) for b in chain)
    return RetargetPlan(target, bone_map, tuple(sorted(keyed)), corr)


def _fractional(rot: np.ndarray, frac: float) -> np.ndarray:
    """R^frac for (T,3,3) rotations (same axis, angle scaled)."""
    return axis_angle_to_matrix(matrix_to_axis_angle(rot) * frac)


def world_deltas(plan: RetargetPlan, poses) -> np.ndarray:
    """World (armature-space) rotation of every target bone away from its rest: (T,B,3,3).

    poses: (T,55,3) SMPL-X local axis-angle.
    """
    p = np.asarray(poses, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (NUM_JOINTS, 3):
        raise InputError(f"poses must have shape (T,55,3), got {p.shape}")
    t = p.shape[0]
    _, glob = forward_kinematics(p, np.zeros((t, 3)))
    k = SMPLX_TO_BLENDER
    exact = k @ glob @ k.T @ plan.corrections  # (T,55,3,3)
    tgt = plan.target
    by_bone = {tgt.index(b): JOINT_INDEX[j] for j, b in plan.bone_map.joints.items()}
    by_bone.update({tgt.index(b): JOINT_INDEX[j] for b, j in plan.bone_map.follow.items()})
    in_chain: dict[int, tuple[int, int, tuple[int, ...]]] = {}
    for joint, chain in plan.bone_map.share.items():
        idx = tuple(tgt.index(b) for b in chain)
        for pos, b in enumerate(idx):
            in_chain[b] = (JOINT_INDEX[joint], pos, idx)
    out = np.empty((t, len(tgt.names), 3, 3))
    eye = np.broadcast_to(np.eye(3), (t, 3, 3))
    for b, parent in enumerate(tgt.parents):
        d_parent = out[:, parent] if parent >= 0 else eye
        if b in in_chain:
            joint, pos, chain = in_chain[b]
            first_parent = tgt.parents[chain[0]]
            base = out[:, first_parent] if first_parent >= 0 else eye
            rel = np.swapaxes(base, 1, 2) @ exact[:, joint]
            out[:, b] = base @ _fractional(rel, (pos + 1) / len(chain))
        elif b in by_bone:
            out[:, b] = exact[:, by_bone[b]]
        else:
            out[:, b] = d_parent
    return out


def retarget_rotations(plan: RetargetPlan, poses) -> np.ndarray:
    """Pose-bone quaternions (w,x,y,z) for ``plan.bones``: (T,N,4), continuous in time.

    poses: (T,55,3) SMPL-X local axis-angle (hands relative to the mean hand; see module doc).
    """
    d = world_deltas(plan, poses)
    rest = plan.target.matrices[:, :3, :3]
    out = []
    for b in plan.bones:
        parent = plan.target.parents[b]
        d_parent = d[:, parent] if parent >= 0 else np.eye(3)
        local = np.swapaxes(d_parent, -1, -2) @ d[:, b]
        out.append(rest[b].T @ local @ rest[b])
    q = matrix_to_quaternion(np.stack(out, axis=1))
    # keep neighbouring frames on the same hemisphere so fcurves interpolate the short way
    sign = np.ones(q.shape[:2])
    for f in range(1, q.shape[0]):
        flip = np.sum(q[f] * q[f - 1] * sign[f - 1][:, None], axis=-1) < 0
        sign[f] = np.where(flip, -1.0, 1.0)
    return q * sign[..., None]


def root_locations(
    trans, root_rest, *, policy: str = "in_place", scale: float = 1.0
) -> np.ndarray:
    """SMPL-X ``trans`` (T,3; Y-up metres) -> root pose-bone locations (T,3) in the bone's frame.

    root_rest: (4,4) or (3,3) rest matrix of the root bone (armature space).
    policy: ``in_place`` keeps only the vertical motion (bobbing, crouching) relative to the first
    frame; ``keep`` (alias ``relative``) keeps the whole path relative to the first frame;
    ``fixed`` pins the root.
    scale: target / SMPL-X size (:func:`leg_scale`: the ratio of leg lengths).
    """
    tr = np.asarray(trans, dtype=np.float64)
    if tr.ndim != 2 or tr.shape[1] != 3:
        raise InputError(f"trans must have shape (T,3), got {tr.shape}")
    if policy not in ROOT_POLICIES:
        raise InputError(f"unknown root policy {policy!r}; choose one of {ROOT_POLICIES}")
    world = (tr - tr[:1]) @ SMPLX_TO_BLENDER.T * float(scale)
    if policy == "in_place":
        world[:, :2] = 0.0
    elif policy == "fixed":
        world[:] = 0.0
    rot = np.asarray(root_rest, dtype=np.float64)[:3, :3]
    return world @ rot  # rot.T @ v for each row

