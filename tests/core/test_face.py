# SPDX-License-Identifier: GPL-3.0-or-later
"""Face stage: IPA -> visemes -> ARKit curves, closure, silence, emotion, blinks, gaze."""

from __future__ import annotations

import numpy as np
import pytest

from paksatalker.core.errors import BackendError, InputError
from paksatalker.core.face import FACE, animate
from paksatalker.core.face.arkit import (
    EMOTION_OFFSETS,
    MOUTH,
    VISEME_POSES,
    close_lips,
    emotion_offset,
    viseme_pose,
)
from paksatalker.core.face.visemes import normalize, units, viseme, visemes
from paksatalker.core.names import ARKIT_INDEX as A
from paksatalker.core.names import EMOTIONS, VISEME_INDEX, VISEMES
from paksatalker.core.settings import FaceSettings
from paksatalker.core.types import Phoneme, Script, Segment, Speech, Word, frame_count

SR = 16000
SCRIPT = Script((Segment("test"),))


def speech(phonemes, duration, words=(), segment_times=()) -> Speech:
    """Silent audio of ``duration`` s with (symbol, start, end[, stress]) phonemes."""
    phs = tuple(Phoneme(p[0], p[1], p[2], p[3] if len(p) > 3 else 0) for p in phonemes)
    return Speech(np.zeros(int(round(duration * SR)), np.float32), SR, tuple(words), phs,
                  tuple(segment_times))


def run(sp, fps=30.0, script=SCRIPT, **settings):
    return animate(script, sp, fps, FaceSettings(**settings))


def frames_in(ft, start, end):
    """Indices of frames whose time lies in [start, end]."""
    t = np.arange(ft.frames) / ft.fps
    return np.flatnonzero((t >= start - 1e-9) & (t <= end + 1e-9))


def long_speech(seconds: float) -> Speech:
    """CV syllables in words, with a 0.4 s pause after every seventh syllable."""
    cons, vows = ["p", "t", "k", "s", "m", "n", "l", "f", "tʃ"], ["a", "i", "u", "e", "o", "aɪ"]
    phs, words, t, k = [], [], 0.5, 0
    while t < seconds - 1.0:
        w0 = t
        for syl in range(1 + k % 3):
            phs.append((cons[k % len(cons)], t, t + 0.07))
            phs.append((vows[(3 * k) % len(vows)], t + 0.07, t + 0.19, 2 if syl == 0 else 0))
            t += 0.19
            k += 1
        words.append(Word("word", w0, t))
        if k % 7 == 0:
            phs.append(("_", t, t + 0.4))
            t += 0.4
        else:
            t += 0.05
    return speech(phs, seconds, words)


