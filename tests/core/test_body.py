# SPDX-License-Identifier: GPL-3.0-or-later
"""Body stage: rest skeleton, forward kinematics and the procedural co-speech backend."""

from __future__ import annotations

import numpy as np
import pytest

from paksatalker.core import body
from paksatalker.core.body import limits, procedural
from paksatalker.core.body.procedural import beat_candidates, cue_times
from paksatalker.core.body.skeleton import FLOOR_Y, HEIGHT, REST_JOINTS, forward_kinematics
from paksatalker.core.errors import BackendError, InputError
from paksatalker.core.names import JOINT_INDEX, NUM_JOINTS, SMPLX_JOINTS, SMPLX_PARENTS
from paksatalker.core.rotations import axis_angle_to_matrix, compose_axis_angle
from paksatalker.core.settings import BodySettings
from paksatalker.core.types import Cue, Phoneme, Script, Segment, Speech, Word, frame_count

FPS = 30.0
TEXT = "we really need a bold plan to change everything in this city now"
DURATIONS = [0.18, 0.34, 0.3, 0.08, 0.36, 0.34, 0.12, 0.38, 0.5, 0.1, 0.2, 0.36, 0.35]
FUNCTION_WORDS = {"we", "a", "to", "in", "this"}
SPEECH_END = 0.3 + sum(DURATIONS)  # 3.91 s; silence follows until 6 s
J = JOINT_INDEX


def make(text=TEXT, durations=DURATIONS, cues=(), total=6.0, start=0.3):
    """A Script and a silent Speech whose words each hold one primary-stressed vowel."""
    words, phonemes = [], []
    t, pos = start, 0
    for w, d in zip(text.split(), durations):
        char = text.index(w, pos)
        pos = char + len(w)
        words.append(Word(w, t, t + d, 0, char))
        onset = min(0.06, d / 3)
        phonemes += [Phoneme("t", t, t + onset), Phoneme("a", t + onset, t + d - onset, 2),
                     Phoneme("n", t + d - onset, t + d)]
        t += d
    speech = Speech(np.zeros(int(16000 * total), np.float32), 16000, tuple(words),
                    tuple(phonemes))
    return Script((Segment(text, cues=tuple(cues)),)), speech


def run(energy=0.6, seed=0, cues=(), fps=FPS, **kw):
    script, speech = make(cues=cues, **kw)
    return body.animate(script, speech, fps, BodySettings(energy=energy, seed=seed))


def fk(track):
    return forward_kinematics(track.poses, track.trans)


def times(track):
    return np.arange(track.frames) / track.fps


def stressed_content_vowels():
    _, speech = make()
    words = [w for w in speech.words if w.text not in FUNCTION_WORDS]
    return np.array([p.start for p in speech.phonemes if p.stress == 2
                     and any(w.start <= p.start < w.end for w in words)])


# --------------------------------------------------------------------------- skeleton
def test_rest_skeleton_proportions():
    r = REST_JOINTS
    assert r.shape == (NUM_JOINTS, 3) and np.all(np.isfinite(r))
    for i, name in enumerate(SMPLX_JOINTS):  # left/right mirror images, x > 0 on the left
        if name.startswith("left_"):
            twin = r[J["right_" + name[5:]]]
            np.testing.assert_allclose(twin, r[i] * [-1, 1, 1], atol=1e-12)
            assert r[i, 0] > 0
        elif not name.startswith("right_"):
            assert r[i, 0] == 0
    y = {n: r[J[n]][1] for n in ("pelvis", "spine3", "neck", "head", "left_eye_smplhf",
                                "left_hip", "left_knee", "left_ankle", "left_foot")}
    assert y["left_foot"] < y["left_ankle"] < y["left_knee"] < y["left_hip"] < y["pelvis"]
    assert y["pelvis"] < y["spine3"] < y["neck"] < y["head"] < y["left_eye_smplhf"]
    assert FLOOR_Y < y["left_foot"] < FLOOR_Y + 0.05
    assert 0.85 * HEIGHT < y["left_eye_smplhf"] - FLOOR_Y < HEIGHT
    # T-pose: the arm is horizontal along +x
    arm = r[J["left_wrist"]] - r[J["left_shoulder"]]
    assert abs(arm[1]) < 0.03 and abs(arm[2]) < 0.03 and 0.45 < arm[0] < 0.6
    upper = np.linalg.norm(r[J["left_elbow"]] - r[J["left_shoulder"]])
    thigh = np.linalg.norm(r[J["left_knee"]] - r[J["left_hip"]])
    assert 0.24 < upper < 0.32 and 0.36 < thigh < 0.46
    # fingers point along the arm, the thumb forward (+z)
    assert np.all(r[[J[f"left_{f}3"] for f in ("index", "middle", "ring", "pinky")], 0]
                  > r[J["left_wrist"], 0] + 0.1)
    assert r[J["left_thumb3"], 2] > r[J["left_index1"], 2]


