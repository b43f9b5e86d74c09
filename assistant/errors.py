"""One error type per stage. Each carries a short code and a one-line message that says what
is wrong and how to fix it; the CLI prints ``error[code]: message`` and exits with 2."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the user can cause or fix. ``str(err)`` is the one-line message."""

    stage = "assistant"

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # keeps the code across processes
        return type(self), (self.message, self.code)


class ConfigError(AssistantError):
    """config.yaml or a command-line value is wrong."""

    stage = "config"


class AudioError(AssistantError):
    """An audio file, device or stream cannot be used."""

    stage = "audio"


class VadError(AssistantError):
    """Voice activity detection could not run on a frame."""

    stage = "vad"


class AsrError(AssistantError):
    """Speech recognition failed: model missing, bad model, or decoding error."""

    stage = "asr"


class KnowledgeError(AssistantError):
    """qa.yaml or the embedding model / cache cannot be used."""

    stage = "kb"


class TtsError(AssistantError):
    """Speech synthesis or playback failed."""

    stage = "tts"


class ServeError(AssistantError):
    """The Wyoming server: a bad --uri, or bytes from a network client it cannot use."""

    stage = "serve"


class WakeError(AssistantError):
    """The wake word model or phrase cannot be used."""

    stage = "wake"


class InterruptError(AssistantError):
    """Listening while it speaks cannot run: the echo canceller is unknown, missing or failed."""

    stage = "interrupt"
