"""PortAudio devices by index or by part of their name."""

from __future__ import annotations

from typing import Any

from ..errors import AudioError


def _sd() -> Any:
    try:
        import sounddevice as sd
    except OSError as exc:  # the PortAudio library itself is missing
        raise AudioError(f"PortAudio is not available ({exc}); `sudo apt install "
                         "libportaudio2`", code="portaudio") from None
    return sd


def list_devices() -> list[dict[str, Any]]:
    sd = _sd()
    try:
        devices = sd.query_devices()
        default_in, default_out = sd.default.device
    except sd.PortAudioError as exc:
        raise AudioError(f"cannot list audio devices ({exc})", code="portaudio") from None
    rows = []
    for i, d in enumerate(devices):
        rows.append({"index": i, "name": d["name"], "inputs": d["max_input_channels"],
                     "outputs": d["max_output_channels"],
                     "default_rate_hz": int(d["default_samplerate"]),
                     "default_input": i == default_in, "default_output": i == default_out})
    return rows


def resolve_device(spec: str | int | None, kind: str) -> int | None:
    """Index of the device named by ``spec`` (index, or case-insensitive part of the name)
    that has ``kind`` ('input' or 'output') channels; None means the system default."""
    if spec is None or spec == "":
        return None
    key = "inputs" if kind == "input" else "outputs"
    devices = [d for d in list_devices() if d[key] > 0]
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        index = int(spec)
        if any(d["index"] == index for d in devices):
            return index
    else:
        hits = [d for d in devices if spec.casefold() in d["name"].casefold()]
        exact = [d for d in hits if d["name"].casefold() == spec.casefold()]
        if len(exact) == 1 or len(hits) == 1:
            return int((exact or hits)[0]["index"])
        if len(hits) > 1:
            names = "; ".join(f"{d['index']}: {d['name']}" for d in hits)
            raise AudioError(f"{kind} device {spec!r} matches several devices ({names}); use "
                             "its index", code="ambiguous-device")
    names = "; ".join(f"{d['index']}: {d['name']}" for d in devices) or "none found"
    raise AudioError(f"no {kind} device {spec!r}; available {kind}s: {names} (see `assistant "
                     "devices`)", code="unknown-device")


NO_OUTPUT_FIX = ("write a WAV file with --out FILE, set audio.output_device to a loudspeaker "
                 "from `assistant devices`, or run with --no-speak")


def resolve_output(spec: str | int | None) -> int | None:
    """The output device for ``spec`` (as ``resolve_device``), checked to exist: with no
    loudspeaker at all PortAudio has no default output, which is an AudioError here."""
    index = resolve_device(spec, "output")
    sd = _sd()
    try:
        sd.query_devices(index, "output")
    except (sd.PortAudioError, ValueError) as exc:
        raise AudioError(f"no loudspeaker: this machine has no audio output device ({exc}); "
                         f"{NO_OUTPUT_FIX}", code="no-output") from None
    return index


def open_output_rate(index: int | None, wanted_hz: int) -> int:
    """``wanted_hz`` when the output device takes it, else the device's default rate."""
    sd = _sd()
    try:
        sd.check_output_settings(device=index, samplerate=wanted_hz, channels=1, dtype="int16")
        return wanted_hz
    except Exception:
        pass
    try:
        return int(sd.query_devices(index, "output")["default_samplerate"])
    except (sd.PortAudioError, ValueError) as exc:
        raise AudioError(f"cannot use output device {index} ({exc}); {NO_OUTPUT_FIX}",
                         code="no-output") from None