def test_forward_kinematics_rest_and_known_pose():
    poses = np.zeros((2, NUM_JOINTS, 3))
    trans = np.array([[0.0, 0.0, 0.0], [0.1, -0.2, 0.3]])
    pos, rot = forward_kinematics(poses, trans)
    np.testing.assert_allclose(pos, REST_JOINTS[None] + trans[:, None], atol=1e-12)
    np.testing.assert_allclose(rot, np.broadcast_to(np.eye(3), rot.shape), atol=1e-12)
    # left shoulder 90 deg down about -z: the whole arm hangs straight below the shoulder
    poses[:, J["left_shoulder"]] = [0.0, 0.0, -np.pi / 2]
    pos, rot = forward_kinematics(poses, trans)
    sh, wr = pos[1, J["left_shoulder"]], pos[1, J["left_wrist"]]
    length = np.linalg.norm(REST_JOINTS[J["left_wrist"]] - REST_JOINTS[J["left_shoulder"]])
    np.testing.assert_allclose(wr - sh, [0.0, -length, 0.0], atol=0.03)
    np.testing.assert_allclose(rot[1, J["left_index3"]], axis_angle_to_matrix([0, 0, -np.pi / 2]),
                               atol=1e-12)
    # global rotation is the product down the chain
    poses = np.random.default_rng(0).normal(scale=0.3, size=(1, NUM_JOINTS, 3))
    _, rot = forward_kinematics(poses, np.zeros((1, 3)))
    chain, i = np.eye(3), J["left_wrist"]
    while i >= 0:
        chain = axis_angle_to_matrix(poses[0, i]) @ chain
        i = SMPLX_PARENTS[i]
    np.testing.assert_allclose(rot[0, J["left_wrist"]], chain, atol=1e-12)


def test_forward_kinematics_rejects_bad_shapes():
    with pytest.raises(InputError):
        forward_kinematics(np.zeros((3, 52, 3)), np.zeros((3, 3)))
    with pytest.raises(InputError):
        forward_kinematics(np.zeros((3, NUM_JOINTS, 3)), np.zeros((2, 3)))


# --------------------------------------------------------------------------- stage plumbing
@pytest.mark.parametrize("fps", [30.0, 25.0, 24.0])
def test_shapes_and_frame_count(fps):
    script, speech = make()
    track = body.animate(script, speech, fps, BodySettings())
    n = frame_count(speech.duration, fps)
    assert track.frames == n and track.fps == fps
    assert track.poses.shape == (n, NUM_JOINTS, 3) and track.trans.shape == (n, 3)
    np.testing.assert_array_equal(track.betas, np.zeros(10))
    assert np.all(np.isfinite(track.poses)) and np.all(np.isfinite(track.trans))


