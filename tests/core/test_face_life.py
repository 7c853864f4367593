# SPDX-License-Identifier: GPL-3.0-or-later
"""The life layer (blinks, gaze, micro-expressions, breathing, asymmetry), prosody and head
motion, the face sliders and seeds."""

from __future__ import annotations

import numpy as np
import pytest

from paksatalker.core.errors import InputError
from paksatalker.core.face import animate, life
from paksatalker.core.face.prosody import analyse, head_motion
from paksatalker.core.names import ARKIT_INDEX as A
from paksatalker.core.settings import FACE_RANGES, FaceSettings, SpeechSettings
from paksatalker.core.speech import synthesize
from paksatalker.core.types import Phoneme, Script, Segment, Speech, Word

SR = 16000
SCRIPT = Script((Segment("test"),))
TEXT = ("Good morning. Today I want to show you something new. It took us a long time to "
        "build. Are you ready? Then let us begin with the first part, which is the face. "
        "Watch the eyes, the brows and the mouth. Every detail matters to us. "
        "Thank you for watching, and see you soon.")


def long_speech(seconds: float) -> Speech:
    """CV syllables in words (silent audio), a 0.4 s pause after every seventh syllable."""
    cons, vows = ["p", "t", "k", "s", "m", "n", "l", "f", "tʃ"], ["a", "i", "u", "e", "o", "aɪ"]
    phs, words, t, k = [], [], 0.5, 0
    while t < seconds - 1.0:
        w0 = t
        for syl in range(1 + k % 3):
            phs.append(Phoneme(cons[k % len(cons)], t, t + 0.07))
            phs.append(Phoneme(vows[(3 * k) % len(vows)], t + 0.07, t + 0.19, 2 * (syl == 0)))
            t += 0.19
            k += 1
        words.append(Word("word", w0, t))
        if k % 7 == 0:
            phs.append(Phoneme("_", t, t + 0.4))
            t += 0.4
        else:
            t += 0.05
    return Speech(np.zeros(int(seconds * SR), np.float32), SR, tuple(words), tuple(phs))


def run(sp, fps=30.0, script=SCRIPT, **settings):
    return animate(script, sp, fps, FaceSettings(**settings))


def onsets(curve, threshold=0.5):
    closed = curve > threshold
    return np.flatnonzero(closed[1:] & ~closed[:-1]) + 1


@pytest.fixture(scope="module")
def talk():
    """About 17 s of real eSpeak speech in eight sentences."""
    return synthesize(Script((Segment(TEXT),)), SpeechSettings())


@pytest.fixture(scope="module")
def minute():
    return long_speech(120.0)


# --------------------------------------------------------------------------- blinks
@pytest.mark.parametrize("rate", [10.0, 17.0, 25.0])
def test_blink_rate_is_honoured(minute, rate):
    for seed in (0, 1):
        ft = run(minute, seed=seed, blink_rate=rate)
        per_minute = len(onsets(ft.arkit[:, A["eyeBlinkLeft"]])) / 2.0
        assert per_minute == pytest.approx(rate, rel=0.2)


def test_blinks_follow_sentence_ends(talk):
    stops = [p for p in life.pauses(talk, script=Script((Segment(TEXT),))) if p.sentence]
    assert len(stops) >= 6
    near, total = 0, 0
    for seed in range(6):
        ft = run(talk, seed=seed, script=Script((Segment(TEXT),)))
        t = onsets(ft.arkit[:, A["eyeBlinkLeft"]]) / ft.fps
        total += len(t)
        near += sum(any(p.start - 0.2 <= x <= p.start + 0.6 for p in stops) for x in t)
    chance = len(stops) * 0.8 / talk.duration
    assert near / total > chance + 0.3


def test_sentence_end_blinks_are_slower():
    rng = np.random.default_rng(0)
    sp = Speech(np.zeros(20 * SR, np.float32), SR,
                tuple(Word("end.", t, t + 0.3) for t in np.arange(1.0, 19.0, 2.0)),
                tuple(Phoneme("a", t, t + 0.3) for t in np.arange(1.0, 19.0, 2.0)))
    at_ends = life.blink_schedule(sp, 17.0, rng)
    other = life.blink_schedule(long_speech(20.0), 17.0, np.random.default_rng(0))
    assert np.mean([b.duration for b in at_ends]) > np.mean([b.duration for b in other]) + 0.02


