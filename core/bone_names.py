# SPDX-License-Identifier: GPL-3.0-or-later
"""Automatic SMPL-X joint -> bone mapping from bone names and the hierarchy (pure Python).

Recognised naming conventions (detected per rig, reported in :attr:`AutoMap.convention`):

- Mixamo, with the ``mixamorig:`` prefix or without it (Ready Player Me and the VALID /
  Rocketbox glTF avatars use the prefix-less names, with extra ``*_end`` leaves);
- VRM humanoid: the extension's bone list when given (:func:`~.gltf_rig.vrm_humanoid`), else
  VRoid's ``J_Bip_L_UpperArm`` names;
- 3ds Max Biped / Rocketbox ``Bip01 L UpperArm`` (fingers ``Finger0``=thumb .. ``Finger4``,
  segments ``Finger1``, ``Finger11``, ``Finger12``);
- Rigify deform/original bones (``DEF-``/``ORG-``, and the bare metarig names);
- the MakeHuman/MPFB rigs (default, game_engine, mixamo, cmu_mb, rigify);
- SMPL-X joint names (identity).

How it works: each name is stripped of namespaces and known prefixes, its side (left/right) is
read from the usual spellings (``Left``, ``.L``, ``_l``, ``L_``, ``UpperArmL``, ``LThumb``), and the
remaining words are looked up in an ordered alias table. The torso comes from the hierarchy: the
pelvis is the lowest common ancestor of the thighs, the chest that of the upper arms (or
collars); the bones between pelvis and chest split ``spine1..3`` and the bones between chest and
head split ``neck`` (``share`` chains). Finger segments are numbered by depth, so 3- or 4-bone
fingers and 2-bone stylised ones all work. Anything unusual goes into a TOML map file
(:func:`~.retarget.load_bone_map`), which always wins over the automatic map.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .errors import InputError
from .names import JOINT_INDEX
from .retarget import BoneMap

FINGERS = ("thumb", "index", "middle", "ring", "pinky")
TORSO_KEEP_REST = ("pelvis", "spine1", "spine2", "spine3", "neck", "head",
                   "left_eye_smplhf", "right_eye_smplhf", "jaw")
"""Joints whose rest orientation is taken as SMPL-X's (their segments are alike in any rig)."""

# side-dependent parts -> ordered word aliases (earlier wins when several bones match)
_SIDED: dict[str, tuple[str, ...]] = {
    "hip": ("upleg", "upperleg", "thigh", "hip", "femur"),
    "knee": ("leg", "lowerleg", "shin", "calf", "knee", "loleg", "lowleg"),
    "ankle": ("foot", "ankle"),
    "foot": ("toebase", "toe", "ball", "toes"),
    "collar": ("clavicle", "collar", "shoulder"),
    "shoulder": ("arm", "upperarm", "uparm", "humerus"),
    "elbow": ("forearm", "lowerarm", "elbow", "loarm", "lowarm"),
    "wrist": ("hand", "wrist", "palm"),
    "eye_smplhf": ("eye", "faceeye", "eyeball"),
}
_FINGER_WORDS = {
    "thumb": "thumb", "index": "index", "middle": "middle", "ring": "ring", "pinky": "pinky",
    "little": "pinky", "pinkie": "pinky", "mid": "middle",
}
_PREFIXES = ("def-", "org-", "j_bip_", "j_adj_", "bip01 ", "bip01_", "bip001 ", "bip001_",
             "cc_base_")
_SKIP_PREFIXES = ("mch-", "vis_", "wgt-", "j_sec_", "ik_", "ctrl")
_LEAF_WORDS = {"end", "nub", "tip", "top", "headtop"}
_VRM_SIDED = {
    "UpperLeg": "hip", "LowerLeg": "knee", "Foot": "ankle", "Toes": "foot", "Shoulder": "collar",
    "UpperArm": "shoulder", "LowerArm": "elbow", "Hand": "wrist", "Eye": "eye_smplhf",
}
_VRM_FINGERS = {"Thumb": "thumb", "Index": "index", "Middle": "middle", "Ring": "ring",
                "Little": "pinky"}


