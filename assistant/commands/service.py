"""assistant service install|uninstall [--user]: a systemd unit for this installation."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..errors import AssistantError, ConfigError
from .common import DEFAULT_CONFIG, add_command

DESCRIPTION = """\
Write a systemd unit that runs `assistant run` with this virtual environment and an absolute
config file path, and print the systemctl commands that start it at boot.

  sudo .venv/bin/assistant service install     system-wide (Raspberry Pi, kiosk): runs as
                                                the user who ran sudo (--run-as), in the
                                                audio group, sandboxed; ALSA devices
  assistant service install --user             a user service (desktop): reaches PulseAudio
                                                or PipeWire; `loginctl enable-linger` to
                                                start at boot without logging in
  assistant service install --dry-run          print the unit, write nothing
  assistant service install --serve [--uri tcp://0.0.0.0:10700]
                                                the Wyoming server for Home Assistant
                                                (assistant-serve.service: same sandbox,
                                                network access, no sound devices)
"""


def register(sub: Any) -> None:
    p = sub.add_parser("service", help="install or remove the systemd service",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    install = add_command(actions, "install", "write the systemd unit and print how to start "
                          "it", run_install, description=DESCRIPTION)
    uninstall = add_command(actions, "uninstall", "stop, disable and remove the unit",
                            run_uninstall)
    for q in (install, uninstall):
        q.add_argument("--user", dest="user_unit", action="store_true",
                       help="a user unit (~/.config/systemd/user, systemctl --user) instead "
                       "of a system one (/etc/systemd/system)")
        q.add_argument("--dry-run", action="store_true", help="print what would be done")
        q.add_argument("--out", metavar="PATH", help="write (or remove) this file instead "
                       "of the standard place")
        q.add_argument("--serve", action="store_true", help="the unit of `assistant serve` "
                       "(assistant-serve.service) instead of `assistant run`")
    install.add_argument("--uri", metavar="URI", help="with --serve: the address to serve "
                         "on (default tcp://127.0.0.1:10700)")
    install.add_argument("--run-as", metavar="USER", help="system unit: the account to run "
                         "as (default: the user who ran sudo)")


def _config_path(args: argparse.Namespace) -> Path:
    from ..config import load_config

    path = Path(args.config or DEFAULT_CONFIG)
    if not path.is_file():
        raise ConfigError(f"{path}: no config file; the service needs one: pass --config PATH "
                          "or run this in the folder with config.yaml", code="missing")
    load_config(path)  # a broken file fails now, not at boot
    return path.resolve()


def _spec(args: argparse.Namespace) -> Any:
    from ..service.units import UnitSpec, service_account, this_executable

    config = _config_path(args)
    serve = _serve_args(args)
    if args.user_unit:
        return UnitSpec(this_executable(), config, user_unit=True, serve=serve)
    try:
        user, group, home = service_account(args.run_as)
    except KeyError:
        raise ConfigError(f"no user {args.run_as!r} on this machine; pass --run-as with an "
                          "existing account", code="bad-value") from None
    if user == "root":
        raise ConfigError("refusing to run the assistant as root; run this with sudo from "
                          "your own account, or pass --run-as USER", code="bad-value")
    hf_home = os.environ.get("HF_HOME") or os.path.join(home, ".cache", "huggingface")
    return UnitSpec(this_executable(), config, user=user, group=group, hf_home=hf_home,
                    serve=serve)


def _serve_args(args: argparse.Namespace) -> list[str] | None:
    if not args.serve:
        if args.uri:
            raise ConfigError("--uri only applies with --serve", code="bad-value")
        return None
    if not args.uri:
        return []
    from ..serve.server import parse_uri

    return ["--uri", str(parse_uri(args.uri))]  # a bad address fails now, not at boot


def _unit(args: argparse.Namespace) -> str:
    from ..service.units import SERVE_UNIT_NAME, UNIT_NAME

    return SERVE_UNIT_NAME if args.serve else UNIT_NAME


def run_install(args: argparse.Namespace) -> int:
    from ..service.units import install_path, render, systemctl

    spec = _spec(args)
    text = render(spec)
    if args.dry_run and not args.out:
        sys.stdout.write(text)
        return 0
    target = Path(args.out) if args.out else install_path(args.user_unit, _unit(args))
    if args.dry_run:
        print(f"would write {target}")
        return 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except PermissionError:
        raise AssistantError(f"cannot write {target}: permission denied; run it with sudo "
                             f"({' '.join(spec.executable)} service install) or use --user",
                             code="permission") from None
    print(f"wrote {target}")
    if args.out:
        return 0
    name = _unit(args).removesuffix(".service")
    print("now run:")
    print(f"  {systemctl(args.user_unit, 'daemon-reload')}")
    print(f"  {systemctl(args.user_unit, 'enable', '--now', name)}")
    print(f"  {systemctl(args.user_unit, 'status', name)}")
    journal = f"journalctl --user -u {name} -f" if args.user_unit else \
        f"journalctl -u {name} -f"
    print(f"  {journal}                         # its log")
    print(f"  {systemctl(args.user_unit, 'reload', name)}     # after editing qa.yaml")
    if args.user_unit:
        print(f"  loginctl enable-linger {os.environ.get('USER', '$USER')}"
              "          # start at boot, without logging in")
    return 0


def _systemd_running() -> bool:
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def run_uninstall(args: argparse.Namespace) -> int:
    from ..service.units import install_path

    target = Path(args.out) if args.out else install_path(args.user_unit, _unit(args))
    manage = not args.out and _systemd_running()
    steps: list[list[str]] = []
    if manage:
        base = ["systemctl", "--user"] if args.user_unit else ["systemctl"]
        steps = [[*base, "disable", "--now", _unit(args)], [*base, "daemon-reload"]]
    if args.dry_run:
        if steps:
            print(" ".join(steps[0]))
        print(f"would remove {target}")
        if steps:
            print(" ".join(steps[1]))
        return 0
    if steps:
        subprocess.run(steps[0], check=False)
    if target.exists():
        try:
            target.unlink()
        except PermissionError:
            raise AssistantError(f"cannot remove {target}: permission denied; run it with "
                                 "sudo", code="permission") from None
        print(f"removed {target}")
    else:
        print(f"{target} is not installed")
    if steps:
        subprocess.run(steps[1], check=False)
    elif not args.out:
        print("systemd is not running here: nothing to stop")
    return 0