def test_large_gaze_shifts_bring_blinks(minute):
    ft = run(minute, seed=4, gaze_at_camera=0.6)
    rng = np.random.default_rng(np.random.SeedSequence(4).spawn(7)[1])
    _, shifts = life.gaze(minute, ft.frames, ft.fps, rng, 0.6, 1.0)
    big = [t for t, size in shifts if size >= life.GAZE_BLINK]
    largest = [t for _, t in sorted((size, t) for t, size in shifts)[-15:]]
    assert len(big) >= 15
    t = onsets(ft.arkit[:, A["eyeBlinkLeft"]]) / ft.fps
    near = lambda times: np.mean([np.any(np.abs(t - s) < 0.15) for s in times])
    chance = len(t) * 0.3 / minute.duration
    assert near(big) > 2 * chance and near(largest) > 0.5


def test_blink_timing_is_asymmetric_but_not_at_zero_asymmetry(minute):
    hi = run(minute, fps=120.0, seed=2, asymmetry=2.0)
    lo = run(minute, fps=120.0, seed=2, asymmetry=0.0)
    left, right = onsets(hi.arkit[:, A["eyeBlinkLeft"]]), onsets(hi.arkit[:, A["eyeBlinkRight"]])
    assert len(left) == len(right)
    assert np.any(left != right)  # some blinks start on one eye a few ms earlier
    assert np.abs(left - right).max() <= 0.03 * 120
    np.testing.assert_array_equal(lo.arkit[:, A["eyeBlinkLeft"]], lo.arkit[:, A["eyeBlinkRight"]])


# --------------------------------------------------------------------------- gaze
@pytest.mark.parametrize("ratio", [0.5, 0.75, 0.95])
def test_gaze_at_camera_ratio(minute, ratio):
    ft = run(minute, seed=1, gaze_at_camera=ratio)
    at = np.hypot(ft.eyes[:, 0, 0], ft.eyes[:, 0, 1]) < life.AT_CAMERA
    assert at.mean() == pytest.approx(ratio, abs=0.08)


def test_look_away_while_thinking(talk):
    stops = [p for p in life.pauses(talk, 0.3) if p.end < talk.duration - 0.1]
    assert len(stops) >= 5
    away_in, away_talk, up = [], [], []
    for seed in range(4):
        ft = run(talk, seed=seed, gaze_at_camera=0.8)
        t = np.arange(ft.frames) / ft.fps
        gaze = np.hypot(ft.eyes[:, 0, 0], ft.eyes[:, 0, 1])
        inside = np.zeros(ft.frames, bool)
        for p in stops:
            inside |= (t > p.start + 0.05) & (t < p.end)
        away_in.append((gaze[inside] > life.AT_CAMERA).mean())
        away_talk.append((gaze[~inside] > life.AT_CAMERA).mean())
        up.append((ft.eyes[inside, 0, 0] < -0.03).mean())
    assert np.mean(away_in) > np.mean(away_talk) + 0.3
    assert np.mean(up) > 0.3  # thinking looks up


def test_saccades_and_eye_arkit_agree(minute):
    ft = run(minute, seed=3)
    still = run(minute, seed=3, saccades=0.0, gaze_at_camera=1.0)
    assert np.abs(still.eyes).max() == 0.0
    fix = np.hypot(ft.eyes[:, 0, 0], ft.eyes[:, 0, 1]) < life.AT_CAMERA
    assert 0.003 < np.abs(ft.eyes[fix, 0, :2]).mean() < 0.03  # micro-saccades while fixating
    left = ft.eyes[:, 0, 1] > 0.05
    assert np.all(ft.arkit[left, A["eyeLookOutLeft"]] > 0)
    assert np.all(ft.arkit[left, A["eyeLookInRight"]] > 0)


# --------------------------------------------------------------------------- expressions, breath
def test_micro_expressions(minute):
    names = ["browInnerUp", "mouthPressLeft", "mouthDimpleLeft", "noseSneerLeft",
             "eyeSquintLeft", "mouthSmileRight", "browDownLeft"]
    cols = [A[n] for n in names]
    kw = dict(blink_rate=0.0, breathing=0.0, gaze_at_camera=1.0, saccades=0.0)
    off = run(minute, micro_expressions=0.0, **kw).arkit[:, cols]
    on = run(minute, micro_expressions=1.0, **kw).arkit[:, cols]
    events = onsets((on - off).max(axis=1), 0.05)
    assert 6 <= len(events) <= 30  # about six a minute over two minutes
    assert (on - off).max() < 0.65
    many = run(minute, micro_expressions=2.0, **kw).arkit[:, cols]
    assert len(onsets((many - off).max(axis=1), 0.05)) > len(events)