_SIDE_RULES: tuple[tuple[re.Pattern, bool], ...] = (
    (re.compile(r"^(left|right)[ _.\-]?", re.IGNORECASE), False),  # LeftArm, left_hip
    (re.compile(r"^([LRlr])[ _.\-]"), False),  # L UpperArm (Biped), L_UpperArm (VRoid)
    (re.compile(r"[ _.\-]([LRlr])((?:\.\d+)?)$"), True),  # hand.L, thigh_l, upper_arm.L.001
    (re.compile(r"[ _.\-]([LRlr])[ _.\-]"), False),  # arm_joint_L_2
    (re.compile(r"(?<=[a-z0-9])([LR])$"), False),  # UpperArmL
    (re.compile(r"^([LR])(?=[A-Z])"), False),  # LThumb (CMU)
    (re.compile(r"(?<=[a-z])(Left|Right)(?=[A-Z\d]|$)"), False),  # HandLeft
)


def _split_side(base: str) -> tuple[str, str]:
    """(side, name without the side marker); side is "left", "right" or ""."""
    centre = re.match(r"^[Cc][ _]", base)  # VRoid's J_Bip_C_Head
    if centre:
        return "", base[centre.end():]
    for pattern, keep_suffix in _SIDE_RULES:
        m = pattern.search(base)
        if m:
            side = "left" if m.group(1)[0] in "Ll" else "right"
            tail = m.group(2) if keep_suffix else ""
            return side, f"{base[:m.start()]} {tail} {base[m.end():]}"
    return "", base



@dataclass(frozen=True)
class ParsedName:
    """A bone name split into side ("left", "right" or ""), words (lower case, no digits) and
    numbers (the digit groups, in order)."""

    side: str
    words: str
    numbers: tuple[str, ...]
    rank: int
    """0 for deform bones (``DEF-``), 1 for ``ORG-``, 2 otherwise."""


def parse_name(name: str) -> ParsedName | None:
    """Split a bone name; None for helper/control bones (``MCH-``, ``*_end`` leaves...)."""
    base = name.rsplit(":", 1)[-1].strip()
    low = base.lower()
    if low.startswith(_SKIP_PREFIXES):
        return None
    rank = 0 if low.startswith("def-") else 1 if low.startswith("org-") else 2
    for prefix in _PREFIXES:
        if low.startswith(prefix):
            base = base[len(prefix):]
            break
    side, base = _split_side(base)
    tokens = [t.lower() for t in re.split(r"[^A-Za-z0-9]+|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])",
                                          base) if t]
    words = "".join(t for t in tokens if not t.isdigit())
    numbers = tuple(t for t in tokens if t.isdigit())
    if words in _LEAF_WORDS or words.endswith(("end", "nub")) and len(words) > 3:
        return None
    return ParsedName(side, words, numbers, rank)


@dataclass(frozen=True)
class AutoMap:
    """The result of :func:`auto_map`.

    joints: SMPL-X joint -> bone; share: joint -> bone chain (parent first); follow: bone ->
    SMPL-X joint whose world rotation it copies (e.g. a palm bone beside the mapped one);
    unmapped: bones that just follow their parent; missing: humanoid parts not found (empty
    for a humanoid rig); convention: the naming convention recognised.
    """

    joints: dict[str, str]
    share: dict[str, tuple[str, ...]] = field(default_factory=dict)
    follow: dict[str, str] = field(default_factory=dict)
    unmapped: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    convention: str = "custom"

    @property
    def is_humanoid(self) -> bool:
        return not self.missing

    def bone_map(self) -> BoneMap:
        keep = frozenset(j for j in TORSO_KEEP_REST if j in self.joints)
        return BoneMap(dict(self.joints), dict(self.share), keep, dict(self.follow))

    def report(self) -> str:
        """One line: convention, how many joints mapped, what is missing, unmapped bones."""
        fingers = sum(1 for j in self.joints if any(f in j for f in FINGERS))
        text = (f"{self.convention} rig: {len(self.joints)} SMPL-X joints mapped "
                f"({fingers} finger joints)")
        if self.missing:
            text += f"; missing {', '.join(self.missing)}"
        if self.unmapped:
            shown = ", ".join(self.unmapped[:8]) + (" ..." if len(self.unmapped) > 8 else "")
            text += f"; {len(self.unmapped)} bones follow their parent ({shown})"
        return text


