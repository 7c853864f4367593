# SPDX-License-Identifier: GPL-3.0-or-later
"""Procedural body: every gesture kind on its cue and its word, shapes, styles, limits, contact."""

from __future__ import annotations

import numpy as np
import pytest

from paksatalker.core.body import collision, gestures, hands, limits, poses, procedural, rhythm
from paksatalker.core.body.lexicon import HEAD_KINDS, KINDS, cue_gesture, word_gesture
from paksatalker.core.body.skeleton import REST_JOINTS, forward_kinematics
from paksatalker.core.names import JOINT_INDEX
from paksatalker.core.rotations import compose_axis_angle
from paksatalker.core.settings import BodySettings
from paksatalker.core.types import Cue, Phoneme, Script, Segment, Speech, Word

FPS = 30.0
J = JOINT_INDEX
TEXT = "so today we talk about the plan and then we finish"
TARGET = "plan"  # cues go before this word


def make(text=TEXT, cues=(), emotion="neutral", total=5.0, dur=0.3):
    """Script + silent Speech; each word one stressed vowel 60 ms after its start."""
    words, phonemes, t, pos = [], [], 0.3, 0
    for w in text.split():
        char = text.index(w, pos)
        pos = char + len(w)
        words.append(Word(w, t, t + dur, 0, char))
        phonemes += [Phoneme("t", t, t + 0.06), Phoneme("a", t + 0.06, t + dur - 0.06, 2),
                     Phoneme("n", t + dur - 0.06, t + dur)]
        t += dur
    speech = Speech(np.zeros(int(16000 * total), np.float32), 16000, tuple(words),
                    tuple(phonemes))
    return Script((Segment(text, emotion=emotion, cues=tuple(cues)),)), speech


def word_time(speech, word):
    w = next(w for w in speech.words if w.text == word)
    return w.start + 0.06 + 0.06  # stressed vowel onset + 60 ms (see procedural)


def cue(name, *args, word=TARGET, text=TEXT):
    return Cue(name, text.index(word), tuple(args))


def animate(script, speech, **kw):
    settings = BodySettings(**kw)
    return procedural.plan_gestures(script, speech, settings), procedural.animate(
        script, speech, FPS, settings)


def fk(track):
    return forward_kinematics(track.poses, track.trans)


def frame(t):
    return int(round(t * FPS))


ARM_KINDS = [k for k in KINDS if k not in HEAD_KINDS]
CUE_ARGS = {"point": ("left",), "count": ("3",)}


# --------------------------------------------------------------------------- cues and words
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_fires_on_its_cue(kind):
    """At energy 0 only the cue plays: on the word it precedes, and the body visibly moves."""
    args = CUE_ARGS.get(kind, ())
    script, speech = make(cues=(cue(kind, *args),))
    plan, track = animate(script, speech, energy=0.0)
    assert [g.kind for g in plan] == [kind]
    assert abs(plan[0].time - word_time(speech, TARGET)) < 0.1 and plan[0].forced
    base_script, _ = make()
    plain = procedural.animate(base_script, speech, FPS, BodySettings(energy=0.0))
    pos, plain_pos = fk(track)[0], fk(plain)[0]
    near = slice(frame(plan[0].time - 0.4), frame(plan[0].end + 0.3))
    joints = ([J["left_eye_smplhf"]] if kind in HEAD_KINDS
              else [J["left_wrist"], J["right_wrist"]])
    moved = np.linalg.norm(pos[near][:, joints] - plain_pos[near][:, joints], axis=-1).max()
    assert moved > (0.006 if kind in HEAD_KINDS else 0.08), moved
    far = slice(frame(plan[0].end + 1.6), None)
    np.testing.assert_allclose(pos[far], plain_pos[far], atol=1e-4)


@pytest.mark.parametrize("word, kind", [
    ("I", "self"), ("you", "you"), ("there", "point"), ("this", "point"), ("big", "big"),
    ("small", "small"), ("up", "up"), ("down", "down"), ("many", "many"),
    ("together", "together"), ("no", "no"), ("maybe", "maybe"), ("hello", "wave"),
    ("three", "count"), ("please", "open"), ("think", "think"),
])
def test_lexicon_words_fire_their_gesture(word, kind):
    text = f"so today {word} is the answer"
    script, speech = make(text=text)
    plan, _ = animate(script, speech, energy=1.0, gesture_rate=3.0)
    hits = [g for g in plan if g.kind == kind]
    assert hits and abs(hits[0].time - word_time(speech, word)) < 0.1, plan


