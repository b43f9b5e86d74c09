"""Reloading on SIGHUP, in process: a good qa.yaml is swapped in, a broken one keeps the old
knowledge base, questions asked during the reload are answered from one or the other."""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.answerer import Answerer
from assistant.config import load_config
from assistant.kb.knowledge import load_kb
from assistant.service.reload import Reloader, changed_fields


class WordEmbedder:
    """Bag of words hashed into 64 dimensions: enough to tell these questions apart."""

    name = "test-words"

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate  # when set by the test, embedding the knowledge base waits for it

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.gate is not None and len(texts) > 1:
            assert self.gate.wait(10)
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


OLD = """fallback: "old fallback"
entries:
  - answer: "I live in Kathmandu."
    questions: ["where do you live", "which city are you from"]
  - answer: "I am Echo."
    questions: ["what is your name"]
"""
NEW = """fallback: "new fallback"
entries:
  - answer: "I moved to Pokhara."
    questions: ["where do you live", "which city are you from"]
  - answer: "I am Echo."
    questions: ["what is your name"]
  - answer: "Blue."
    questions: ["what is your favourite colour"]
"""


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("qa_file: qa.yaml\nmatcher:\n  threshold: 0.6\n", encoding="utf-8")
    qa = tmp_path / "qa.yaml"
    qa.write_text(OLD, encoding="utf-8")
    return cfg, qa


def make(cfg_path: Path, embedder: WordEmbedder) -> tuple[Answerer, Reloader]:
    cfg = load_config(cfg_path)
    answerer = Answerer(load_kb(cfg.qa_path), embedder, cfg.matcher.threshold, None)
    adapted: list[list[str]] = []
    reloader = Reloader(answerer, cfg, lambda: load_config(cfg_path), adapted.append)
    reloader.adapted = adapted  # type: ignore[attr-defined]
    return answerer, reloader


def test_good_file_is_swapped_in_and_the_recognizer_adapts(setup: tuple[Path, Path]) -> None:
    cfg, qa = setup
    answerer, reloader = make(cfg, WordEmbedder())
    assert answerer.reply("where do you live").answer == "I live in Kathmandu."
    qa.write_text(NEW, encoding="utf-8")
    assert reloader.reload_now()
    assert answerer.reply("where do you live").answer == "I moved to Pokhara."
    assert answerer.reply("what is your favourite colour").answer == "Blue."
    assert answerer.reply("how tall is everest").answer == "new fallback"
    assert reloader.adapted[-1] == answerer.kb.questions  # type: ignore[attr-defined]


@pytest.mark.parametrize("broken", [
    "entries:\n  - answer: 'x'\n    questions: [\n",            # malformed YAML
    "entries:\n  - answer: ''\n    questions: ['where do you live']\n",  # empty answer
    "entries:\n  - answer: 'a'\n    questions: ['hi', 'Hi!']\n",  # duplicate phrasing
])
def test_broken_file_keeps_the_old_knowledge_base_with_one_line(
        setup: tuple[Path, Path], broken: str, caplog: pytest.LogCaptureFixture) -> None:
    cfg, qa = setup
    answerer, reloader = make(cfg, WordEmbedder())
    qa.write_text(broken, encoding="utf-8")
    with caplog.at_level(logging.ERROR, "assistant.reload"):
        assert not reloader.reload_now()
    assert answerer.reply("where do you live").answer == "I live in Kathmandu."
    errors = [r.getMessage() for r in caplog.records if r.name == "assistant.reload"]
    assert len(errors) == 1 and "\n" not in errors[0]
    assert "still answering from" in errors[0] and "qa.yaml" in errors[0]


def test_broken_config_and_missing_qa_keep_the_old(setup: tuple[Path, Path]) -> None:
    cfg, qa = setup
    answerer, reloader = make(cfg, WordEmbedder())
    cfg.write_text("matcher:\n  threshold: [1\n", encoding="utf-8")
    assert not reloader.reload_now()
    cfg.write_text("qa_file: nowhere.yaml\n", encoding="utf-8")
    assert not reloader.reload_now()
    assert answerer.reply("what is your name").answer == "I am Echo."
    assert reloader.failures == 2 and reloader.reloads == 0


def test_threshold_is_reloaded_and_restart_only_settings_are_named(
        setup: tuple[Path, Path], caplog: pytest.LogCaptureFixture) -> None:
    cfg, _ = setup
    cfg.write_text("qa_file: qa.yaml\nmatcher:\n  threshold: 2.9\n", encoding="utf-8")
    answerer, reloader = make(cfg, WordEmbedder())
    assert answerer.reply("where are you from").answer == "old fallback"  # nothing that sure
    cfg.write_text("qa_file: qa.yaml\nmatcher:\n  threshold: 0.1\naudio:\n  block_ms: 20\n",
                   encoding="utf-8")
    with caplog.at_level(logging.WARNING, "assistant.reload"):
        assert reloader.reload_now()
    assert answerer.matcher.threshold == pytest.approx(0.1)
    assert answerer.reply("where are you from").answer == "I live in Kathmandu."
    assert any("audio.block_ms" in r.getMessage() for r in caplog.records)
    assert changed_fields(reloader.current, load_config(cfg)) == ["audio.block_ms"]


def test_questions_during_the_reload_get_the_old_answers_then_the_new(
        setup: tuple[Path, Path]) -> None:
    """SIGHUP is handled on its own thread: the main thread keeps answering while the new
    questions are embedded, and the signal handler itself returns at once."""
    cfg, qa = setup
    gate = threading.Event()
    embedder = WordEmbedder()
    answerer, reloader = make(cfg, embedder)
    embedder.gate = gate
    qa.write_text(NEW, encoding="utf-8")
    done = threading.Event()
    reloader.on_request.append(lambda: None)
    previous = signal.signal(signal.SIGHUP, lambda s, f: reloader.request())
    original = reloader.reload_now

    def traced(why: str = "request") -> bool:
        try:
            return original(why)
        finally:
            done.set()

    reloader.reload_now = traced  # type: ignore[method-assign]
    try:
        reloader.start()
        signal.raise_signal(signal.SIGHUP)
        # the new knowledge base is being embedded (held at the gate): still the old answers
        for _ in range(20):
            assert answerer.reply("where do you live").answer == "I live in Kathmandu."
        gate.set()
        assert done.wait(10)
        assert answerer.reply("where do you live").answer == "I moved to Pokhara."
    finally:
        gate.set()
        reloader.close()
        signal.signal(signal.SIGHUP, previous)


def test_watch_reloads_a_changed_file(setup: tuple[Path, Path]) -> None:
    cfg, qa = setup
    answerer, reloader = make(cfg, WordEmbedder())
    reloader.watch_s = 0.05
    reloader.start()
    try:
        qa.write_text(NEW, encoding="utf-8")
        os.utime(qa, ns=(1, 10**18))  # a different mtime, whatever the file system's grain
        for _ in range(200):
            if reloader.reloads:
                break
            threading.Event().wait(0.05)
        assert reloader.reloads == 1
        assert answerer.reply("where do you live").answer == "I moved to Pokhara."
    finally:
        reloader.close()