REQUIRED_PARTS: dict[str, tuple[str, ...]] = {
    "pelvis": ("pelvis",),
    "spine": ("spine1", "spine2", "spine3"),
    "head": ("head",),
    "left arm": ("left_shoulder", "left_elbow"),
    "right arm": ("right_shoulder", "right_elbow"),
    "left leg": ("left_hip", "left_knee"),
    "right leg": ("right_hip", "right_knee"),
}
"""Humanoid parts: a part is present when all of its joints (any one, for the spine) map.
Hands, feet, fingers, neck and eyes are optional (stylised rigs lack them)."""


def missing_parts(joints: dict[str, str]) -> tuple[str, ...]:
    """Names of the :data:`REQUIRED_PARTS` that ``joints`` lacks."""
    out = []
    for part, needed in REQUIRED_PARTS.items():
        ok = any(j in joints for j in needed) if part == "spine" else all(
            j in joints for j in needed)
        if not ok:
            out.append(part)
    return tuple(out)


class _Tree:
    def __init__(self, names: Sequence[str], parents: Sequence[str | None]) -> None:
        if len(names) != len(parents):
            raise InputError("bone names and parents must have the same length")
        self.names = list(names)
        self.parent = {n: (p or None) for n, p in zip(names, parents, strict=True)}
        self.children: dict[str, list[str]] = {n: [] for n in names}
        for n, p in self.parent.items():
            if p is not None and p in self.children:
                self.children[p].append(n)

    def ancestors(self, name: str) -> list[str]:
        """name, its parent, ... up to the root."""
        out = []
        while name is not None and name not in out:
            out.append(name)
            name = self.parent.get(name)
        return out

    def depth(self, name: str) -> int:
        return len(self.ancestors(name))

    def lca(self, a: str, b: str) -> str | None:
        up = set(self.ancestors(a))
        return next((n for n in self.ancestors(b) if n in up), None)


def auto_map(names: Sequence[str], parents: Sequence[str | None], *,
             vrm: dict[str, str] | None = None) -> AutoMap:
    """Map SMPL-X joints onto a rig given its bone ``names`` and their ``parents`` (names or
    None). ``vrm``: VRM humanoid bone -> bone name (:func:`~.gltf_rig.vrm_humanoid`), used
    first."""
    tree = _Tree(names, parents)
    if vrm:
        joints, convention = _from_vrm(vrm, tree), "VRM humanoid"
    elif sum(n in JOINT_INDEX for n in names) >= 20:
        joints, convention = {n: n for n in names if n in JOINT_INDEX}, "SMPL-X"
    else:
        joints, convention = _from_names(tree), _convention(names)
    share: dict[str, tuple[str, ...]] = {}
    if not vrm and convention != "SMPL-X":
        _torso(tree, joints, share)
    follow = _palms(tree, joints)
    used = set(joints.values()) | {b for c in share.values() for b in c} | set(follow)
    unmapped = tuple(n for n in names if n not in used and parse_name(n) is not None)
    return AutoMap(joints, share, follow, unmapped, missing_parts(joints), convention)


def _convention(names: Sequence[str]) -> str:
    low = [n.lower() for n in names]
    checks = (
        ("Mixamo", lambda: any(n.startswith("mixamorig") for n in low)),
        ("Rigify", lambda: any(n.startswith(("def-", "org-")) for n in low)
         or "upper_arm.l" in low),
        ("Rocketbox/Biped", lambda: any(n.startswith(("bip01", "bip001")) for n in low)),
        ("VRoid", lambda: any(n.startswith("j_bip_") for n in low)),
        ("MakeHuman", lambda: "upperarm01.l" in low),
        ("Unreal/game engine", lambda: "upperarm_l" in low and "calf_l" in low),
        ("CMU", lambda: "lhipjoint" in low),
        ("Mixamo/Ready Player Me (no prefix)", lambda: "leftforearm" in low),
    )
    return next((label for label, test in checks if test()), "generic")