def test_cue_parsing_and_unknown_cues():
    assert cue_gesture("point", ("left",)) == ("point", ("left",))
    assert cue_gesture("points", ("at", "me")) == ("self", ())
    assert cue_gesture("count", ("three",)) == ("count", ("3",))
    assert cue_gesture("count", ("9",)) == ("count", ("5",))
    assert cue_gesture("shakes", ("head",))[0] == "shake"
    assert cue_gesture("dance") is None
    assert word_gesture("Everything,") == ("big", ())
    assert word_gesture("groß", "de") is None
    script, speech = make(cues=(cue("dance"),))
    assert procedural.plan_gestures(script, speech, BodySettings(energy=0.0)) == []


# --------------------------------------------------------------------------- shapes
def hold_frame(plan):
    g = plan[0]
    return frame(g.time + gestures.HIT_LAG + 0.6 * g.hold)


def test_pointing_goes_where_it_is_told():
    for side, sign in (("left", 1.0), ("right", -1.0)):
        script, speech = make(cues=(cue("point", side),))
        plan, track = animate(script, speech, energy=0.0)
        pos, _ = fk(track)
        f = hold_frame(plan)
        assert plan[0].arms == (side,)
        assert sign * pos[f, J[f"{side}_wrist"], 0] > 0.45
        wrist = pos[f, J[f"{side}_wrist"]]
        tip = np.linalg.norm(pos[f, J[f"{side}_index3"]] - wrist)
        curled = np.linalg.norm(pos[f, J[f"{side}_middle3"]] - wrist)
        assert tip > curled + 0.02  # index out, the others folded
    script, speech = make(cues=(cue("point", "up"),))
    plan, track = animate(script, speech, energy=0.0)
    pos, _ = fk(track)
    side = plan[0].arms[0]
    assert pos[hold_frame(plan), J[f"{side}_wrist"], 1] > pos[0, J[f"{side}_shoulder"], 1]


def test_wave_is_raised_and_oscillates():
    script, speech = make(cues=(cue("wave"),))
    plan, track = animate(script, speech, energy=0.0, handedness="right")
    pos, _ = fk(track)
    g = plan[0]
    hold = slice(frame(g.time + 0.2), frame(g.end - 0.1))
    wrist = pos[hold, J["right_wrist"]]
    assert np.all(wrist[:, 1] > pos[hold, J["right_shoulder"], 1])
    vx = np.diff(wrist[:, 0])
    assert np.count_nonzero(np.diff(np.sign(vx[np.abs(vx) > 1e-4]))) >= 3


def test_count_extends_that_many_fingers():
    for n in (1, 2, 3, 4, 5):
        pose = hands.shape("count", (str(n),))
        curl = {f: -pose[3 * i, 2] for i, f in enumerate(hands.FINGERS)}  # knuckle flexion
        out = [f for f in ("index", "middle", "ring", "pinky", "thumb")
               if curl[f] < 0.0]
        assert out == ["index", "middle", "ring", "pinky", "thumb"][:n]
    np.testing.assert_allclose(hands.mirror(hands.shape("open"))[:, 0],
                               hands.shape("open")[:, 0])


def test_open_palm_to_you_faces_up_and_two_hands_come_together():
    script, speech = make(cues=(cue("you"),))
    plan, track = animate(script, speech, energy=0.0)
    _, rot = fk(track)
    side = plan[0].arms[0]
    palm = rot[hold_frame(plan), J[f"{side}_wrist"]] @ np.array([0.0, -1.0, 0.0])
    assert palm[1] > 0.7  # palm up
    gaps = {}
    for kind in ("together", "big"):
        script, speech = make(cues=(cue(kind),))
        plan, track = animate(script, speech, energy=0.0)
        pos, _ = fk(track)
        f = hold_frame(plan)
        gaps[kind] = np.linalg.norm(pos[f, J["left_wrist"]] - pos[f, J["right_wrist"]])
    assert gaps["together"] < 0.3 < 0.7 < gaps["big"]


