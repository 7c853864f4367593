# SPDX-License-Identifier: GPL-3.0-or-later
"""The emotion layer: intensities, blends of two, markup, eased per-segment changes, closure."""

from __future__ import annotations

import numpy as np
import pytest

from paksatalker.core.errors import DataError, InputError
from paksatalker.core.face import animate
from paksatalker.core.face.arkit import emotion_offset
from paksatalker.core.face.emotion import emotion_levels, segment_level
from paksatalker.core.names import ARKIT_INDEX as A
from paksatalker.core.names import EMOTIONS
from paksatalker.core.script.markup import parse
from paksatalker.core.settings import FaceSettings
from paksatalker.core.types import Phoneme, Script, Segment, Speech, Word

SR = 16000


def speech(phonemes, duration, words=(), segment_times=()) -> Speech:
    phs = tuple(Phoneme(*p) for p in phonemes)
    return Speech(np.zeros(int(duration * SR), np.float32), SR, tuple(words), phs,
                  tuple(segment_times))


def run(sp, script, fps=30.0, **settings):
    # life layer off, so only the emotion shows on the upper face
    quiet = dict(blink_rate=0.0, micro_expressions=0.0, breathing=0.0, saccades=0.0,
                 gaze_at_camera=1.0, asymmetry=0.0)
    quiet.update(settings)
    return animate(script, sp, fps, FaceSettings(**quiet))


QUIET = speech([], 2.0, segment_times=[(0.0, 2.0)])
TALK = speech([("a", 0.3, 0.5, 2), ("m", 0.5, 0.53), ("a", 0.53, 0.8), ("p", 0.8, 0.83),
               ("i", 0.83, 1.1), ("b", 1.1, 1.13), ("o", 1.13, 1.4)], 1.8,
              [Word("amapibo", 0.3, 1.4)], [(0.0, 1.8)])


@pytest.mark.parametrize("emotion", EMOTIONS)
@pytest.mark.parametrize("intensity", [0.3, 1.0])
def test_each_emotion_at_its_intensity(emotion, intensity):
    ft = run(QUIET, Script((Segment("x", emotion=emotion, intensity=intensity),)))
    mid = ft.arkit[20:40]
    expected = np.clip(emotion_offset(emotion, intensity), 0, 1)
    upper = [A[n] for n in ("browInnerUp", "browDownLeft", "browOuterUpRight", "eyeSquintLeft",
                            "eyeWideRight", "cheekSquintLeft", "noseSneerLeft",
                            "mouthSmileLeft", "mouthFrownRight")]
    np.testing.assert_allclose(mid[:, upper].mean(axis=0), expected[upper], atol=0.02)


@pytest.mark.parametrize("emotion", [e for e in EMOTIONS if e != "neutral"])
def test_no_emotion_breaks_a_bilabial_closure(emotion):
    ft = run(TALK, Script((Segment("amapibo", emotion=emotion),)), emotion_strength=2.0)
    for start in (0.5, 0.8, 1.1):
        f = round((start + 0.015) * 30)
        assert ft.arkit[f, A["mouthClose"]] > 0.5 and ft.arkit[f, A["jawOpen"]] < 0.05
        assert ft.arkit[f, A["mouthFunnel"]] < 0.05 and ft.arkit[f, A["mouthUpperUpLeft"]] < 0.05


def test_blend_of_two_emotions():
    seg = Segment("x", emotion="happy", intensity=0.6, emotion2="surprised", intensity2=0.3)
    lv = segment_level(seg)
    assert lv[EMOTIONS.index("happy")] == pytest.approx(0.6)
    assert lv[EMOTIONS.index("surprised")] == pytest.approx(0.3)
    ft = run(QUIET, Script((seg,)))
    happy = run(QUIET, Script((Segment("x", emotion="happy", intensity=0.6),)))
    surprised = run(QUIET, Script((Segment("x", emotion="surprised", intensity=0.3),)))
    for name in ("mouthSmileLeft", "cheekSquintLeft"):
        assert ft.arkit[30, A[name]] == pytest.approx(happy.arkit[30, A[name]], abs=0.02)
    for name in ("eyeWideLeft", "browOuterUpLeft"):
        assert ft.arkit[30, A[name]] > happy.arkit[30, A[name]] + 0.1
        assert ft.arkit[30, A[name]] >= surprised.arkit[30, A[name]] - 0.02


