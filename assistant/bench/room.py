"""A simulated room: a private PulseAudio server whose null sink ``mic`` is both the
microphone and the loudspeaker.

The monitor of ``mic`` is the default source (what the assistant hears) and ``mic`` is the
default sink (where the assistant speaks), so its own voice reaches its microphone as a speaker
next to the mic would. Scenes are played into the sink with ``paplay`` and everything the room
hears (the scene and the assistant's answers, on one clock) is recorded with ``parecord``.

The server uses a unix socket in its own folder and shares nothing with a desktop session.
Used by the live tests and by `assistant bench` (mouth-to-ear latency, the room scene).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLS = ("pulseaudio", "pactl", "paplay", "parecord")
RATE_HZ = 16000


def missing_tools() -> str | None:
    """None when the room can be built here, else why not (for a skip message)."""
    absent = [t for t in TOOLS if shutil.which(t) is None]
    if absent:
        return (f"needs PulseAudio ({', '.join(absent)} not found: apt packages pulseaudio and "
                "pulseaudio-utils, which `.ci/setup.sh --test` installs)")
    return None


class Room:
    """A private PulseAudio server with a null sink 'mic': microphone and loudspeaker at once.

    ``with Room.start() as room:`` starts it (``RoomError`` says why it cannot), ``room.env``
    is the environment a client (the assistant, paplay) needs to use it."""

    def __init__(self, root: Path, own_root: bool = False) -> None:
        self.root = root
        self._own_root = own_root
        self.socket = root / "native"
        self.env = {**os.environ, "PULSE_SERVER": f"unix:{self.socket}"}
        for key in ("PULSE_SINK", "PULSE_SOURCE"):
            self.env.pop(key, None)
        self.module: str | None = None
        self.log = root / "pulseaudio.log"
        home, runtime = root / "home", root / "runtime"
        for d in (home, runtime):
            d.mkdir(mode=0o700, exist_ok=True)
        server_env = {**self.env, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime),
                      "PULSE_RUNTIME_PATH": str(runtime / "pulse"),
                      "XDG_CONFIG_HOME": str(home / ".config")}
        server_env.pop("PULSE_SERVER")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
                 "--disable-shm=yes", "--log-target=stderr", "-L",
                 f"module-native-protocol-unix socket={self.socket} auth-anonymous=1"],
                env=server_env, stdout=log, stderr=log)

    @classmethod
    def start(cls, check_portaudio: bool = True) -> Room:
        """Start a server with the 'mic' sink plugged in; RoomError says why it cannot."""
        why = missing_tools()
        if why:
            raise RoomError(why)
        # short: unix socket paths are limited to 107 bytes
        room = cls(Path(tempfile.mkdtemp(prefix="assistant-pa-")), own_root=True)
        try:
            why = room.wait_started()
            if why:
                raise RoomError(f"cannot start a PulseAudio server here: {why}")
            room.plug()
            if check_portaudio:
                why = room.portaudio_problem()
                if why:
                    raise RoomError(why)
        except BaseException:
            room.close()
            raise
        return room

    def __enter__(self) -> Room:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True,
                              text=True, check=check, timeout=30)

    def wait_started(self, timeout_s: float = 20.0) -> str | None:
        """None when the server answers, else why not."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"pulseaudio exited with {self.proc.returncode}: {self.tail()}"
            if self.pactl("info", check=False).returncode == 0:
                return None
            time.sleep(0.1)
        return f"pulseaudio did not answer within {timeout_s:.0f} s: {self.tail()}"

    def portaudio_problem(self) -> str | None:
        """None when PortAudio (what the assistant opens) sees this server, else why not."""
        probe = subprocess.run(
            [sys.executable, "-c", "import sounddevice as sd; "
             "print([d['name'] for d in sd.query_devices()])"],
            env=self.env, capture_output=True, text=True, timeout=60)
        if "pulse" not in probe.stdout:
            return ("PortAudio does not see PulseAudio: ALSA's pulse plugin (apt package "
                    f"libasound2-plugins) is missing? devices: {probe.stdout.strip()}")
        return None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-1500:]

    def plug(self) -> None:
        """Plug the microphone (and loudspeaker) in: the null sink 'mic'."""
        self.module = self.pactl("load-module", "module-null-sink", "sink_name=mic",
                                 f"rate={RATE_HZ}", "channels=1").stdout.strip()
        self.pactl("set-default-source", "mic.monitor")
        self.pactl("set-default-sink", "mic")

    def unplug(self) -> None:
        """Pull the microphone out: unload the sink."""
        assert self.module is not None
        self.pactl("unload-module", self.module)
        self.module = None

    def play(self, wav: Path) -> None:
        """Play a WAV into the room and wait until it has been played."""
        subprocess.run(["paplay", "-d", "mic", str(wav)], env=self.env, check=True,
                       timeout=600)

    def play_async(self, wav: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen(["paplay", "-d", "mic", str(wav)], env=self.env)

    def record(self, wav: Path) -> subprocess.Popen[bytes]:
        """Record everything the room hears (16 kHz mono 16-bit WAV) until the returned
        process is terminated (``stop_recording``)."""
        return subprocess.Popen(
            ["parecord", "-d", "mic.monitor", "--file-format=wav", f"--rate={RATE_HZ}",
             "--channels=1", "--format=s16le", "--latency-msec=10", str(wav)], env=self.env)

    @staticmethod
    def stop_recording(proc: subprocess.Popen[bytes]) -> None:
        proc.terminate()  # parecord finishes the WAV header on SIGTERM
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)


class RoomError(RuntimeError):
    """The simulated room cannot be built on this machine (the message says why)."""