def test_registry_dispatch_and_errors():
    assert "procedural" in body.BODY.names() and body.BODY.default == "procedural"
    script, speech = make()
    settings = BodySettings(seed=5)
    a = body.animate(script, speech, FPS, settings)
    b = procedural.animate(script, speech, FPS, settings)
    np.testing.assert_array_equal(a.poses, b.poses)
    with pytest.raises(BackendError, match="procedural"):
        body.animate(script, speech, FPS, BodySettings(backend="nope"))
    with pytest.raises(InputError):
        body.animate(script, speech, 0.0, settings)


def test_speech_without_timings_is_idle_motion():
    script = Script((Segment("hello"),))
    speech = Speech(np.zeros(8000, np.float32), 16000)
    track = body.animate(script, speech, FPS, BodySettings(energy=1.0))
    assert track.frames == frame_count(0.5, FPS) and np.all(np.isfinite(track.poses))


# --------------------------------------------------------------------------- stance
@pytest.mark.parametrize("energy, lowest", [(0.0, 0.3), (0.6, 0.03), (1.0, 0.03)])
def test_hands_stay_well_below_the_shoulders(energy, lowest):
    """Idle arms hang down; gestures bring the hands up in front of the chest, never higher."""
    for seed in (0, 1):
        pos, _ = fk(run(energy=energy, seed=seed))
        for side in ("left", "right"):
            drop = pos[:, J[f"{side}_shoulder"], 1] - pos[:, J[f"{side}_wrist"], 1]
            assert drop.min() > lowest, (side, drop.min())


def test_relaxed_stance_hands_beside_thighs():
    track = run(energy=0.0)
    pos, rot = fk(track)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        wrist, elbow = pos[:, J[f"{side}_wrist"]], pos[:, J[f"{side}_elbow"]]
        hip = pos[:, J[f"{side}_hip"]]
        assert np.all(np.abs(wrist[:, 1] - hip[:, 1]) < 0.08)  # near hip height
        assert np.all((sign * wrist[:, 0] > 0.18) & (sign * wrist[:, 0] < 0.32))  # beside thigh
        assert np.all(wrist[:, 2] > elbow[:, 2] + 0.05)  # forearm slightly forward
        shoulder_angle = np.linalg.norm(track.poses[:, J[f"{side}_shoulder"]], axis=-1)
        assert np.all((shoulder_angle > np.radians(65)) & (shoulder_angle < np.radians(80)))
        elbow_angle = np.degrees(np.linalg.norm(track.poses[:, J[f"{side}_elbow"]], axis=-1))
        assert np.all((elbow_angle > 15) & (elbow_angle < 25))
        # palm (rest normal -y) faces the thigh: toward the midline
        palm = rot[:, J[f"{side}_wrist"]] @ np.array([0.0, -1.0, 0.0])
        assert np.all(-sign * palm[:, 0] > 0.7)


# --------------------------------------------------------------------------- gestures
def wrist_speed(pos):
    """(T-1,) the faster wrist's speed in m/s."""
    v = [np.linalg.norm(np.diff(pos[:, J[f"{s}_wrist"]], axis=0), axis=1) for s in ("left",
                                                                                  "right")]
    return np.maximum(*v) * FPS


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wrists_move_more_in_speech_than_in_silence(seed):
    track = run(energy=0.6, seed=seed)
    speed = wrist_speed(fk(track)[0])
    t = times(track)[:-1]
    talking = speed[(t > 0.4) & (t < SPEECH_END)].mean()
    silent = speed[t > SPEECH_END + 0.8].mean()
    assert talking > 0.05 and talking > 8.0 * silent, (talking, silent)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_strokes_land_on_stressed_syllables(seed):
    """Every arm gesture's stroke (its fastest wrist motion) is within 100 ms of the vowel."""
    script, speech = make()
    settings = BodySettings(energy=1.0, seed=seed)
    plan = procedural.plan_gestures(script, speech, settings)
    track = body.animate(script, speech, FPS, settings)
    pos, _ = fk(track)
    t = times(track)
    vowels = np.array([p.start for p in speech.phonemes if p.stress == 2])
    strokes = 0
    for g in plan:
        assert np.abs(vowels - g.time).min() < 0.1, g  # planned on a stressed syllable
        for side in g.arms:
            speed = np.linalg.norm(np.gradient(pos[:, J[f"{side}_wrist"]], 1.0 / FPS, axis=0),
                                   axis=1)
            window = (t > g.time - 0.3) & (t < g.time + 0.1)
            peak = t[window][speed[window].argmax()]
            assert abs(peak - g.time) <= 0.1 + 0.5 / FPS, (g.kind, side, peak, g.time)
            strokes += 1
    assert strokes >= 2