# --------------------------------------------------------------------------- IPA -> visemes
@pytest.mark.parametrize(
    "symbol, expected",
    [
        # English (eSpeak NG)
        ("p", ("PP",)), ("b", ("PP",)), ("m", ("PP",)), ("f", ("FF",)), ("v", ("FF",)),
        ("θ", ("TH",)), ("ð", ("TH",)), ("t", ("DD",)), ("k", ("kk",)), ("ŋ", ("kk",)),
        ("tʃ", ("CH",)), ("dʒ", ("CH",)), ("ʃ", ("CH",)), ("s", ("SS",)), ("n", ("nn",)),
        ("l", ("nn",)), ("ɹ", ("RR",)), ("ɚ", ("RR",)), ("w", ("ou",)), ("ˈɑː", ("aa",)),
        ("ˈiː", ("ih",)), ("ɪ", ("ih",)), ("ɛ", ("E",)), ("ˈuː", ("ou",)), ("ɔː", ("oh",)),
        ("aɪ", ("aa", "ih")), ("ˈaʊ", ("aa", "ou")), ("eɪ", ("E", "ih")), ("oʊ", ("oh", "ou")),
        ("əʊ", ("E", "ou")), ("ɔɪ", ("oh", "ih")), ("ˈɑːɹ", ("aa", "RR")), ("n̩", ("nn",)),
        ("t͡ʃ", ("CH",)),
        # German
        ("pf", ("PP", "FF")), ("ts", ("SS",)), ("ç", ("CH",)), ("x", ("kk",)), ("ʁ", ("kk",)),
        ("ˈyː", ("ou",)), ("øː", ("ou",)), ("ˈɔø", ("oh", "ou")), ("ɐ", ("aa",)),
        # French
        ("ɑ̃", ("aa",)), ("ɔ̃", ("oh",)), ("ˈɛ̃", ("E",)), ("œ̃", ("oh",)), ("ɥ", ("ou",)),
        ("ʒ", ("CH",)), ("y", ("ou",)),
        # Spanish
        ("β", ("PP",)), ("ɾ", ("DD",)), ("r", ("RR",)), ("ɲ", ("nn",)), ("ʎ", ("nn",)),
        ("ɣ", ("kk",)), ("ˈe", ("E",)), ("o", ("oh",)),
        # Mandarin (eSpeak NG's tone digits, retroflex dot and aspiration "h")
        ("ts.h", ("CH",)), ("s.", ("CH",)), ("tɕh", ("CH",)), ("ɕ", ("CH",)), ("ʐ", ("CH",)),
        ("i2", ("ih",)), ("ˈi.5", ("ih",)), ("ˈɑu2", ("aa", "ou")), ("ˈuoɜ", ("ou", "oh")),
        ("ˈonɡ5", ("oh", "kk")), ("ˈiɑ1", ("ih", "aa")), ("a˥˩", ("aa",)), ("ˈərɜ", ("E", "RR")),
        # pauses
        ("_", ("sil",)), ("", ("sil",)), (" ", ("sil",)),
    ],
)
def test_ipa_to_visemes(symbol, expected):
    assert visemes(symbol) == expected


def test_normalize_strips_marks():
    assert normalize("ˈaɪ") == "aɪ"
    assert normalize("ɑ̃ː") == "ɑ"
    assert normalize("ts.h") == "tʂ"
    assert normalize("i2") == "i"
    assert normalize("tʰ") == "t"
    assert normalize("_") == ""


@pytest.mark.parametrize("symbol", ["☃", "Q!", "ʡ", "123", "ɑ̃ː˥˩", "X", "好", "а", "@@", "ǁ"])
def test_unknown_symbols_do_not_crash(symbol):
    parts = units(symbol)
    assert parts and all(u.viseme in VISEMES for u in parts)
    assert sum(u.share for u in parts) == pytest.approx(1.0)
    assert viseme(symbol) in VISEMES
    ft = run(speech([("a", 0.1, 0.2), (symbol, 0.2, 0.3), ("a", 0.3, 0.4)], 0.6))
    assert np.all(np.isfinite(ft.arkit))


def test_unknown_letters_use_their_base_letter():
    assert viseme("а") == "aa"  # Cyrillic a
    assert viseme("ã") == "aa"
    assert viseme("ᵻ") == "ih"


def test_bilabial_flags_and_shares():
    for sym in ("p", "b", "m", "pʰ", "mʲ", "m̩"):
        assert units(sym)[0].bilabial
    assert not units("β")[0].bilabial
    assert not units("f")[0].bilabial
    diph = units("aɪ")
    assert sum(u.share for u in diph) == pytest.approx(1.0)
    assert diph[0].share > diph[1].share  # the open nucleus lasts longer


