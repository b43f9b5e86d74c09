"""assistant mute on|off: the running daemon stops (or resumes) listening at once."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_command, config_from_args


def register(sub: Any) -> None:
    p = add_command(sub, "mute", "mute or unmute the running assistant's microphone", run,
                    description="Mute (on) or unmute (off) the microphone of the running "
                    "`assistant run` that uses the same config (cache_dir): it hears nothing, "
                    "not even the wake word, until unmuted; STATUS says 'muted'. Without an "
                    "argument: print the current state. Muted stays muted across restarts.")
    p.add_argument("state", nargs="?", choices=("on", "off"))


def run(args: argparse.Namespace) -> int:
    from ..wake.mute import mute_path, set_muted

    path = mute_path(config_from_args(args))
    if args.state:
        set_muted(path, args.state == "on")
    print("muted" if path.exists() else "not muted")
    return 0
