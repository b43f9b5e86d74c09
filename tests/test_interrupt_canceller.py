"""The echo cancellers (assistant/interrupt/canceller.py) on real speech: espeak-ng's long
answer played, its room echo (delay, reverberation, level; assistant.bench.echo) at the
microphone, and "stop" said over it. The figures are in docs/interrupt.md."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from assistant.audio.types import Audio, to_pipeline
from assistant.bench.echo import energy_db, erle_db, kept_db, room_echo
from assistant.errors import InterruptError
from assistant.interrupt.canceller import NoCanceller, ServerCanceller, load_canceller
from tests.conftest import espeak_audio, trim

ANSWER = ("The library opens at nine in the morning and closes at six in the evening on "
          "weekdays, and on Saturdays it opens at ten and closes at four.")
STOP_AT_S = 4.0


@pytest.fixture(scope="module")
def answer() -> Audio:
    return espeak_audio(ANSWER)


@pytest.fixture(scope="module")
def echo(answer: Audio) -> Audio:
    """The answer as the microphone hears it: 40 ms late, in a reverberant room, 6 dB down."""
    return room_echo(answer, delay_ms=40, reverb=50, gain_db=-6)


def stop_over(echo: Audio, level_db: float) -> Audio:
    """ "stop" alone, placed at STOP_AT_S, ``level_db`` relative to the echo there."""
    stop = trim(espeak_audio("stop")).samples.astype(np.float64)
    at = int(STOP_AT_S * echo.rate_hz)
    under = echo.samples[at:at + len(stop)].astype(np.float64)
    gain = np.sqrt(np.mean(under**2) / np.mean(stop**2)) * 10 ** (level_db / 20)
    talker = np.zeros(len(echo.samples))
    talker[at:at + len(stop)] = stop * gain
    return Audio(np.clip(np.round(talker), -32768, 32767).astype(np.int16))


def mix(a: Audio, b: Audio) -> Audio:
    total = a.samples.astype(np.int32) + b.samples.astype(np.int32)
    return Audio(np.clip(total, -32768, 32767).astype(np.int16))


def cancel(played: Audio, mic: Audio, chunk: int = 480, name: str = "livekit") -> Audio:
    """A fresh canceller: ``played`` handed over at once (as the sink does with a sentence),
    the microphone fed in ``chunk``-sample blocks; the output put back in place."""
    canceller = load_canceller(name)
    canceller.played(played)
    parts = [canceller.process(Audio(mic.samples[i:i + chunk], mic.rate_hz, i * 1000 / 16000))
             for i in range(0, len(mic.samples), chunk)]
    for part, i in zip(parts, range(0, len(mic.samples), chunk), strict=True):
        assert len(part.samples) == min(chunk, len(mic.samples) - i)
        assert i * 1000 / 16000 - 10 < part.timestamp_ms <= i * 1000 / 16000
    starts = range(0, len(mic.samples), chunk)
    lag = round((starts[-1] * 1000 / 16000 - parts[-1].timestamp_ms) * 16)
    out = np.concatenate([p.samples for p in parts])
    return Audio(np.concatenate([out[lag:], np.zeros(lag, np.int16)]))


@pytest.fixture(scope="module")
def livekit() -> None:
    pytest.importorskip("livekit.rtc", reason="pip install '.[interrupt]'")


@pytest.mark.usefixtures("livekit")
def test_livekit_removes_its_own_voice(answer: Audio, echo: Audio) -> None:
    out = cancel(answer, echo)
    assert erle_db(echo, out, skip_s=1.0) >= 10.0


@pytest.mark.usefixtures("livekit")
def test_livekit_takes_what_is_played_at_the_voice_rate_and_odd_blocks(
        answer: Audio, echo: Audio) -> None:
    """Piper speaks at 22050 Hz; the canceller converts the reference itself, and microphone
    blocks that are not whole 10 ms frames come back as long, at most 10 ms late."""
    at_22k = to_pipeline(answer.samples, answer.rate_hz, out_rate_hz=22050)
    out = cancel(at_22k, echo, chunk=333)
    assert erle_db(echo, out, skip_s=1.0) >= 10.0


@pytest.mark.usefixtures("livekit")
@pytest.mark.parametrize("level_db", [-6, -12])
def test_someone_saying_stop_over_the_answer_is_kept(echo: Audio, answer: Audio,
                                                     level_db: float) -> None:
    talker = stop_over(echo, level_db)
    alone = cancel(answer, echo)
    over = cancel(answer, mix(echo, talker))
    assert kept_db(talker, over, alone) > -10.0  # most of "stop" survives (about -3 to -7 dB)
    span = slice(int(STOP_AT_S * 16000), int(STOP_AT_S * 16000) + 6000)
    assert energy_db(over.samples[span]) > energy_db(alone.samples[span]) + 6.0


@pytest.mark.usefixtures("livekit")
def test_livekit_passes_the_room_through_between_answers(answer: Audio, echo: Audio) -> None:
    """After reset (an answer cut short) and its echo's tail, the microphone is untouched:
    nothing runs while the assistant is silent. The next answer is cancelled again."""
    canceller = load_canceller("livekit")
    canceller.played(answer)
    canceller.process(Audio(echo.samples[:32000]))
    canceller.reset()
    canceller.process(Audio(Audio.silence(1.5).samples, 16000, 2000.0))
    room = espeak_audio("what time is it")
    room = Audio(room.samples[: len(room.samples) // 160 * 160], 16000, 3500.0)  # 10 ms blocks
    assert np.array_equal(canceller.process(room).samples, room.samples)
    canceller.played(answer)  # on the microphone's stream time: from where it has got to
    again = canceller.process(Audio(echo.samples, 16000, room.end_ms))
    assert erle_db(echo, again, skip_s=1.0) >= 10.0


@pytest.mark.parametrize("canceller", [NoCanceller(), ServerCanceller()])
def test_none_and_server_pass_the_microphone_unchanged(canceller: object) -> None:
    voice = espeak_audio("stop")
    chunk = Audio(voice.samples, 16000, 1234.0)
    canceller.played(espeak_audio("the answer"))  # type: ignore[attr-defined]
    assert canceller.process(chunk) is chunk  # type: ignore[attr-defined]
    canceller.reset()  # type: ignore[attr-defined]
    assert load_canceller("none").name == "none"
    assert load_canceller("server").name == "server"


def test_an_unknown_canceller_names_the_known_ones() -> None:
    with pytest.raises(InterruptError, match="livekit, speex, server, none") as err:
        load_canceller("nonsense")
    assert "\n" not in str(err.value) and err.value.stage == "interrupt"


def test_a_missing_livekit_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "livekit", None)
    with pytest.raises(InterruptError, match=r"pip install 'assistant\[interrupt\]'") as err:
        load_canceller("livekit")
    assert err.value.code == "missing-package" and "\n" not in str(err.value)


@pytest.mark.usefixtures("livekit")
def test_a_second_answer_is_cancelled_from_its_first_second(answer: Audio, echo: Audio) -> None:
    """Live, the loudspeaker says when each block will be heard and the microphone when each
    chunk was captured (monotonic seconds, not stream time): the canceller pairs them by those
    times, so the echo's delay is the same in every answer and the next answer's start is
    cancelled at once, not after AEC3 has searched for the delay again."""
    clock_s = 5000.0  # the microphone's stream time 0, on the monotonic clock
    gap = Audio.silence(1.5)
    mic = Audio(np.concatenate([echo.samples, gap.samples, echo.samples]))
    canceller = load_canceller("livekit")
    heard_s = clock_s + 0.3  # the first answer is heard 0.3 s into the stream, in 40 ms blocks
    for second_answer in (False, True):
        if second_answer:
            heard_s = clock_s + 0.3 + answer.duration_s + gap.duration_s
        for i in range(0, len(answer.samples), 640):
            block = Audio(answer.samples[i:i + 640])
            canceller.played(block, heard_s + i / 16000)
    mic = Audio(np.concatenate([np.zeros(4800, np.int16), mic.samples]))  # the same 0.3 s
    out = []
    for i in range(0, len(mic.samples), 480):  # the listening thread: 30 ms chunks
        chunk = Audio(mic.samples[i:i + 480], 16000, i / 16)
        out.append(canceller.process(chunk, clock_s + i / 16000).samples)
    cancelled = np.concatenate(out)[:len(mic.samples)]
    second = 4800 + len(echo.samples) + len(gap.samples)
    first_second = slice(second + 160, second + 16000)  # the output lags by up to 10 ms
    assert erle_db(Audio(mic.samples[first_second]), Audio(cancelled[first_second])) >= 10.0


@pytest.fixture(scope="module")
def speex() -> None:
    from assistant.interrupt.speex import _load_library

    try:
        _load_library()
    except InterruptError:
        pytest.skip("libspeexdsp is not installed (apt install libspeexdsp1)")


@pytest.mark.usefixtures("speex")
def test_speex_removes_its_own_voice_and_keeps_a_voice_over_it(answer: Audio) -> None:
    """The linear filter: once it has learnt the room (a dry one: 40 ms, no reverberation)
    it removes most of the echo, and "stop" said over the answer passes unchanged, where
    WebRTC's suppressor turns it into something Whisper hears as "no"."""
    echo = room_echo(answer, delay_ms=40, reverb=None, gain_db=-6)
    talker = stop_over(echo, -6)
    alone = cancel(answer, echo, name="speex")
    over = cancel(answer, mix(echo, talker), name="speex")
    assert erle_db(echo, alone, skip_s=3.0) >= 15.0
    span = slice(int(STOP_AT_S * 16000), int(STOP_AT_S * 16000) + 6000)
    kept = over.samples[span].astype(float) - alone.samples[span].astype(float)
    said = talker.samples[span].astype(float)
    # the same sound, not a damaged one (speex's DC filter shifts its phase by a few ms)
    best = max(np.corrcoef(np.roll(kept, lag), said)[0, 1] for lag in range(-160, 161))
    assert best > 0.9
    assert abs(energy_db(kept) - energy_db(said)) < 1.0