# --------------------------------------------------------------------------- tables
def test_tables():
    assert VISEME_POSES.shape == (15, 52) and EMOTION_OFFSETS.shape == (7, 52)
    assert VISEME_POSES.min() >= 0 and VISEME_POSES.max() <= 1
    assert not VISEME_POSES[VISEME_INDEX["sil"]].any()
    assert viseme_pose("TH")[A["tongueOut"]] > 0
    assert viseme_pose("PP")[A["mouthClose"]] > 0.5
    assert viseme_pose("aa")[A["jawOpen"]] > viseme_pose("ih")[A["jawOpen"]]
    assert viseme_pose("ou")[A["mouthPucker"]] > 0.5
    assert not emotion_offset("neutral").any()
    np.testing.assert_allclose(emotion_offset("happy", 0.5), 0.5 * emotion_offset("happy"))
    assert MOUTH[A["jawOpen"]] and not MOUTH[A["browInnerUp"]]
    with pytest.raises(InputError):
        viseme_pose("XX")
    with pytest.raises(InputError):
        emotion_offset("bored")
    shut = close_lips(viseme_pose("aa"))
    assert shut[A["jawOpen"]] < 0.05 and shut[A["mouthClose"]] >= 0.7


# --------------------------------------------------------------------------- track
@pytest.mark.parametrize("fps", [24.0, 25.0, 30.0, 60.0])
def test_shapes_and_fps(fps):
    sp = speech([("h", 0.2, 0.25), ("ɛ", 0.25, 0.4, 2), ("l", 0.4, 0.45), ("oʊ", 0.45, 0.7)],
                1.03, [Word("hello", 0.2, 0.7)])
    ft = run(sp, fps)
    t = frame_count(sp.duration, fps)
    assert ft.fps == fps and ft.frames == t
    assert ft.arkit.shape == (t, 52) and ft.visemes.shape == (t, 15)
    assert ft.jaw.shape == (t, 3) and ft.eyes.shape == (t, 2, 3) and ft.head.shape == (t, 3)
    assert ft.expressions is None
    assert np.abs(ft.head).max() < 0.15  # prosody head motion: small
    for a in (ft.arkit, ft.visemes):
        assert np.all(np.isfinite(a)) and a.min() >= 0 and a.max() <= 1
    np.testing.assert_allclose(ft.jaw[:, 0], 0.35 * ft.arkit[:, A["jawOpen"]], atol=1e-6)
    assert not ft.jaw[:, 1:].any()


@pytest.mark.parametrize("symbol", ["p", "b", "m"])
@pytest.mark.parametrize("offset", [0.0, 0.01, 0.02, 0.03])
def test_short_bilabial_closes_lips(symbol, offset):
    start = 0.5 + offset
    sp = speech([("a", 0.3, start, 2), (symbol, start, start + 0.04), ("a", start + 0.04, 0.8)],
                1.0, [Word("word", 0.3, 0.8)])
    ft = run(sp, 30.0)
    idx = frames_in(ft, start, start + 0.04)
    assert idx.size >= 1
    assert np.all(ft.arkit[idx, A["mouthClose"]] > 0.5)
    assert np.all(ft.arkit[idx, A["mouthPressLeft"]] > 0.4)
    assert np.all(ft.arkit[idx, A["mouthPressRight"]] > 0.4)
    assert np.all(ft.arkit[idx, A["jawOpen"]] < 0.05)
    assert np.all(ft.visemes[idx].argmax(axis=1) == VISEME_INDEX["PP"])
    assert ft.arkit[:, A["jawOpen"]].max() > 0.4  # the vowels around it do open


def test_bilabial_between_frames_closes_nearest_frame():
    sp = speech([("a", 0.3, 0.51), ("m", 0.51, 0.53), ("a", 0.53, 0.8)], 1.0)
    ft = run(sp, 24.0)  # no frame time falls inside 0.51..0.53
    assert frames_in(ft, 0.51, 0.53).size == 0
    f = round(0.52 * 24)
    assert ft.arkit[f, A["mouthClose"]] > 0.5 and ft.arkit[f, A["jawOpen"]] < 0.05


