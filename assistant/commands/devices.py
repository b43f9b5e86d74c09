"""assistant devices: the audio devices PortAudio sees."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_command, print_json


def register(sub: Any) -> None:
    p = add_command(sub, "devices", "list audio input and output devices", run,
                    description="List audio devices with their index, channels and default "
                    "rate. Use the index or part of the name as audio.input_device / "
                    "audio.output_device in config.yaml.")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from ..audio.devices import list_devices

    rows = list_devices()
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no audio devices found (is a sound card or PulseAudio/PipeWire available?)")
        return 0
    print(f"{'index':>5}  {'in':>3} {'out':>3}  {'rate':>6}  name")
    for d in rows:
        mark = (" (default input)" if d["default_input"] else "") + (
            " (default output)" if d["default_output"] else "")
        print(f"{d['index']:>5}  {d['inputs']:>3} {d['outputs']:>3}  {d['default_rate_hz']:>6}"
              f"  {d['name']}{mark}")
    return 0
