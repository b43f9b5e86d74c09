"""`assistant bench`: the project's own latency and resource benchmark."""