def test_silence_keeps_mouth_closed():
    sp = speech([("a", 0.6, 0.9, 2), ("_", 0.9, 1.6), ("ɔ", 1.6, 1.9), ("ʃ", 1.9, 2.0)], 2.6,
                [Word("ah", 0.6, 0.9), Word("osh", 1.6, 2.0)])
    ft = run(sp)
    quiet = np.concatenate([frames_in(ft, 0.0, 0.45), frames_in(ft, 1.1, 1.4),
                            frames_in(ft, 2.2, 2.6)])
    assert ft.arkit[quiet][:, MOUTH].max() < 0.05
    assert ft.arkit[quiet, A["jawOpen"]].max() < 0.02
    assert np.all(ft.visemes[quiet].argmax(axis=1) == VISEME_INDEX["sil"])
    assert ft.arkit[frames_in(ft, 0.7, 0.8), A["jawOpen"]].min() > 0.3


def test_phoneme_outside_words_is_silence():
    sp = speech([("a", 0.3, 0.6), ("a", 1.2, 1.5)], 2.0, [Word("ah", 0.3, 0.6)])
    ft = run(sp)
    assert ft.arkit[frames_in(ft, 1.25, 1.45), A["jawOpen"]].max() < 0.02
    assert ft.arkit[frames_in(ft, 0.35, 0.55), A["jawOpen"]].max() > 0.3


def test_a_opens_jaw_more_than_i():
    def jaw(vowel):
        ft = run(speech([("t", 0.3, 0.35), (vowel, 0.35, 0.6, 2), ("t", 0.6, 0.65)], 1.0))
        return ft.arkit[:, A["jawOpen"]].max(), ft.jaw[:, 0].max()

    (a, ja), (i, ji) = jaw("a"), jaw("i")
    assert a > i + 0.2
    assert ja > ji > 0  # positive x opens the SMPL-X jaw


def test_rounding_for_u_and_o():
    def pucker(vowel, at=(0.45, 0.55)):
        sp = speech([("a", 0.1, 0.25), ("s", 0.25, 0.35), ("t", 0.35, 0.42), (vowel, 0.42, 0.6, 2)],
                    1.0)
        ft = run(sp)
        idx = frames_in(ft, *at)
        return ft.arkit[idx, A["mouthPucker"]].mean(), ft.arkit[idx, A["mouthFunnel"]].mean()

    pu, fu = pucker("u")
    po, fo = pucker("o")
    pa, fa = pucker("a")
    pi, fi = pucker("i")
    assert pu > 0.6 and pu > pa + 0.4 and pu > pi + 0.4
    assert po + fo > pa + fa + 0.4
    # anticipation: the lips round during the /st/ before /u/ (up to ~130 ms ahead), not before
    # /i/, and not yet during the /a/
    anticip_u, _ = pucker("u", at=(0.3, 0.4))
    anticip_i, _ = pucker("i", at=(0.3, 0.4))
    early_u, _ = pucker("u", at=(0.1, 0.2))
    assert anticip_u > 0.28 and anticip_i < 0.01 and early_u < 0.01


def test_visemes_follow_the_phonemes():
    sp = speech([("f", 0.3, 0.4), ("a", 0.4, 0.7, 2), ("s", 0.7, 0.85)], 1.2)
    ft = run(sp)
    np.testing.assert_allclose(ft.visemes.sum(axis=1), 1.0, atol=1e-3)
    assert np.all(ft.visemes[frames_in(ft, 0.5, 0.6)].argmax(axis=1) == VISEME_INDEX["aa"])
    assert ft.visemes[frames_in(ft, 0.32, 0.38), VISEME_INDEX["FF"]].max() > 0.5


def test_articulation_scales_the_mouth_but_keeps_closure():
    sp = speech([("a", 0.3, 0.5, 2), ("p", 0.5, 0.54), ("a", 0.54, 0.8)], 1.0)
    full, half = run(sp, articulation=1.0), run(sp, articulation=0.5)
    j1, j2 = full.arkit[:, A["jawOpen"]].max(), half.arkit[:, A["jawOpen"]].max()
    assert j2 == pytest.approx(0.5 * j1, rel=0.05)
    idx = frames_in(half, 0.5, 0.54)
    assert half.arkit[idx, A["mouthClose"]].min() > 0.5