def test_function_words_carry_no_beats():
    script, speech = make()
    cands = [c[0] for c in beat_candidates(script, speech)]
    content = [w for w in speech.words if w.text not in FUNCTION_WORDS]
    assert len(cands) == len(content)
    for c, w in zip(cands, content):
        assert w.start <= c < w.end
    weights = [c[1] for c in beat_candidates(script, speech)]
    assert all(0.8 <= w <= 1.25 for w in weights)
    # a sentence of function words only gets no gestures even at full energy
    text = "it is to the and of a"
    script, speech = make(text=text, durations=[0.3] * 7)
    assert procedural.plan_gestures(script, speech, BodySettings(energy=1.0)) == []
    lively = run(energy=1.0)
    idle = run(energy=1.0, text=text, durations=[0.3] * 7)
    assert arm_motion(idle) < 0.15 * arm_motion(lively)  # only rhythm and breathing


def arm_motion(track):
    """Total angular path (rad) of both arms' shoulder, elbow and wrist."""
    idx = [J[f"{s}_{j}"] for s in ("left", "right") for j in ("shoulder", "elbow", "wrist")]
    p = track.poses[:, idx]
    return np.linalg.norm(compose_axis_angle(-p[:-1], p[1:]), axis=-1).sum()


def test_energy_scales_motion():
    for seed in range(4):
        still, lively = arm_motion(run(energy=0.0, seed=seed)), arm_motion(run(energy=1.0,
                                                                              seed=seed))
        assert 0.0 < still < 0.1 * lively  # idle breathing still moves the shoulders a little
    calm, default, lively = (sum(arm_motion(run(energy=e, seed=s)) for s in range(4))
                             for e in (0.3, 0.6, 1.0))
    assert calm < default < lively


def test_seed_is_reproducible_and_matters():
    a, b, c = run(seed=7), run(seed=7), run(seed=8)
    np.testing.assert_array_equal(a.poses, b.poses)
    np.testing.assert_array_equal(a.trans, b.trans)
    assert np.abs(a.poses - c.poses).max() > 1e-2


# --------------------------------------------------------------------------- idle and limits
def test_feet_stay_planted():
    """Weight shifts move the pelvis a few cm; both feet stay put (< 1 mm) and flat."""
    track = run(energy=1.0, total=20.0)
    assert 0.01 < np.ptp(track.trans[:, 0]) < 0.06  # there are weight shifts
    assert np.ptp(track.trans[:, 2]) < 0.01
    pos, rot = fk(track)
    for j in ("left_ankle", "right_ankle", "left_foot", "right_foot"):
        assert np.abs(pos[:, J[j]] - REST_JOINTS[J[j]]).max() < 0.001, j
    for j in ("left_ankle", "right_ankle"):  # soles stay flat
        np.testing.assert_allclose(rot[:, J[j]], np.broadcast_to(np.eye(3), rot[:, 0].shape),
                                   atol=1e-6)
    knees = np.degrees(np.linalg.norm(track.poses[:, [J["left_knee"], J["right_knee"]]], axis=-1))
    assert knees.min() > 0.5 and knees.max() < 20  # soft, never locked, never squatting


def test_breathing_and_living_fingers():
    track = run(energy=0.0, total=24.0)
    chest = track.poses[:, J["spine3"], 0]
    spectrum = np.abs(np.fft.rfft(chest - chest.mean()))
    freqs = np.fft.rfftfreq(len(chest), 1.0 / FPS)
    assert 0.2 <= freqs[spectrum.argmax()] <= 0.3
    assert 0.002 < np.ptp(chest) < 0.05
    fingers = track.poses[:, J["left_index1"]:]
    assert fingers.std(axis=0).max() > 0.01
    assert np.abs(fingers).max() < 0.3  # near the relaxed mean hand


