"""The listening socket and the process around it: ``tcp://127.0.0.1:10700`` by default (a
warning for any other address: the protocol has no authentication), a cap on connections,
SIGHUP reloads qa.yaml as in ``assistant run``, SIGTERM/SIGINT stop, systemd READY and
watchdog once the models are loaded, and optional zeroconf (``_wyoming._tcp``)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from ..errors import ServeError
from ..pipeline import Exchange
from .engine import Engine
from .handler import Connection
from .wire import Limits

log = logging.getLogger("assistant.serve")

__all__ = ["Address", "Server", "parse_uri", "serve_forever"]


@dataclass(frozen=True)
class Address:
    scheme: str  # tcp or unix
    host: str = ""
    port: int = 0
    path: str = ""

    @property
    def loopback(self) -> bool:
        if self.scheme == "unix" or self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        return f"unix://{self.path}" if self.scheme == "unix" else \
            f"tcp://{self.host}:{self.port}"


def parse_uri(uri: str) -> Address:
    """``tcp://HOST:PORT`` or ``unix:///path``, or a one-line error saying what to write."""
    hint = "write tcp://HOST:PORT (e.g. tcp://127.0.0.1:10700) or unix:///path/to/socket"
    parsed = urlparse(uri)
    if parsed.scheme == "unix" and parsed.path:
        return Address("unix", path=parsed.path)
    if parsed.scheme != "tcp":
        raise ServeError(f"--uri {uri!r}: unsupported; {hint}", code="bad-uri")
    try:
        port = parsed.port
    except ValueError:
        port = None
    if not parsed.hostname or port is None:
        raise ServeError(f"--uri {uri!r} needs a host and a port; {hint}", code="bad-uri")
    return Address("tcp", parsed.hostname, port)


@dataclass
class Server:
    engine: Engine
    address: Address
    max_utterance_s: float
    max_connections: int = 64
    limits: Limits = field(default_factory=Limits)
    on_exchange: Callable[[Exchange], None] | None = None
    connections: int = 0
    served: int = 0
    _server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.engine.start_loading(asyncio.get_running_loop())
        if self.address.scheme == "unix":
            self._server = await asyncio.start_unix_server(
                self._accept, self.address.path, limit=self.limits.line_bytes)
        else:
            self._server = await asyncio.start_server(
                self._accept, self.address.host, self.address.port,
                limit=self.limits.line_bytes)
        if self.address.scheme == "tcp" and self.address.port == 0:  # tests: a free port
            port = self._server.sockets[0].getsockname()[1]
            self.address = Address("tcp", self.address.host, port)
        if not self.address.loopback:
            log.warning("listening on %s: anyone who can reach this address can use the "
                        "assistant (Wyoming has no authentication); bind tcp://127.0.0.1 "
                        "unless Home Assistant runs on another machine", self.address)
        log.info("serving Wyoming on %s (models loading)", self.address)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(reader, writer, self.engine, self.max_utterance_s, self.limits,
                          self.on_exchange)
        if self.connections >= self.max_connections:
            await conn.error(ServeError(f"busy: {self.connections} connections already; try "
                                        "again", code="busy"))
            writer.close()
            return
        self.connections += 1
        try:
            await conn.run()
        finally:
            self.connections -= 1
            self.served += 1

    async def close(self) -> None:
        """Stop listening (the engine is closed by whoever made it)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


async def advertise(address: Address, name: str | None) -> Any:
    """Register ``_wyoming._tcp`` for Home Assistant's discovery (the zeroconf extra); the
    returned AsyncZeroconf is closed (unregistered) with ``async_close()``."""
    import importlib.util
    import socket
    import uuid

    if importlib.util.find_spec("zeroconf") is None:
        raise ServeError("--zeroconf needs the package 'zeroconf'; `pip install "
                         "'assistant[serve]'` or leave --zeroconf out and add the server "
                         "by host and port", code="missing-package")
    from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

    host = address.host
    if host in ("0.0.0.0", "::", ""):  # the address other machines reach us at
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("224.0.0.251", 5353))  # no packet is sent
            host = probe.getsockname()[0]
    name = name or f"assistant-{uuid.getnode():012x}"
    info = AsyncServiceInfo("_wyoming._tcp.local.", f"{name}._wyoming._tcp.local.",
                            addresses=[socket.inet_aton(host)], port=address.port)
    zc = AsyncZeroconf()
    await zc.async_register_service(info)
    log.info("advertised %s._wyoming._tcp on %s:%d for Home Assistant's discovery", name, host,
             address.port)
    return zc


async def serve_forever(server: Server, reload: Callable[[], None], tick: Callable[[], None],
                        zeroconf_name: str | None = None, zeroconf: bool = False) -> None:
    """Run until SIGTERM or SIGINT. ``tick`` (the systemd watchdog) is called every second
    once the models are loaded; a model that fails to load stops the server."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload)
    await server.start()
    zc = None
    if zeroconf:
        if server.address.scheme != "tcp":
            raise ServeError("--zeroconf needs a tcp:// address", code="bad-uri")
        if server.address.loopback:
            log.warning("--zeroconf with %s: Home Assistant on another machine will find "
                        "this server but cannot reach it; bind --uri tcp://0.0.0.0:%d",
                        server.address, server.address.port)
        zc = await advertise(server.address, zeroconf_name)
    try:
        while not stop.is_set():
            if server.engine.error is not None:
                raise server.engine.error
            if server.engine.loaded:
                tick()
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except asyncio.TimeoutError:
                pass
        log.info("stopping after %d connection(s)", server.served)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        if zc is not None:
            await zc.async_close()
        await server.close()
        server.engine.close()