def test_brow_accents_on_stressed_vowels_of_long_words():
    def brows(stress):
        phs, words = [], []
        for k in range(6):
            t = 0.3 + 0.6 * k
            phs += [("k", t, t + 0.08), ("a", t + 0.08, t + 0.3, stress), ("t", t + 0.3, t + 0.4)]
            words.append(Word("kat", t, t + 0.4))
        return run(speech(phs, 4.2, words)).arkit[:, A["browInnerUp"]]

    stressed, flat = brows(2), brows(0)
    assert not flat.any()
    assert 0.05 < stressed.max() <= 0.25


# --------------------------------------------------------------------------- emotion
EXPECTED = {
    "happy": ["mouthSmileLeft", "mouthSmileRight", "cheekSquintLeft"],
    "sad": ["mouthFrownLeft", "browInnerUp"],
    "angry": ["browDownLeft", "browDownRight", "noseSneerLeft"],
    "surprised": ["browOuterUpLeft", "browInnerUp", "eyeWideLeft"],
    "fearful": ["browInnerUp", "eyeWideRight", "mouthStretchLeft"],
    "disgusted": ["noseSneerLeft", "noseSneerRight", "mouthUpperUpLeft"],
}
WORDS = speech([("a", 0.3, 0.5, 2), ("m", 0.5, 0.54), ("a", 0.54, 0.8), ("b", 0.8, 0.84),
                ("i", 0.84, 1.1)], 1.5, [Word("amabi", 0.3, 1.1)], [(0.0, 1.5)])


@pytest.mark.parametrize("emotion", sorted(EXPECTED))
def test_emotion_changes_expected_channels_and_keeps_closure(emotion):
    assert set(EXPECTED) == set(EMOTIONS) - {"neutral"}
    neutral = run(WORDS)
    ft = run(WORDS, script=Script((Segment("amabi", emotion=emotion, intensity=1.0),)))
    for name in EXPECTED[emotion]:
        assert ft.arkit[:, A[name]].mean() > neutral.arkit[:, A[name]].mean() + 0.1, name
    for start in (0.5, 0.8):
        idx = frames_in(ft, start, start + 0.04)
        assert ft.arkit[idx, A["mouthClose"]].min() > 0.5
        assert ft.arkit[idx, A["jawOpen"]].max() < 0.05


def test_emotion_intensity_scales():
    quiet = speech([], 1.0, segment_times=[(0.0, 1.0)])
    smile = {
        k: run(quiet, script=Script((Segment("x", emotion="happy", intensity=k),)))
        .arkit[:, A["mouthSmileLeft"]].mean()
        for k in (0.5, 1.0)
    }
    assert smile[0.5] == pytest.approx(0.5 * smile[1.0], rel=0.02)


def test_emotion_changes_per_segment_with_easing():
    sp = speech([], 2.0, segment_times=[(0.0, 1.0), (1.0, 2.0)])
    ft = run(sp, script=Script((Segment("a", emotion="happy"), Segment("b", emotion="sad"))))
    smile, frown = ft.arkit[:, A["mouthSmileLeft"]], ft.arkit[:, A["mouthFrownLeft"]]
    assert smile[:20].min() > 0.4 and frown[:20].max() < 0.01
    assert frown[-20:].min() > 0.4 and smile[-20:].max() < 0.01
    moving = np.flatnonzero((smile < 0.98 * smile.max()) & (smile > 0.02 * smile.max()))
    assert (moving[-1] - moving[0] + 1) / ft.fps >= 0.2
    assert np.abs(np.diff(smile)).max() < 0.5 * smile.max()


