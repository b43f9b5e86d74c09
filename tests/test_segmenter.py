"""Endpointing: the pure state machine with booleans, then real webrtcvad on real speech."""

from __future__ import annotations

import numpy as np

from assistant.audio.types import Audio
from assistant.config import VadConfig
from assistant.vad import Framer, Segmenter, SegmenterSettings, WebRtcVad, segmenter_settings
from assistant.vad.segmenter import Dropped, Ended, SilenceBegan, SpeechResumed, Started
from tests.conftest import espeak_audio, join_with_silence

FRAME_MS = 30
SETTINGS = SegmenterSettings(pre_roll_s=0.3, min_speech_s=0.25, hangover_s=0.5,
                             max_utterance_s=10.0)


def frames(pattern: str, start_ms: float = 0.0) -> list[tuple[Audio, bool]]:
    """'s' = a speech frame, '.' = a silent one; each frame's first sample is its index so the
    test can tell which frames an utterance holds."""
    out = []
    for i, ch in enumerate(pattern):
        samples = np.full(480, i, np.int16)
        out.append((Audio(samples, 16000, start_ms + i * FRAME_MS), ch == "s"))
    return out


def run(pattern: str, settings: SegmenterSettings = SETTINGS) -> list[object]:
    seg = Segmenter(settings, FRAME_MS)
    events: list[object] = []
    for frame, speech in frames(pattern):
        events += seg.push(frame, speech)
    return events


def test_one_utterance_with_pre_roll_and_hangover() -> None:
    events = run("." * 20 + "s" * 20 + "." * 20)
    kinds = [type(e) for e in events]
    assert kinds == [Started, SilenceBegan, Ended]
    ended = events[-1]
    assert isinstance(ended, Ended) and ended.reason == "silence"
    first_frame = int(ended.audio.samples[0])
    assert first_frame == 10  # 0.3 s pre-roll = 10 frames before the first speech frame
    # speech (20 frames) + pre-roll (10) + hangover (0.5 s -> 17 frames)
    assert len(ended.audio.samples) == (10 + 20 + 17) * 480
    assert ended.audio.timestamp_ms == 10 * FRAME_MS
    assert ended.speech_end_ms == 40 * FRAME_MS


def test_a_click_is_dropped() -> None:
    events = run("." * 5 + "sss" + "." * 30)
    assert [type(e) for e in events] == [Started, Dropped]


def test_a_short_pause_inside_speech_does_not_end_it() -> None:
    events = run("s" * 15 + "." * 8 + "s" * 15 + "." * 20)
    kinds = [type(e) for e in events]
    assert kinds == [Started, SilenceBegan, SpeechResumed, SilenceBegan, Ended]


def test_long_speech_is_cut_at_max_length_not_hung() -> None:
    settings = SegmenterSettings(pre_roll_s=0.0, min_speech_s=0.1, hangover_s=0.5,
                                 max_utterance_s=1.5)
    events = run("s" * 120, settings)
    ended = [e for e in events if isinstance(e, Ended)]
    assert len(ended) == 2 and all(e.reason == "max-length" for e in ended)
    assert all(abs(e.audio.duration_s - 1.5) < 0.031 for e in ended)


def test_flush_closes_an_utterance_in_progress() -> None:
    seg = Segmenter(SETTINGS, FRAME_MS)
    for frame, speech in frames("...ssssssssss"):
        seg.push(frame, speech)
    last = seg.flush()
    assert isinstance(last, Ended) and last.reason == "end-of-stream"
    assert seg.flush() is None


def test_presets_and_explicit_values() -> None:
    fast, default, relaxed = (segmenter_settings(VadConfig(preset=p))
                              for p in ("fast", "default", "relaxed"))
    assert fast.hangover_s < default.hangover_s < relaxed.hangover_s
    assert default == SegmenterSettings(0.3, 0.25, 0.5, 10.0)
    assert segmenter_settings(VadConfig(preset="fast", hangover_s=0.7)).hangover_s == 0.7


def test_framer_keeps_timestamps_across_odd_block_sizes() -> None:
    framer = Framer(30)
    audio = Audio(np.arange(16000, dtype=np.int16))
    out = []
    for start in range(0, 16000, 1000):  # 62.5 ms blocks
        out += list(framer.push(Audio(audio.samples[start:start + 1000], 16000,
                                      start / 16.0)))
    assert len(out) == 16000 // 480
    assert [f.timestamp_ms for f in out[:3]] == [0.0, 30.0, 60.0]
    assert int(out[5].samples[0]) == 5 * 480


def test_real_speech_gives_one_utterance_per_sentence() -> None:
    sentences = ["where do you live", "what time is it", "who made you"]
    spoken = [espeak_audio(s) for s in sentences]
    stream = join_with_silence(spoken, gap_s=1.2)
    vad, framer, seg = WebRtcVad(2), Framer(30), Segmenter(SETTINGS, 30)
    ended = []
    for frame in framer.push(stream):
        ended += [e for e in seg.push(frame, vad.is_speech(frame)) if isinstance(e, Ended)]
    assert len(ended) == 3
    starts_s = [0.5]
    for s in spoken[:-1]:
        starts_s.append(starts_s[-1] + s.duration_s + 1.2)
    for e, spoken_start_s, s in zip(ended, starts_s, spoken, strict=True):
        begin_s = e.audio.timestamp_ms / 1000
        # the utterance starts before the speech does (pre-roll) and holds all of it
        assert begin_s <= spoken_start_s
        assert begin_s + e.audio.duration_s >= spoken_start_s + s.duration_s - 0.1
        assert e.audio.duration_s < s.duration_s + 1.0


def test_microphone_hiss_after_speech_is_not_speech() -> None:
    """A quiet microphone's hiss (-70 dBFS white noise) between questions must end the
    utterance: with webrtcvad below aggressiveness 3 it did not, once speech had been heard."""
    from assistant.config import VadConfig

    rng = np.random.default_rng(0)
    hiss = [Audio((rng.standard_normal(32000) * 10).astype(np.int16)) for _ in range(3)]
    question = espeak_audio("what is your name")
    stream = Audio.concat([hiss[0], question, hiss[1], question, hiss[2]])
    stream = Audio(stream.samples)
    vad = WebRtcVad(VadConfig().aggressiveness)
    framer, seg = Framer(30), Segmenter(SETTINGS, 30)
    ended = []
    for frame in framer.push(stream):
        ended += [e for e in seg.push(frame, vad.is_speech(frame)) if isinstance(e, Ended)]
    assert [e.reason for e in ended] == ["silence", "silence"]
    assert all(e.audio.duration_s < question.duration_s + 1.0 for e in ended)