def test_an_unknown_canceller_lists_speex_too() -> None:
    with pytest.raises(InterruptError, match="speex"):
        load_canceller("nonsense")


def test_the_echo_is_found_where_it_is_and_not_in_silence_or_other_speech(answer: Audio) -> None:
    from assistant.interrupt.align import echo_offset

    played = answer.samples[16000:32000]
    echo = room_echo(Audio(played), delay_ms=0, reverb=50, gain_db=-6).samples
    span = np.concatenate([np.zeros(1234, np.int16), played, np.zeros(2000, np.int16)])
    assert echo_offset(echo[:9600], span) == 1234  # 0.6 s of the microphone
    assert echo_offset(np.zeros(9600, np.int16), span) is None
    assert echo_offset(espeak_audio("what time is it").samples[:9600], span) is None


@pytest.mark.usefixtures("speex")
def test_speex_cancels_an_answer_the_sound_card_started_late_from_its_first_second(
        answer: Audio) -> None:
    """Live, each answer starts a few ms earlier or later than the loudspeaker's clock says
    (when the sound server begins to play). A linear filter learnt for the last answer would
    be wrong for the next and learn the room again, for seconds: the canceller finds the echo
    in the first 0.6 s of each answer and places the reference by it."""
    echo = room_echo(answer, delay_ms=40, reverb=None, gain_db=-6).samples
    clock_s, late = 5000.0, 400  # the second answer is heard 25 ms later than the clock says
    gap = np.zeros(24000, np.int16)
    mic = np.concatenate([echo, gap, np.zeros(late, np.int16), echo])
    canceller = load_canceller("speex")
    for start_s in (clock_s, clock_s + (len(echo) + len(gap)) / 16000):
        for i in range(0, len(answer.samples), 640):
            canceller.played(Audio(answer.samples[i:i + 640]), start_s + i / 16000)
    out = np.concatenate([canceller.process(Audio(mic[i:i + 480], 16000, i / 16),
                                            clock_s + i / 16000).samples
                          for i in range(0, len(mic), 480)])
    second = len(echo) + len(gap) + late
    after_alignment = slice(second + 12000, second + 32000)  # 0.75 s to 2 s into it
    assert erle_db(Audio(mic[after_alignment]), Audio(out[after_alignment])) >= 15.0


@pytest.mark.usefixtures("speex")
def test_auto_picks_speex_the_one_that_let_stop_through_live() -> None:
    from assistant.interrupt import canceller_name

    assert canceller_name("auto") == "speex"
    assert canceller_name("livekit") == "livekit"