def test_breathing_flares_the_nostrils_before_speech(talk):
    kw = dict(micro_expressions=0.0)
    ft, flat = run(talk, breathing=1.0, **kw), run(talk, breathing=0.0, **kw)
    nose = ft.arkit[:, A["noseSneerLeft"]] - flat.arkit[:, A["noseSneerLeft"]]
    assert 0.03 < nose.max() <= 0.1
    t = np.arange(ft.frames) / ft.fps
    stops = [p for p in life.pauses(talk, 0.25) if p.end < talk.duration - 0.1]
    inhale = [nose[(t > p.end - 0.3) & (t <= p.end)].max() for p in stops]
    assert np.mean(np.array(inhale) > 0.02) > 0.7
    curve = life.breath_curve(talk, ft.frames, ft.fps, np.random.default_rng(0))
    assert curve.min() >= 0 and curve.max() <= 1


def test_asymmetry_gains():
    rng = np.random.default_rng(0)
    g = life.asymmetry_gains(rng, 1.0)
    assert np.abs(g - 1).max() <= 0.12 and np.abs(g - 1).max() > 0.01
    assert g[A["mouthSmileLeft"]] + g[A["mouthSmileRight"]] == pytest.approx(2.0)
    assert np.all(life.asymmetry_gains(rng, 0.0) == 1.0)


# --------------------------------------------------------------------------- prosody, head
def _glide(f_start, f_end, seconds=3.0):
    t = np.arange(int(seconds * SR)) / SR
    f = f_start * (f_end / f_start) ** (t / seconds)
    phase = 2 * np.pi * np.cumsum(f) / SR
    x = 0.3 * (np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.3 * np.sin(3 * phase))
    return x.astype(np.float32), f


@pytest.mark.parametrize("f0", [90.0, 140.0, 220.0, 330.0])
def test_pitch_tracking(f0):
    x, _ = _glide(f0, f0, 1.0)
    p = analyse(x, SR)
    mid = p.f0[10:-10]
    assert p.voiced[10:-10].all()
    np.testing.assert_allclose(mid, f0, rtol=0.03)
    assert not analyse(np.zeros(SR, np.float32), SR).voiced.any()


def test_head_rises_with_pitch_and_rests_when_told():
    x, _ = _glide(110.0, 220.0)
    sp = Speech(x, SR, (), (Phoneme("a", 0.0, 3.0, 0),))
    times = np.arange(90) / 30.0
    p = analyse(x, SR)
    rng = np.random.default_rng(0)
    head = head_motion(sp, p, times, 30.0, rng, 1.0)
    assert head[75:85, 0].mean() < head[5:15, 0].mean() - 0.03  # higher voice, chin up
    assert np.abs(head).max() < 0.15
    assert not head_motion(sp, p, times, 30.0, rng, 0.0).any()


def test_head_moves_more_while_talking(talk):
    ft = run(talk, seed=0)
    t = np.arange(ft.frames) / ft.fps
    speaking = np.zeros(ft.frames, bool)
    for ph in talk.phonemes:
        if ph.symbol != "_":
            speaking |= (t >= ph.start) & (t <= ph.end)
    vel = np.abs(np.diff(ft.head, axis=0)).sum(axis=1)
    assert vel[speaking[1:]].mean() > vel[~speaking[1:]].mean()
    assert 0.01 < np.abs(ft.head).max() < 0.25
    calm = run(talk, seed=0, head_motion=0.0, gaze_at_camera=1.0, saccades=0.0)
    assert np.abs(calm.head).max() < 1e-6


# --------------------------------------------------------------------------- sliders, seeds
@pytest.mark.parametrize("name", sorted(FACE_RANGES))
def test_every_slider_is_validated(name):
    lo, hi = FACE_RANGES[name]
    FaceSettings(**{name: lo})
    FaceSettings(**{name: hi})
    for bad in (lo - 0.01, hi + 0.01, float("nan"), "1", True):
        with pytest.raises(InputError):
            FaceSettings(**{name: bad})


def test_same_seed_same_face_other_seed_differs(talk):
    a, b, c = run(talk, seed=11), run(talk, seed=11), run(talk, seed=12)
    for name in ("arkit", "visemes", "jaw", "eyes", "head"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for name in ("eyeBlinkLeft", "browInnerUp", "noseSneerLeft", "eyeLookOutLeft"):
        assert not np.array_equal(a.arkit[:, A[name]], c.arkit[:, A[name]]), name
    assert not np.array_equal(a.head, c.head) and not np.array_equal(a.eyes, c.eyes)
    np.testing.assert_array_equal(a.visemes, c.visemes)  # the words are not random


def test_one_slider_does_not_reshuffle_the_others(talk):
    a, b = run(talk, seed=5), run(talk, seed=5, micro_expressions=0.0)
    np.testing.assert_array_equal(a.eyes, b.eyes)  # gaze has its own random stream
    np.testing.assert_array_equal(a.head, b.head)
