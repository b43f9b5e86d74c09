"""Answers rendered ahead of time: one file per (voice and its settings, text) on disk.

A file holds a small header (magic, rate, sample count, SHA-256 of the samples) then the
int16 samples. Writes go to a temporary file renamed into place, so a crash leaves no half
entry; a file whose checksum does not match is deleted and rendered again, never played."""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
from pathlib import Path

import numpy as np

from ..audio.types import Audio

log = logging.getLogger(__name__)

MAGIC = b"ASTTS1\0\0"
HEADER = struct.Struct("<8sIQ32s")  # magic, rate_hz, samples, sha256


def entry_name(voice_key: str, text: str) -> str:
    return hashlib.sha256(f"{voice_key}\n{text}".encode()).hexdigest()[:32] + ".pcm"


class AnswerCache:
    def __init__(self, folder: Path, voice_key: str) -> None:
        self.folder = folder
        self.voice_key = voice_key

    def path(self, text: str) -> Path:
        return self.folder / entry_name(self.voice_key, text)

    def get(self, text: str) -> Audio | None:
        path = self.path(text)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if len(data) >= HEADER.size:
            magic, rate, n, digest = HEADER.unpack_from(data)
            body = data[HEADER.size:]
            if (magic == MAGIC and len(body) == 2 * n and rate > 0
                    and hashlib.sha256(body).digest() == digest):
                return Audio(np.frombuffer(body, np.int16).copy(), int(rate))
        log.warning("speech cache file %s is corrupt; rendering it again", path.name)
        path.unlink(missing_ok=True)
        return None

    def put(self, text: str, audio: Audio) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        body = np.ascontiguousarray(audio.samples, np.int16).tobytes()
        head = HEADER.pack(MAGIC, audio.rate_hz, len(audio.samples),
                           hashlib.sha256(body).digest())
        path = self.path(text)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(head + body)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def __contains__(self, text: str) -> bool:
        return self.path(text).is_file()