def test_blend_markup_and_validation():
    seg = parse("[happy 0.6 + surprised 0.3] Oh, hello! [sad] Bye.").segments
    assert (seg[0].emotion, seg[0].intensity, seg[0].emotion2, seg[0].intensity2) == (
        "happy", 0.6, "surprised", 0.3)
    assert (seg[1].emotion, seg[1].emotion2, seg[1].intensity2) == ("sad", "", 0.0)
    assert parse("[angry + disgusted] Ugh.").segments[0].intensity2 == 1.0
    for bad in ("[happy 0.6 + bored 0.3] x", "[happy + sad + angry] x", "[happy 2 + sad] x",
                "[+ sad] x"):
        with pytest.raises(InputError):
            parse(bad)
    with pytest.raises(DataError):
        Segment("x", emotion2="bored", intensity2=0.5)
    with pytest.raises(DataError):
        Segment("x", intensity2=0.5)  # an intensity without a second emotion
    with pytest.raises(DataError):
        Segment("x", emotion2="sad", intensity2=1.5)


@pytest.mark.parametrize("ease", [0.2, 0.35, 1.0])
def test_segment_changes_are_eased(ease):
    sp = speech([], 3.0, segment_times=[(0.0, 1.5), (1.5, 3.0)])
    script = Script((Segment("a", emotion="happy"), Segment("b", emotion="sad")))
    ft = run(sp, script, fps=60.0, emotion_ease=ease)
    smile, frown = ft.arkit[:, A["mouthSmileLeft"]], ft.arkit[:, A["mouthFrownLeft"]]
    assert smile[:60].min() > 0.5 and frown[-30:].min() > 0.45 and smile[-30:].max() < 0.01
    top = smile.max()
    moving = np.flatnonzero((smile < top - 1e-5) & (smile > 1e-5))
    span = (moving[-1] - moving[0] + 2) / ft.fps  # from the last still frame to the next
    assert span >= 0.2 and span == pytest.approx(ease, abs=1.5 / ft.fps)
    mid = np.flatnonzero((smile < 0.9 * top) & (smile > 0.1 * top))
    assert (len(mid) + 1) / ft.fps >= 0.5 * ease  # gradual: 10-90 % takes half the ease
    assert np.abs(np.diff(smile)).max() < 2.5 * top / (ease * 60)
    # the change starts just before the new segment (faces lead the words)
    assert 1.5 - 0.5 * ease <= moving[0] / ft.fps <= 1.5


def test_short_segments_still_blend_smoothly():
    times = np.arange(120) / 60.0
    sp = speech([], 2.0, segment_times=[(0.0, 0.9), (0.9, 1.0), (1.0, 2.0)])
    script = Script((Segment("a"), Segment("b", emotion="angry"), Segment("c")))
    lv = emotion_levels(script, sp, times, 0.35)
    angry = lv[:, EMOTIONS.index("angry")]
    assert 0.05 < angry.max() < 0.6  # a 0.1 s flash of anger never fully shows
    assert np.abs(np.diff(angry)).max() < 0.15


def test_strength_scales_and_sad_articulates_less():
    happy = Script((Segment("x", emotion="happy", intensity=0.5),))
    one = run(QUIET, happy).arkit[30, A["mouthSmileLeft"]]
    two = run(QUIET, happy, emotion_strength=2.0).arkit[30, A["mouthSmileLeft"]]
    zero = run(QUIET, happy, emotion_strength=0.0).arkit[30, A["mouthSmileLeft"]]
    assert two == pytest.approx(2 * one, rel=0.05) and zero < 0.01
    sad = run(TALK, Script((Segment("amapibo", emotion="sad"),)))
    neutral = run(TALK, Script((Segment("amapibo"),)))
    assert sad.arkit[:, A["jawOpen"]].max() < 0.9 * neutral.arkit[:, A["jawOpen"]].max()
    assert sad.head[:, 0].mean() > neutral.head[:, 0].mean() + 0.03  # the chin drops
    assert sad.eyes[:, 0, 0].mean() > neutral.eyes[:, 0, 0].mean() + 0.05  # eyes look down