def test_shrug_lifts_both_shoulders_and_think_brings_a_hand_to_the_chin():
    script, speech = make(cues=(cue("shrug"),))
    plan, track = animate(script, speech, energy=0.0)
    pos, _ = fk(track)
    f = frame(plan[0].time + 0.2)
    for side in ("left", "right"):
        assert pos[f, J[f"{side}_shoulder"], 1] > pos[0, J[f"{side}_shoulder"], 1] + 0.015
    script, speech = make(cues=(cue("think"),))
    plan, track = animate(script, speech, energy=0.0)
    pos, _ = fk(track)
    side = plan[0].arms[0]
    f = hold_frame(plan)
    assert np.linalg.norm(pos[f, J[f"{side}_index2"]] - pos[f, J["jaw"]]) < 0.2


# --------------------------------------------------------------------------- control
def arm_motion(track, side=None):
    sides = (side,) if side else ("left", "right")
    idx = [J[f"{s}_{j}"] for s in sides for j in ("shoulder", "elbow", "wrist")]
    p = track.poses[:, idx].astype(np.float64)
    return np.linalg.norm(compose_axis_angle(-p[:-1], p[1:]), axis=-1).sum()


LONG = ("we really need a bold plan to change every street in this city now because people "
        "want safe roads clean air and quiet parks for children")


def test_handedness_and_styles_and_emotions():
    script, speech = make(text=LONG, total=9.0)
    tracks = [animate(script, speech, energy=0.6, seed=s, handedness="left")[1]
              for s in range(4)]
    left, right = (sum(arm_motion(tr, side) for tr in tracks) for side in ("left", "right"))
    assert left > 1.2 * right
    motion = {st: sum(arm_motion(animate(script, speech, style=st, seed=s)[1]) for s in range(3))
              for st in ("professional", "excited")}
    assert motion["excited"] > 1.3 * motion["professional"]
    by_emotion = {}
    for emotion in ("sad", "happy"):
        sc, sp = make(text=LONG, total=9.0, emotion=emotion)
        by_emotion[emotion] = sum(arm_motion(animate(sc, sp, seed=s)[1]) for s in range(3))
    assert by_emotion["happy"] > 1.5 * by_emotion["sad"]
    rate = {r: len(animate(script, speech, gesture_rate=r)[0]) for r in (0.3, 2.0)}
    assert rate[2.0] > rate[0.3]


@pytest.mark.parametrize("style", ["professional", "casual", "lecturer", "excited"])
def test_same_seed_same_motion(style):
    script, speech = make(cues=(cue("wave"),))
    a = animate(script, speech, style=style, seed=3)[1]
    b = animate(script, speech, style=style, seed=3)[1]
    np.testing.assert_array_equal(a.poses, b.poses)
    np.testing.assert_array_equal(a.trans, b.trans)


ALL_CUES = tuple(Cue(k, LONG.index(w), CUE_ARGS.get(k, ())) for k, w in zip(
    ARM_KINDS, ["need", "bold", "plan", "change", "every", "street", "city", "now", "because",
                "people", "want", "safe", "roads", "clean", "air", "quiet", "parks"], strict=False))


@pytest.mark.parametrize("style, hand", [("casual", "right"), ("excited", "both"),
                                         ("lecturer", "left")])
def test_limits_contact_and_planted_feet_under_every_gesture(style, hand):
    """Every kind of gesture, lively: no joint past its limit, no arm inside the body or head,
    feet within 1 mm of where they stand."""
    script, speech = make(text=LONG, cues=ALL_CUES, total=10.0)
    for seed in (0, 1):
        _, track = animate(script, speech, energy=1.0, seed=seed, style=style, handedness=hand,
                           amplitude=1.6)
        p = track.poses.astype(np.float64)
        assert not limits.violations(p).any(), limits.describe(p)
        pen = collision.penetration(p, track.trans.astype(np.float64))
        assert max(pen["left"].max(), pen["right"].max()) < 0.004
        pos, _ = fk(track)
        for j in ("left_ankle", "right_ankle", "left_foot", "right_foot"):
            assert np.abs(pos[:, J[j]] - REST_JOINTS[J[j]]).max() < 0.001, j


def test_limits_clamp_and_count():
    poses = np.zeros((2, 55, 3))
    poses[0, J["left_elbow"], 1] = 0.5  # hyperextension (left flexion is -y)
    poses[1, J["right_knee"], 0] = -0.6  # a knee bent forwards
    v = limits.violations(poses)
    assert v[0, J["left_elbow"]] and v[1, J["right_knee"]] and v.sum() == 2
    assert limits.describe(poses) == {"right_knee": 1, "left_elbow": 1}
    assert not limits.violations(limits.clamp(poses)).any()
    assert not limits.violations(np.zeros((1, 55, 3))).any()


