# SPDX-License-Identifier: GPL-3.0-or-later
"""The local transformers backend on tiny random-weight Qwen2/Qwen3 models built here.

The models' output is noise: it must go through repair and retry and end in a clear error, or in
the brief itself reported as a fallback -- never in a "script" made of garbage.
"""

import shutil

import pytest
from llm_fixtures import build_tiny_qwen

from paksatalker.core.errors import BackendError, InputError
from paksatalker.core.script import write
from paksatalker.core.script.conversation import Conversation
from paksatalker.core.script.llm import ScriptWriter
from paksatalker.core.script.llm_cache import LLMCache
from paksatalker.core.script.qwen_local import QwenLocal
from paksatalker.core.settings import ScriptSettings

pytest.importorskip("transformers")
MSGS = [{"role": "system", "content": "You are a presenter."},
        {"role": "user", "content": "Hello there, welcome to our refund policy."}]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: a tiny model gains nothing from two, and a busy CI box loses a lot."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def qwen2(tmp_path_factory):
    return build_tiny_qwen(tmp_path_factory.mktemp("qwen2"), "qwen2")


@pytest.fixture(scope="module")
def model(qwen2):
    return QwenLocal(str(qwen2), device="cpu")


def test_loads_offline_from_the_folder_and_counts_with_its_own_tokenizer(qwen2, model):
    from transformers import AutoTokenizer

    tok, lm = model.load()
    assert type(lm).__name__ == "Qwen2ForCausalLM" and str(lm.dtype) == "torch.float32"
    assert model.context_window == 4096
    ref = AutoTokenizer.from_pretrained(qwen2, local_files_only=True)
    text = ref.apply_chat_template(MSGS, tokenize=False, add_generation_prompt=True,
                                  enable_thinking=False)
    assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert model.count_tokens(MSGS) == len(ref(text, add_special_tokens=False)["input_ids"])
    assert model.count_tokens(MSGS[:1]) < model.count_tokens(MSGS)


def test_generates_streams_and_batches(model):
    pieces = []
    reply = model.chat(MSGS, max_tokens=24, temperature=0.8, seed=1, on_token=pieces.append)
    assert isinstance(reply.text, str) and reply.finish_reason in ("stop", "length")
    assert "".join(pieces).strip() == reply.text
    again = model.chat(MSGS, max_tokens=24, temperature=0.8, seed=1)
    assert again.text == reply.text  # seeded sampling is reproducible
    batch = model.chat_many([MSGS, MSGS[1:], [{"role": "user", "content": "Hi"}]],
                            max_tokens=12, temperature=0.0, seed=0)
    assert len(batch) == 3 and all(isinstance(r.text, str) for r in batch)


def test_garbage_output_ends_in_a_clear_error(model, tmp_path):
    s = ScriptSettings(max_tokens=40, attempts=2, duration=10)
    w = ScriptWriter(model, s, cache=LLMCache(tmp_path))
    with pytest.raises(BackendError, match=r"no valid script in 2 attempt\(s\) \(last problem"):
        w.write("Ten seconds on our refund policy, friendly")
    assert not list(tmp_path.rglob("*.json"))  # invalid replies are never cached


def test_garbage_output_falls_back_to_the_brief_and_says_so(model, tmp_path):
    s = ScriptSettings(max_tokens=40, attempts=2, on_failure="brief")
    r = ScriptWriter(model, s, cache=LLMCache(tmp_path)).write("[happy] Welcome to the shop!")
    assert r.fallback.startswith("the model gave no valid script in 2 attempt(s)")
    assert r.fallback.endswith("speaking the brief as written")
    assert len(r.replies) == 2 and r.script.text == "Welcome to the shop!"
    assert r.script.segments[0].emotion == "happy"


def test_registry_backend_loads_the_folder(qwen2):
    s = ScriptSettings(endpoint=str(qwen2), max_tokens=32, attempts=1, cache=False,
                       on_failure="brief", device="cpu")
    script = write("Hello there.", backend="qwen-local", settings=s)
    assert script.text == "Hello there."


def test_conversation_counts_tokens_with_the_model_tokenizer(model, tmp_path):
    conv = Conversation(model, tmp_path / "s.json", max_tokens=16)
    conv.ask("Hello there")
    assert conv.token_count() == model.count_tokens(conv.messages())
    assert (tmp_path / "s.json").exists() and len(conv.turns) == 2


def test_qwen3_and_the_hf_cache_layout(tmp_path):
    folder = build_tiny_qwen(tmp_path / "src", "qwen3", seed=3)
    snap = tmp_path / "hub" / "models--tiny--qwen3" / "snapshots" / "0123abcd"
    shutil.copytree(folder, snap)
    (snap.parents[1] / "refs").mkdir()
    (snap.parents[1] / "refs" / "main").write_text("0123abcd")
    m = QwenLocal("tiny/qwen3", cache_dir=str(tmp_path / "hub"), device="cpu", dtype="bfloat16")
    assert m.folder == snap
    lm = m.load()[1]
    assert type(lm).__name__ == "Qwen3ForCausalLM" and str(lm.dtype) == "torch.bfloat16"
    assert "<think>" not in m.chat(MSGS, max_tokens=16, temperature=0.0).text
    with pytest.raises(BackendError, match="not in the Hugging Face cache"):
        QwenLocal("tiny/absent", cache_dir=str(tmp_path / "hub"))


def test_bad_options_are_clear_errors(qwen2, tmp_path):
    with pytest.raises(BackendError, match="needs a CUDA GPU"):
        QwenLocal(str(qwen2), device="cpu", quantization="4bit").load()
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(BackendError, match="no CUDA GPU"):
            QwenLocal(str(qwen2), device="cuda").load()
    with pytest.raises(InputError, match="dtype"):
        QwenLocal(str(qwen2), dtype="int3")
    with pytest.raises(InputError, match="no config.json"):
        QwenLocal(str(tmp_path))
    with pytest.raises(InputError, match="no such model folder"):
        QwenLocal(str(tmp_path / "missing"))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(BackendError, match="cannot load the model"):
        QwenLocal(str(tmp_path), device="cpu").load()
