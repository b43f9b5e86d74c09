"""Load on `assistant serve`: N concurrent Wyoming clients on 127.0.0.1, each sending spoken
questions (espeak-ng, 16 kHz mono, 20 ms chunks, sent as fast as the socket takes them, as a
burst of satellites would after Home Assistant's end of speech), then the transcript back for
an answer, the way Home Assistant's pipeline does it (speech-to-text, then the conversation
agent, on separate connections).

The server runs as its own process (`python -m assistant serve`), so its memory (peak RSS)
and CPU time are its own. Reported per N: requests, throughput (requests/s wall clock),
latency of speech-to-text (audio-stop -> transcript) and of the whole request (first chunk ->
handled), median and p95, accuracy (the right answer), and the server's CPU seconds.

    python benchmarks/serve_load.py [--clients 1 4 16] [--requests 48] [--asr pocketsphinx]

With --realtime, chunks are paced at real time and followed by 0.7 s of silence before
audio-stop, as a satellite streams through Home Assistant's end-of-speech detection; with
--no-speculative the server runs with asr.speculative: false (the comparison).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from wyoming.asr import Transcribe, Transcript  # noqa: E402
from wyoming.audio import AudioChunk, AudioStart, AudioStop  # noqa: E402
from wyoming.client import AsyncTcpClient  # noqa: E402
from wyoming.event import Event  # noqa: E402
from wyoming.info import Describe  # noqa: E402

from assistant.kb.knowledge import load_kb  # noqa: E402
from assistant.spoken_set import speak  # noqa: E402


def proc_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds user+system, peak RSS MiB) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    peak_kib = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak_kib = int(line.split()[1])
    return cpu_s, peak_kib / 1024


def events_for(pcm: bytes) -> list[Event]:
    fmt = {"rate": 16000, "width": 2, "channels": 1}
    step = 640  # 20 ms
    return ([Transcribe(language="en").event(), AudioStart(**fmt).event()]
            + [AudioChunk(audio=pcm[i:i + step], **fmt).event()
               for i in range(0, len(pcm), step)] + [AudioStop().event()])


REALTIME = False


async def one_request(port: int, events: list[Event]) -> tuple[float, float, str, str]:
    t0 = time.perf_counter()
    async with AsyncTcpClient("127.0.0.1", port) as c:
        for e in events:
            await c.write_event(e)
            if REALTIME and e.type == "audio-chunk":
                await asyncio.sleep(0.02)
        t_stop = time.perf_counter()
        reply = await c.read_event()
        t_text = time.perf_counter()
    text = Transcript.from_event(reply).text if reply else ""
    async with AsyncTcpClient("127.0.0.1", port) as c:
        await c.write_event(Transcript(text=text).event())
        answer = await c.read_event()
    t_end = time.perf_counter()
    return t_text - t_stop, t_end - t0, text, str(answer.data.get("text")) if answer else ""


async def load(port: int, clients: int, requests: int,
               spoken: list[tuple[list[Event], str]]) -> tuple[list[tuple[float, float]], int,
                                                               float]:
    todo = list(range(requests))
    results: list[tuple[float, float]] = []
    right = 0

    async def client() -> None:
        nonlocal right
        while todo:
            i = todo.pop()
            events, expected = spoken[i % len(spoken)]
            asr_s, total_s, _, answer = await one_request(port, events)
            results.append((asr_s, total_s))
            right += answer == expected

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return results, right, time.perf_counter() - t0


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    async def describe() -> None:
        async with AsyncTcpClient("127.0.0.1", port) as c:
            await c.write_event(Describe().event())
            await c.read_event()
        async with AsyncTcpClient("127.0.0.1", port) as c:  # answers once models are loaded
            await c.write_event(Transcript(text="hello").event())
            await c.read_event()
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit("the server exited")
        try:
            asyncio.run(describe())
            return
        except OSError:
            time.sleep(0.2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--requests", type=int, default=48, help="requests per N")
    ap.add_argument("--asr", default="pocketsphinx")
    ap.add_argument("--max-recognitions", type=int, default=2)
    ap.add_argument("--qa", default=str(REPO / "qa.yaml"))
    ap.add_argument("--realtime", action="store_true")
    ap.add_argument("--no-speculative", action="store_true")
    args = ap.parse_args()
    global REALTIME
    REALTIME = args.realtime
    import tempfile

    config = Path(tempfile.mkdtemp()) / "config.yaml"
    config.write_text(f"asr:\n  speculative: {str(not args.no_speculative).lower()}\n")

    kb = load_kb(Path(args.qa))
    spoken = []
    for entry in kb.entries:
        from assistant.kb.knowledge import render_answer

        if "{" in entry.answer:
            continue  # {time}/{date}: the expected text changes while we measure
        from assistant.audio.types import Audio

        audio = speak(entry.questions[0])
        if args.realtime:
            audio = Audio.concat([audio, Audio.silence(0.7)])
        spoken.append((events_for(audio.pcm), render_answer(entry.answer)))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--uri",
                             f"tcp://127.0.0.1:{port}", "--qa", args.qa, "--asr", args.asr,
                             "--config", str(config),
                             "--no-tts", "--max-recognitions", str(args.max_recognitions),
                             "--log", os.devnull, "-q"])
    try:
        t0 = time.perf_counter()
        wait_ready(port, proc)
        cpu0, rss0 = proc_stats(proc.pid)
        print(f"server ready in {time.perf_counter() - t0:.1f} s, RSS {rss0:.0f} MiB; "
              f"{platform.machine()}, {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.2f}; asr {args.asr}, --max-recognitions "
              f"{args.max_recognitions}, {len(spoken)} different questions, realtime "
              f"{args.realtime}, speculative {not args.no_speculative}")
        print("| clients | requests | throughput (req/s) | speech-to-text median / p95 (ms) | "
              "whole request median / p95 (ms) | right answers | server CPU s | peak RSS MiB |")
        print("|---|---|---|---|---|---|---|---|")
        for n in args.clients:
            cpu_a, _ = proc_stats(proc.pid)
            results, right, wall_s = asyncio.run(load(port, n, args.requests, spoken))
            cpu_b, rss = proc_stats(proc.pid)
            asr = [1000 * r[0] for r in results]
            total = [1000 * r[1] for r in results]
            print(f"| {n} | {len(results)} | {len(results) / wall_s:.1f} | "
                  f"{statistics.median(asr):.0f} / {p95(asr):.0f} | "
                  f"{statistics.median(total):.0f} / {p95(total):.0f} | "
                  f"{right}/{len(results)} | {cpu_b - cpu_a:.1f} | {rss:.0f} |")
        del cpu0
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