def _from_names(tree: _Tree) -> dict[str, str]:
    """Try deform (DEF-), original (ORG-) and plain bones; keep the most complete map."""
    parsed = {n: parse_name(n) for n in tree.names}
    ranks = sorted({p.rank for p in parsed.values() if p is not None})
    maps = [_names_of_rank(tree, parsed, r) for r in ranks] or [{}]
    return min(maps, key=lambda j: (len(missing_parts(j)), -len(j)))


def _names_of_rank(tree: _Tree, parsed: dict[str, ParsedName | None], best_rank: int
                   ) -> dict[str, str]:
    biped = any(n.lower().startswith(("bip01", "bip001")) for n in tree.names)
    cands: dict[str, list[tuple[tuple, str]]] = {}
    for name, p in parsed.items():
        if p is None or p.rank != best_rank:
            continue
        if p.side:
            finger = _finger_of(p, biped)
            if finger:
                cands.setdefault(f"{p.side}_{finger}", []).append(((tree.depth(name),), name))
                continue
            for part, aliases in _SIDED.items():
                if p.words in aliases:
                    num = int(p.numbers[-1]) if p.numbers else 0
                    key = (aliases.index(p.words), num, tree.depth(name))
                    cands.setdefault(f"{p.side}_{part}", []).append((key, name))
        elif p.words == "head" and not p.numbers:
            cands.setdefault("head", []).append(((tree.depth(name),), name))
        elif p.words == "jaw":
            cands.setdefault("jaw", []).append(((tree.depth(name),), name))
    joints: dict[str, str] = {}
    for slot, found in cands.items():
        found.sort()
        if any(slot.endswith(f) for f in FINGERS):
            for seg, (_, bone) in enumerate(found[:3], start=1):
                joints[f"{slot}{seg}"] = bone
        elif slot.endswith("_foot") and len({k[0][:2] for k in found}) < len(found):
            continue  # several toes at the same level (MakeHuman): leave them to the foot
        else:
            joints[slot] = found[0][1]
    _drop_misplaced(tree, joints)
    return joints


def _finger_of(p: ParsedName, biped: bool) -> str | None:
    for word, finger in _FINGER_WORDS.items():
        if p.words.endswith(word) or p.words.startswith(("f" + word, word)):
            return finger
    if p.words == "finger" and p.numbers:
        digit = int(p.numbers[0][0]) if biped else int(p.numbers[0])
        if biped and 0 <= digit <= 4:
            return FINGERS[digit]
        if not biped and 1 <= digit <= 5:  # MakeHuman numbers from the thumb
            return FINGERS[digit - 1]
    return None


def _drop_misplaced(tree: _Tree, joints: dict[str, str]) -> None:
    """Drop limb bones that do not descend from the bone mapped above them (e.g. a 'Hand'
    control bone outside the arm)."""
    chains = [("collar", "shoulder", "elbow", "wrist"), ("hip", "knee")]
    for side in ("left", "right"):
        for chain in chains:
            for upper, lower in zip(chain, chain[1:], strict=False):
                a, b = joints.get(f"{side}_{upper}"), joints.get(f"{side}_{lower}")
                if a and b and a not in tree.ancestors(b):
                    joints.pop(f"{side}_{lower}")