# --------------------------------------------------------------------------- blinks, eyes
def blink_onsets(ft, side="Left"):
    closed = ft.arkit[:, A["eyeBlink" + side]] > 0.5
    return np.flatnonzero(closed[1:] & ~closed[:-1]) + 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blink_rate_over_a_minute(seed):
    ft = run(long_speech(60.0), seed=seed)
    left, right = blink_onsets(ft), blink_onsets(ft, "Right")
    assert 10 <= len(left) <= 25
    assert abs(len(left) - len(right)) <= 1
    closed = ft.arkit[:, A["eyeBlinkLeft"]] > 0.3  # lids also follow the gaze down a little
    edges = np.diff(closed.astype(int))
    lengths = (np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)[: (edges == -1).sum()])
    assert lengths.max() / ft.fps <= 0.35


def test_blinks_prefer_pauses():
    sp = long_speech(60.0)
    pauses = [(p.start, p.end + 0.15) for p in sp.phonemes if p.symbol == "_"]
    share_of_time = sum(b - a for a, b in pauses) / sp.duration
    for seed in (0, 1, 2):  # eyes on the camera: no look-away (with its own blinks)
        onsets = blink_onsets(run(sp, seed=seed, gaze_at_camera=1.0)) / 30.0
        share = np.mean([any(a <= t <= b for a, b in pauses) for t in onsets])
        assert share > share_of_time + 0.1


def test_blink_rate_zero_means_no_blinks():
    ft = run(long_speech(20.0), blink_rate=0.0)
    assert ft.arkit[:, [A["eyeBlinkLeft"], A["eyeBlinkRight"]]].max() < 0.2  # lid follow only


def test_eyes_mostly_at_camera_with_look_aways():
    ft = run(long_speech(60.0), seed=3)
    pitch, yaw = ft.eyes[:, 0, 0], ft.eyes[:, 0, 1]
    assert np.abs(ft.eyes).max() < 0.3
    np.testing.assert_array_equal(ft.eyes[:, 0], ft.eyes[:, 1])
    assert not ft.eyes[:, :, 2].any()
    assert np.median(np.hypot(pitch, yaw)) < 0.06
    assert np.abs(yaw).max() > 0.08
    left, right, down = yaw > 0.05, yaw < -0.05, pitch > 0.05
    assert left.any() and right.any()
    assert np.all(ft.arkit[left, A["eyeLookOutLeft"]] > 0)
    assert np.all(ft.arkit[left, A["eyeLookInRight"]] > 0)
    assert np.all(ft.arkit[right, A["eyeLookInLeft"]] > 0)
    assert np.all(ft.arkit[down, A["eyeLookDownLeft"]] > 0)


# --------------------------------------------------------------------------- determinism
def test_same_seed_same_output_other_seed_differs():
    sp = long_speech(15.0)
    a, b, c = run(sp, seed=7), run(sp, seed=7), run(sp, seed=8)
    for name in ("arkit", "visemes", "jaw", "eyes", "head"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.arkit, c.arkit)
    assert not np.array_equal(a.eyes, c.eyes)
    np.testing.assert_array_equal(a.visemes, c.visemes)  # the mouth is not random


# --------------------------------------------------------------------------- edges
def test_registry_and_errors():
    assert "visemes" in FACE.names() and FACE.default == "visemes"
    sp = speech([("a", 0.1, 0.3)], 0.5)
    with pytest.raises(BackendError):
        run(sp, backend="nope")
    with pytest.raises(InputError):
        run(sp, fps=0.0)
    with pytest.raises(InputError):
        run(sp, blink_rate=-1.0)
    with pytest.raises(InputError):
        run(sp, articulation=float("nan"))


def test_no_phonemes_and_tiny_audio():
    ft = run(speech([], 0.01))
    assert ft.frames == 1 and ft.arkit[:, MOUTH].max() == 0
    ft = run(speech([("m", 0.0, 0.01)], 0.01))
    assert ft.arkit[0, A["mouthClose"]] > 0.5
