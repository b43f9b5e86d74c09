"""The JSON Lines exchange log and `assistant log`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from assistant.answerer import Answerer
from assistant.audio.files import read_audio
from assistant.audio.types import Audio
from assistant.cli import main
from assistant.config import load_config
from assistant.exchange_log import ExchangeLog, configured_path, read_exchanges, unanswered
from assistant.kb.knowledge import load_kb
from assistant.pipeline import Exchange
from tests.conftest import espeak_audio
from tests.test_reload import OLD, WordEmbedder


@pytest.fixture
def answerer(tmp_path: Path) -> Answerer:
    qa = tmp_path / "qa.yaml"
    qa.write_text(OLD, encoding="utf-8")
    return Answerer(load_kb(qa), WordEmbedder(), 0.6, None)


def exchange(answerer: Answerer, text: str, when: str, audio: Audio | None = None) -> Exchange:
    ex = Exchange(audio or Audio.silence(1.0), time=when)
    ex.transcript = text
    ex.reply = answerer.reply(text)
    ex.timings_ms.update({"asr": 40.0, "embed": ex.reply.embed_ms, "match": ex.reply.match_ms})
    return ex


ASKED = [("where do you live", "2025-01-01T10:00:00.000+00:00"),
         ("how tall is everest", "2025-01-01T10:01:00.000+00:00"),
         ("what is your name", "2025-01-01T10:02:00.000+00:00"),
         ("play some music", "2025-01-01T10:03:00.000+00:00"),
         ("How tall is  Everest", "2025-01-01T10:04:00.000+00:00")]


@pytest.fixture
def filled(tmp_path: Path, answerer: Answerer) -> Path:
    path = tmp_path / "state" / "exchanges.jsonl"
    log = ExchangeLog(path)
    for text, when in ASKED:
        log.append(exchange(answerer, text, when))
    log.close()
    return path


def test_one_object_per_exchange_with_everything(filled: Path) -> None:
    lines = filled.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(ASKED)
    first = json.loads(lines[0])
    assert first["transcript"] == "where do you live" and first["answer"] == "I live in Kathmandu."
    assert first["fallback"] is False and first["question"] == "where do you live"
    assert first["top"][0]["question"] == "where do you live" and first["top"][0]["score"] > 0.5
    assert set(first["latency_ms"]) == {"asr", "embed", "match"} and first["duration_s"] == 1.0
    assert json.loads(lines[1])["answer"] == "old fallback"
    assert stat.S_IMODE(os.stat(filled).st_mode) == 0o600  # transcripts are private


def test_a_truncated_last_line_is_skipped_and_the_next_append_starts_fresh(
        filled: Path, answerer: Answerer) -> None:
    with open(filled, "a", encoding="utf-8") as f:
        f.write('{"time": "2025-01-01T10:05:00", "transcr')  # the crash
    result = read_exchanges(filled)
    assert len(result.records) == len(ASKED) and result.skipped == 1
    log = ExchangeLog(filled)
    log.append(exchange(answerer, "what is your name", "2025-01-01T10:06:00.000+00:00"))
    log.close()
    result = read_exchanges(filled)
    assert len(result.records) == len(ASKED) + 1 and result.skipped == 1
    assert result.records[-1]["time"] == "2025-01-01T10:06:00.000+00:00"
    assert len(read_exchanges(filled, last=2).records) == 2


def test_unanswered_most_frequent_first(filled: Path) -> None:
    groups = unanswered(read_exchanges(filled).records)
    assert [(g.transcript, g.count) for g in groups] == [("How tall is Everest", 2),
                                                         ("play some music", 1)]


def test_log_command_table_unanswered_and_json(filled: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log", "--file", str(filled), "-n", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["time", "heard", "matched"]
    assert len(out) == 4 and "'what is your name'" in out[1] and "I am Echo." in out[1]
    assert "2025-01-01 10:02:00" in out[1]
    assert main(["log", "--file", str(filled), "--unanswered"]) == 0
    out = capsys.readouterr().out.splitlines()[1:]  # after the line of counts
    assert out[1].split()[0] == "2" and "How tall is Everest" in out[1]
    assert "play some music" in out[2] and len(out) == 3
    assert main(["log", "--file", str(filled), "--json", "-n", "0"]) == 0
    assert [r["transcript"] for r in json.loads(capsys.readouterr().out)] == [a for a, _ in ASKED]


def test_log_command_marks_an_answer_a_stop_phrase_cut_short(
        tmp_path: Path, answerer: Answerer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "exchanges.jsonl"
    with open(path, "w", encoding="utf-8") as f:  # a line from before answers could be stopped
        f.write('{"time": "2025-01-01T09:59:00.000+00:00", "transcript": "where do you live", '
                '"question": "where do you live", "score": 0.9, "answer": "I live in '
                'Kathmandu.", "fallback": false, "latency_ms": {"asr": 40.0}}\n')
    log = ExchangeLog(path)
    stopped = exchange(answerer, "what is your name", "2025-01-01T10:00:00.000+00:00")
    stopped.interrupted = "stop"
    log.append(stopped)
    log.append(exchange(answerer, "where do you live", "2025-01-01T10:01:00.000+00:00"))
    log.close()
    monkeypatch.setenv("COLUMNS", "160")
    assert main(["log", "--file", str(path)]) == 0
    old, cut, whole = capsys.readouterr().out.splitlines()[1:]
    assert "I live in Kathmandu." in old and "stopped" not in old
    assert "[stopped: 'stop'] I am Echo." in cut
    assert "I live in Kathmandu." in whole and "stopped" not in whole
    assert main(["log", "--file", str(path), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r.get("interrupted") for r in records] == [None, "stop", None]


def test_log_command_without_a_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["log", "--file", str(tmp_path / "none.jsonl")]) == 0
    assert "no exchanges logged yet" in capsys.readouterr().err


def test_audio_is_kept_only_when_asked(tmp_path: Path, answerer: Answerer) -> None:
    cfg_path = tmp_path / "config.yaml"
    cfg_path.write_text("log:\n  file: logs/ex.jsonl\n  save_audio: true\n", encoding="utf-8")
    cfg = load_config(cfg_path)
    log = ExchangeLog.from_config(cfg)
    assert log is not None and log.path == tmp_path / "logs" / "ex.jsonl"
    speech = espeak_audio("where do you live")
    log.append(exchange(answerer, "where do you live", "2025-01-01T10:00:00.000+00:00",
                        speech))
    log.close()
    record = read_exchanges(log.path).records[0]
    saved = read_audio(record["audio"])
    assert Path(record["audio"]).parent == tmp_path / "logs" / "audio"
    assert len(saved.samples) == len(speech.samples)
    cfg_path.write_text("log:\n  enabled: false\n", encoding="utf-8")
    assert configured_path(load_config(cfg_path)) is None


def test_default_place_follows_systemd_then_xdg(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOGS_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    cfg = load_config(None)
    assert configured_path(cfg) == tmp_path / "state" / "assistant" / "exchanges.jsonl"
    monkeypatch.setenv("LOGS_DIRECTORY", str(tmp_path / "var-log"))
    assert configured_path(cfg) == tmp_path / "var-log" / "exchanges.jsonl"


def test_an_unwritable_log_never_stops_the_daemon(tmp_path: Path, answerer: Answerer,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    log = ExchangeLog(blocker / "exchanges.jsonl")
    log.append(exchange(answerer, "where do you live", "2025-01-01T10:00:00.000+00:00"))
    assert log.written == 0
    assert len([r for r in caplog.records if "exchange log" in r.getMessage()]) == 1
