"""Reading Wyoming events from an untrusted socket.

The ``wyoming`` package's reader reads whatever length a header declares (a 1 GB payload is
read into memory) and returns None on bad JSON without a word. This one caps every length,
times out a client that declares more than it sends, and raises ServeError with a code that
the handler logs in one line and sends back as an ``error`` event.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from wyoming.event import Event

from ..errors import ServeError


@dataclass(frozen=True)
class Limits:
    """What one event may carry; anything larger closes that connection."""

    line_bytes: int = 64 * 1024  # the JSON header line (also the stream reader's buffer)
    data_bytes: int = 64 * 1024  # the extra JSON data after the header
    payload_bytes: int = 1024 * 1024  # an audio chunk: 1 s of 48 kHz 32-bit stereo is 384 KB
    idle_s: float = 300.0  # waiting for the next event
    body_s: float = 10.0  # waiting for the data and payload a header declared


def _length(header: dict[str, Any], key: str, cap: int) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ServeError(f"'{key}' is {value!r}, not a byte count", code="bad-header")
    if value > cap:
        raise ServeError(f"'{key}' of {value} bytes is over the limit of {cap}",
                         code="too-large")
    return value


async def read_event(reader: asyncio.StreamReader, limits: Limits) -> Event | None:
    """The next event, or None when the client closed the connection between events."""
    try:
        line = await asyncio.wait_for(reader.readline(), limits.idle_s)
    except asyncio.TimeoutError:
        raise ServeError(f"no event for {limits.idle_s:.0f} s", code="idle") from None
    except ValueError:  # the stream reader's limit: a header line without an end
        raise ServeError(f"an event header longer than {limits.line_bytes} bytes",
                         code="too-large") from None
    if not line:
        return None
    if not line.endswith(b"\n"):
        raise ServeError("the connection closed in the middle of an event header",
                         code="truncated")
    try:
        header = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ServeError(f"an event header that is not JSON ({line[:40]!r})",
                         code="not-json") from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise ServeError("an event header without a 'type'", code="bad-header")
    data = header.get("data") or {}
    if not isinstance(data, dict):
        raise ServeError("an event whose 'data' is not an object", code="bad-header")
    data_length = _length(header, "data_length", limits.data_bytes)
    payload_length = _length(header, "payload_length", limits.payload_bytes)
    try:
        if data_length:
            extra = json.loads(await asyncio.wait_for(reader.readexactly(data_length),
                                                      limits.body_s))
            if not isinstance(extra, dict):
                raise ServeError("event data that is not a JSON object", code="bad-header")
            data.update(extra)
        payload = (await asyncio.wait_for(reader.readexactly(payload_length), limits.body_s)
                   if payload_length else None)
    except asyncio.IncompleteReadError as exc:
        raise ServeError(f"the connection closed {len(exc.partial)} bytes into a declared "
                         f"{data_length + payload_length}", code="truncated") from None
    except asyncio.TimeoutError:
        raise ServeError(f"a declared {data_length + payload_length} bytes did not arrive "
                         f"within {limits.body_s:.0f} s", code="timeout") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ServeError("event data that is not JSON", code="not-json") from None
    return Event(type=header["type"], data=data, payload=payload)