def _torso(tree: _Tree, joints: dict[str, str], share: dict[str, tuple[str, ...]]) -> None:
    lh, rh = joints.get("left_hip"), joints.get("right_hip")
    pelvis = tree.lca(lh, rh) if lh and rh else None
    if pelvis is None:
        return
    joints["pelvis"] = pelvis
    arms = [joints.get(f"{s}_{p}") for p in ("collar", "shoulder") for s in ("left", "right")]
    pair = arms[:2] if all(arms[:2]) else arms[2:]
    chest = tree.lca(*pair) if all(pair) else None
    head = joints.get("head")
    if chest is None or pelvis not in tree.ancestors(chest) or chest == pelvis:
        return
    if head is None:
        head = _numbered_top(tree, chest)
        if head is None:
            return
        joints["head"] = head
    path = tree.ancestors(head)
    if chest not in path or pelvis not in path:
        return
    chain = list(reversed(path[1:path.index(pelvis)]))  # pelvis (excl.) .. head (excl.)
    spine = chain[:chain.index(chest) + 1]
    neck = chain[chain.index(chest) + 1:]
    slots = {1: ["spine3"], 2: ["spine1", "spine3"]}.get(len(spine), ["spine1", "spine2",
                                                                        "spine3"])
    groups = _split(spine, len(slots))
    for joint, group in zip(slots, groups, strict=True):
        joints[joint] = group[-1]
        if len(group) > 1:
            share[joint] = tuple(group)
    if neck:
        joints["neck"] = neck[-1]
        if len(neck) > 1:
            share["neck"] = tuple(neck)


def _split(items: list[str], parts: int) -> list[list[str]]:
    """Contiguous, nearly even groups, the later groups one longer when uneven."""
    size, extra = divmod(len(items), parts)
    out, at = [], 0
    for k in range(parts):
        n = size + (1 if k >= parts - extra else 0)
        out.append(items[at:at + n])
        at += n
    return out


def _numbered_top(tree: _Tree, chest: str) -> str | None:
    """Rigify-style torso (``spine.004``..``spine.006``): the last bone of the chest's chain."""
    word = parse_name(chest)
    if word is None:
        return None
    node, top = chest, None
    while True:
        kids = [k for k in tree.children.get(node, ())
                if (p := parse_name(k)) is not None and p.words == word.words and not p.side]
        if len(kids) != 1:
            return top
        node = top = kids[0]


def _palms(tree: _Tree, joints: dict[str, str]) -> dict[str, str]:
    """Stylised hands made of 'palm' bones: the palm carrying the middle finger becomes the
    wrist, its sibling palms copy the wrist's rotation."""
    follow = {}
    for side in ("left", "right"):
        wrist = joints.get(f"{side}_wrist")
        p = parse_name(wrist) if wrist else None
        if p is None or p.words != "palm":
            continue
        middle = joints.get(f"{side}_middle1")
        if middle is not None:
            carrier = next((a for a in tree.ancestors(middle)[1:]
                            if (q := parse_name(a)) is not None and q.words == "palm"), None)
            if carrier is not None and tree.parent.get(carrier) == tree.parent.get(wrist):
                joints[f"{side}_wrist"] = wrist = carrier
        for sib in tree.children.get(tree.parent.get(wrist) or "", ()):
            q = parse_name(sib)
            if sib != wrist and q is not None and q.words == "palm" and q.side == p.side:
                follow[sib] = f"{side}_wrist"
    return follow


def _from_vrm(vrm: dict[str, str], tree: _Tree) -> dict[str, str]:
    v1 = any(k.endswith("ThumbMetacarpal") for k in vrm)
    joints: dict[str, str] = {}

    def put(joint: str, vrm_bone: str) -> None:
        if vrm_bone in vrm and vrm[vrm_bone] in tree.parent:
            joints[joint] = vrm[vrm_bone]

    for joint, bone in (("pelvis", "hips"), ("neck", "neck"), ("head", "head"), ("jaw", "jaw"),
                        ("spine1", "spine")):
        put(joint, bone)
    if "upperChest" in vrm:
        put("spine2", "chest")
        put("spine3", "upperChest")
    else:
        put("spine3", "chest")
    segs = ("Metacarpal", "Proximal", "Distal") if v1 else ("Proximal", "Intermediate", "Distal")
    for side in ("left", "right"):
        for part, joint in _VRM_SIDED.items():
            put(f"{side}_{joint}", f"{side}{part}")
        for vname, finger in _VRM_FINGERS.items():
            these = segs if vname == "Thumb" else ("Proximal", "Intermediate", "Distal")
            for k, seg in enumerate(these, start=1):
                put(f"{side}_{finger}{k}", f"{side}{vname}{seg}")
    return joints
