"""Interrupting an answer: the microphone stays open while the assistant speaks, through an
echo canceller (canceller.py), so a stop phrase can end the answer."""