def test_segment_distance():
    p0, p1 = np.array([0.0, 0, 0]), np.array([1.0, 0, 0])
    assert collision.segment_distance(p0, p1, np.array([0.5, 1, 0]),
                                      np.array([0.5, 2, 0])) == pytest.approx(1.0)
    assert collision.segment_distance(p0, p1, np.array([2.0, 0, 1]),
                                      np.array([3.0, 0, 1])) == pytest.approx(np.sqrt(2))
    assert collision.segment_distance(p0, p1, np.array([0.2, -1, 0]),
                                      np.array([0.2, 1, 0])) == pytest.approx(0.0)


# --------------------------------------------------------------------------- gesture units
def wrist_lift(track, plain, side):
    """(T,) how far above its plain (no-gesture) height a wrist is, metres."""
    return fk(track)[0][:, J[f"{side}_wrist"], 1] - fk(plain)[0][:, J[f"{side}_wrist"], 1]


def test_gestures_of_a_unit_wait_at_home_and_the_free_hand_keeps_company():
    """Two gestures ~3.6 s apart form one unit: between them the hand waits up in gesture
    space; ~6.6 s apart the hand goes back to rest in between. While the right hand gestures,
    the free left hand comes up to its home pose; after the unit both hang at rest again."""
    words = LONG.split()
    script0, speech = make(text=LONG, total=10.0)
    plain = procedural.animate(script0, speech, FPS, BodySettings(energy=0.0))
    t = np.arange(plain.frames) / FPS

    def run(second):
        cues = (cue("you", text=LONG, word="need"), cue("you", text=LONG, word=second))
        script, _ = make(text=LONG, cues=cues, total=10.0)
        plan, track = animate(script, speech, energy=0.0, handedness="right")
        assert [g.arms for g in plan] == [("right",), ("right",)]
        return plan, track

    plan, track = run("because")  # strokes 3.6 s apart
    gap = (t > plan[0].end + 0.6) & (t < plan[1].start - 0.1)
    assert gap.sum() > 15
    right, left = wrist_lift(track, plain, "right"), wrist_lift(track, plain, "left")
    assert right[gap].min() > 0.08, right[gap].min()  # waits at home, well above rest
    assert left[gap].min() > 0.08, left[gap].min()  # the free hand keeps it company
    after = t > plan[1].end + 1.5
    assert np.abs(right[after]).max() < 0.01 and np.abs(left[after]).max() < 0.01

    plan, track = run(words[-1])  # strokes ~6.6 s apart: two units
    gap = (t > plan[0].end + 1.2) & (t < plan[1].start - 0.3)
    assert gap.sum() > 15
    right = wrist_lift(track, plain, "right")
    assert np.abs(right[gap]).max() < 0.01  # back at rest in between


def test_arm_loops_are_mirror_images_and_never_stop():
    """The rhythm loops of an arm waiting at home: the right is the mirror of the left, and the
    wrist keeps moving through the slow-downs (speed minima above 0.3 x its mean, which beat
    consistency needs)."""
    _, speech = make(text=LONG, total=9.0)
    n = 240
    t = np.arange(n) / FPS
    p, trans = np.zeros((n, 55, 3)), np.zeros((n, 3))
    home = poses.home_key()
    for side, k in (("left", home), ("right", poses.mirror(home))):
        p[:, [J[f"{side}_{j}"] for j in poses.ARM_JOINTS]] = k[:4]
    before = p.copy()
    rhythm.add_rhythm(p, trans, speech, t, np.ones(n), 1.0)
    for j in ("collar", "shoulder", "elbow"):
        np.testing.assert_allclose(p[:, J[f"right_{j}"]] - before[:, J[f"right_{j}"]],
                                   hands.mirror(p[:, J[f"left_{j}"]] - before[:, J[f"left_{j}"]]),
                                   atol=1e-12)
    pos, _ = forward_kinematics(p, trans)
    for side in ("left", "right"):
        speed = np.linalg.norm(np.gradient(pos[:, J[f"{side}_wrist"]], 1.0 / FPS, axis=0), axis=1)
        assert np.ptp(pos[:, J[f"{side}_wrist"], 1]) > 0.02  # visible loops
        assert speed[15:-15].min() > 0.3 * speed.mean(), (side, speed.min(), speed.mean())
