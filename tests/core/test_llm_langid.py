# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline language identification, code-switching runs, voice choice; moderation."""

import pytest

from paksatalker.core.script import langid
from paksatalker.core.script.moderation import Blocked, Policy, check, detect_refusal


@pytest.mark.parametrize("text, lang", [
    ("Hello there, welcome to our refund policy. You can return any item.", "en"),
    ("Guten Tag, ich möchte Ihnen heute unsere neue App zeigen und erklären.", "de"),
    ("Bonjour à tous, nous sommes très heureux de vous présenter notre produit.", "fr"),
    ("Hola a todos, hoy les quiero mostrar cómo funciona la nueva aplicación.", "es"),
    ("Ciao a tutti, oggi vi presento il nostro nuovo prodotto che è molto bello.", "it"),
    ("Olá a todos, hoje vamos falar sobre a nossa política de devolução e como funciona.", "pt"),
    ("Привет всем, сегодня я расскажу вам о нашей политике возврата.", "ru"),
    ("Привіт усім, сьогодні я розповім вам про нашу політику повернення.", "uk"),
    ("こんにちは、今日は返金ポリシーについて説明します。", "ja"),
    ("今天我们来介绍退款政策。", "zh"),
    ("안녕하세요 여러분, 오늘은 환불 정책을 설명하겠습니다.", "ko"),
    ("مرحبا بكم في متجرنا", "ar"),
    ("Γεια σας, καλώς ήρθατε.", "el"),
    ("नमस्ते, आज हम वापसी नीति के बारे में बात करेंगे।", "hi"),
])
def test_detects_language_from_script_and_stop_words(text, lang):
    g = langid.detect(text)
    assert g.language == lang and g.confidence > 0.2


def test_short_or_empty_text_is_unsure():
    assert langid.detect("OK", default="de") == langid.Guess("de", "latin", 0.0)
    assert langid.detect("123 !!", default="fr").confidence == 0.0


def test_code_switching_runs():
    runs = langid.split_runs("Welcome to our shop. Wir freuen uns sehr, dass Sie bei uns sind "
                             "und mit uns arbeiten. The word for thanks is ありがとう in "
                             "Japanese.", "en-us")
    assert runs == [("en-us", "Welcome to our shop."),
                    ("de", "Wir freuen uns sehr, dass Sie bei uns sind und mit uns arbeiten."),
                    ("en-us", "The word for thanks is"), ("ja", "ありがとう"),
                    ("en-us", "in Japanese.")]
    assert langid.split_runs("Das ist gut. OK, danke.", "de") == [("de", "Das ist gut. OK, danke.")]
    assert langid.split_runs("我们的 app 很好用。", "zh") == [("zh", "我们的 app 很好用。")]


def test_pick_voice_matches_the_language():
    assert langid.pick_voice("de").languages[0] == "de"
    assert langid.pick_voice("en-us").languages[0] == "en-us"
    assert langid.pick_voice("pt-BR").languages[0].startswith("pt")
    assert langid.pick_voice("xx") is None


def test_block_list_matches_whole_words_without_case_or_accents(tmp_path, monkeypatch):
    p = Policy(("casino", "free money"))
    assert p.find("Visit our Casino tonight") == "casino"
    assert p.find("FREE   money") is None  # a phrase is matched as written
    assert p.find("Get free money now") == "free money"
    assert p.find("casinos are fun") is None
    assert Policy(("cafe",)).find("Welcome to the Café!") == "cafe"
    with pytest.raises(Blocked, match="the brief contains the blocked term 'casino'") as e:
        check("casino night", p, "brief")
    assert e.value.reason == "the brief contains the blocked term 'casino'"
    f = tmp_path / "block.txt"
    f.write_text("# company list\nlottery\n\n")
    monkeypatch.setenv("PAKSATALKER_BLOCKLIST", str(f))
    assert Policy.from_settings(["casino"]).block_terms == ("casino", "lottery")


@pytest.mark.parametrize("text, refused", [
    ("I'm sorry, but I can't help with that. It is harmful.", True),
    ("I cannot assist with this request.", True),
    ("As an AI language model, I am unable to write this.", True),
    ("抱歉，我无法完成这个请求。", True),
    ("I'm sorry to hear about your delayed order! Here is the script.", False),
    ('{"segments": [{"text": "I cannot wait to show you!"}]}', False),
    ("\x10Fnd policy\x0bolicywel9 t t", False),
])
def test_refusal_detection(text, refused):
    assert (detect_refusal(text) is not None) == refused
