"""Offline, real-time voice question-answering assistant.

Data flows one way: audio (microphone or file) -> vad (segmenter) -> asr (transcript) ->
kb (closest known question) -> tts (spoken answer). daemon.py wires the stages together.
"""

__version__ = "0.1.0"