@pytest.mark.parametrize("energy", [0.0, 0.6, 1.0])
def test_smooth_bounded_and_within_limits(energy):
    for seed in (0, 1):
        track = run(energy=energy, seed=seed, cues=(Cue("shake", 20), Cue("nod", 40)))
        p = track.poses.astype(np.float64)
        step = np.linalg.norm(compose_axis_angle(-p[:-1], p[1:]), axis=-1)  # rad per frame
        assert step.max() < 0.25, step.max()  # < 7.5 rad/s at 30 fps
        assert np.abs(np.diff(p, 2, axis=0)).max() < 0.08  # no per-frame jitter
        assert not limits.violations(p).any(), limits.describe(p)
        angle = np.degrees(np.linalg.norm(p, axis=-1))
        for joint, limit in (("head", 20), ("neck", 15), ("spine3", 10), ("pelvis", 5)):
            assert angle[:, J[joint]].max() < limit, joint


# --------------------------------------------------------------------------- head and cues
def test_cue_times_follow_the_words():
    text = "yes we can do it"
    script = Script((
        Segment(text, cues=(Cue("nod", 0), Cue("tilt", 4), Cue("shake", 6), Cue("nod", 16))),
        Segment("", cues=(Cue("nod", 0),)),
        Segment("again", cues=(Cue("shake", 0),)),
    ))
    words = (Word("yes", 0.2, 0.5, 0, 0), Word("we", 0.5, 0.6, 0, 4), Word("can", 0.6, 0.9, 0, 7),
             Word("do", 0.9, 1.0, 0, 11), Word("it", 1.0, 1.2, 0, 14),
             Word("again", 2.0, 2.5, 2, 0))
    speech = Speech(np.zeros(48000, np.float32), 16000, words,
                    segment_times=((0.2, 1.2), (1.2, 1.9), (2.0, 2.5)))
    assert cue_times(script, speech) == [
        ("nod", 0.2), ("tilt", 0.5), ("shake", 0.6), ("nod", 1.2), ("nod", 1.2), ("shake", 2.0)
    ]


def head_forward(track):
    """(T,3) where the face points."""
    _, rot = fk(track)
    return rot[:, J["head"]] @ np.array([0.0, 0.0, 1.0])


@pytest.mark.parametrize("energy", [0.0, 0.6])
def test_nod_cue_dips_the_head(energy):
    char = TEXT.index("everything")
    cue_time = 0.3 + sum(DURATIONS[:8])
    plain = head_forward(run(energy=energy))[:, 1]
    nodded = head_forward(run(energy=energy, cues=(Cue("nod", char),)))[:, 1]
    t = np.arange(len(plain)) / FPS
    dip = plain - nodded  # > 0 where the face points lower
    assert abs(t[dip.argmax()] - cue_time) < 0.3
    assert dip.max() > 0.1  # ~6 deg or more
    far = np.abs(t - cue_time) > 1.0
    assert np.abs(dip[far]).max() < 1e-4


def test_shake_cue_shakes_the_head():
    cue_time = 0.3 + sum(DURATIONS[:5])
    plain = head_forward(run(cues=()))[:, 0]
    shaken = head_forward(run(cues=(Cue("shake", TEXT.index("plan")),)))[:, 0]
    t = np.arange(len(plain)) / FPS
    d = shaken - plain
    window = (t > cue_time) & (t < cue_time + 1.2)
    assert d[window].max() > 0.05 and d[window].min() < -0.05
    big = d[window][np.abs(d[window]) > 0.03]
    assert np.count_nonzero(np.diff(np.sign(big))) >= 2  # left-right-left
    assert np.abs(d[~window]).max() < 1e-6
