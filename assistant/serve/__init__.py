"""`assistant serve`: a Wyoming server, so Home Assistant can use our recognizer (asr), our
answers (handle, a conversation agent) and our voice (tts) from every room.

    wire.py     the bounded event reader: caps line, data and payload lengths, times out
    audio.py    one utterance from audio-start/chunks/stop, converted once to pipeline audio
    speculate.py  the pause that starts a speculative recognition (pure)
    engine.py   the shared models (loaded in the background) behind a bounded queue
    handler.py  one connection: per-connection state, one handler per event type
    server.py   the listening socket, signals (SIGHUP reload, SIGTERM), zeroconf, watchdog
"""

DEFAULT_URI = "tcp://127.0.0.1:10700"
