"""systemd unit files for this installation: rendered from the templates below with the
absolute paths of this virtual environment's ``assistant`` and of the config file.

Two flavours: the system unit (``/etc/systemd/system``, a Raspberry Pi or a kiosk without a
desktop: ALSA directly, runs as an unprivileged user in the ``audio`` group, sandboxed) and the
user unit (``~/.config/systemd/user``, ``systemctl --user``: how a desktop's PulseAudio or
PipeWire is reached). The repository's ``systemd/*.service`` are these templates rendered with
example paths (``EXAMPLE``); a test keeps them in sync.
"""

from __future__ import annotations

import dataclasses
import grp
import os
import pwd
import re
import sys
from dataclasses import dataclass
from pathlib import Path

UNIT_NAME = "assistant.service"
SERVE_UNIT_NAME = "assistant-serve.service"  # `assistant serve`, the Wyoming server
SYSTEM_DIR = Path("/etc/systemd/system")

_COMMON_SERVICE = """\
Type=notify
NotifyAccess=main
ExecStart={exec_start}
ExecReload=/bin/kill -HUP $MAINPID
WorkingDirectory={workdir}
Restart=on-failure
RestartSec=5
# Loading the speech and sentence models takes a while on a Raspberry Pi.
TimeoutStartSec=300
TimeoutStopSec=10
# The listening loop pings the watchdog; a loop stuck for this long is restarted.
WatchdogSec=30
Environment=PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
"""

SYSTEM_TEMPLATE = """\
# {header}
# After editing qa.yaml or config.yaml: sudo systemctl reload assistant
[Unit]
Description=Offline voice question-answering assistant
After=sound.target
Wants=sound.target

[Service]
""" + _COMMON_SERVICE + """\
User={user}
Group={group}
SupplementaryGroups=audio
# Embedding cache in /var/cache/assistant; models stay where `assistant download` put them.
Environment=XDG_CACHE_HOME=%C
Environment={hf_home}
CacheDirectory=assistant
# The exchange log: /var/log/assistant/exchanges.jsonl (`assistant log` reads it).
LogsDirectory=assistant
UMask=0077
# Sandbox: the home folder is read-only, only the two folders above are writable, no
# network, no devices but sound cards.
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
PrivateNetwork=yes
RestrictAddressFamilies=AF_UNIX
DevicePolicy=closed
DeviceAllow=char-alsa rw
CapabilityBoundingSet=
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
"""

USER_TEMPLATE = """\
# {header}
# After editing qa.yaml or config.yaml: systemctl --user reload assistant
[Unit]
Description=Offline voice question-answering assistant
After=pipewire-pulse.service pulseaudio.service

[Service]
""" + _COMMON_SERVICE + """\
# ~/.cache/assistant (embeddings) and ~/.local/state/assistant (exchange log)
CacheDirectory=assistant
StateDirectory=assistant
NoNewPrivileges=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
# The system unit's ProtectSystem=strict, ProtectHome=read-only and PrivateTmp=yes need
# unprivileged user namespaces in a user unit; where the kernel has them they can be added.

[Install]
WantedBy=default.target
"""


@dataclass(frozen=True)
class UnitSpec:
    executable: list[str]  # the command that is `assistant`
    config: Path
    user_unit: bool = False
    user: str = ""  # the system unit's User=
    group: str = ""
    hf_home: str = ""
    serve: list[str] | None = None  # `assistant serve` with these arguments, not `run`


EXAMPLE = UnitSpec(["/opt/assistant/.venv/bin/assistant"],
                   Path("/opt/assistant/config.yaml"), user="assistant", group="assistant",
                   hf_home="/home/assistant/.cache/huggingface")


def example_units() -> dict[str, str]:
    """The repository's ``systemd/`` files: the templates rendered with example paths."""
    header = "Example: `assistant service install{}` writes this with your paths."
    return {"assistant.service": render(EXAMPLE, header.format("")),
            "assistant-user.service": render(dataclasses.replace(EXAMPLE, user_unit=True),
                                             header.format(" --user")),
            "assistant-serve.service": render(dataclasses.replace(EXAMPLE, serve=[]),
                                              header.format(" --serve"))}


def quote_arg(arg: str) -> str:
    """One ExecStart= argument: '%' and '$' escaped, quoted when it has spaces."""
    arg = arg.replace("%", "%%").replace("$", "$$")
    if re.search(r'[\s"\'\\;]', arg):
        arg = '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return arg


def _env_assignment(name: str, value: str) -> str:
    text = f"{name}={value}".replace("%", "%%")
    return f'"{text}"' if re.search(r"\s", text) else text


def _workdir(path: Path) -> str:
    return str(path).replace("%", "%%")  # the rest of the line, spaces included


def render(spec: UnitSpec, header: str | None = None) -> str:
    command = ["serve", *spec.serve] if spec.serve is not None else ["run"]
    exec_start = " ".join(quote_arg(a) for a in [*spec.executable, *command, "--config",
                                                 str(spec.config)])
    flag = (" --user" if spec.user_unit else "") + (" --serve" if spec.serve is not None
                                                    else "")
    values = {
        "header": header or f"Written by `assistant service install{flag}` for this "
                            "installation; run it again after moving it.",
        "exec_start": exec_start, "workdir": _workdir(spec.config.parent),
        "user": spec.user, "group": spec.group,
        "hf_home": _env_assignment("HF_HOME", spec.hf_home),
    }
    template = USER_TEMPLATE if spec.user_unit else SYSTEM_TEMPLATE
    text = template.format(**values)
    return _for_serve(text) if spec.serve is not None else text


def _swap(text: str, old: str, new: str) -> str:
    assert old in text, old  # the templates above changed: keep these in step
    return text.replace(old, new)


def _for_serve(text: str) -> str:
    """The same unit and hardening for `assistant serve`, but with network access (it is a
    server) and without sound devices (it has no microphone or loudspeaker)."""
    text = _swap(text, "reload assistant\n", "reload assistant-serve\n")
    text = _swap(text, "Description=Offline voice question-answering assistant\n",
                 "Description=Offline voice question-answering assistant: Wyoming server for "
                 "Home Assistant\nAfter=network-online.target\nWants=network-online.target\n")
    if "PrivateNetwork=yes\n" in text:  # the system unit
        text = _swap(text, "PrivateNetwork=yes\n", "")
        text = _swap(text, "RestrictAddressFamilies=AF_UNIX\n",
                     "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n")
        text = _swap(text, "DeviceAllow=char-alsa rw\n", "")
        text = _swap(text, "SupplementaryGroups=audio\n", "")
        text = _swap(text, "no\n# network, no devices but sound cards.",
                     "no\n# devices; network access only to serve Wyoming clients.")
    return text


def this_executable() -> list[str]:
    """This virtual environment's ``assistant`` script, else ``python -m assistant``."""
    script = Path(sys.executable).parent / "assistant"  # not resolved: keep the venv path
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "assistant"]


def service_account(name: str | None = None) -> tuple[str, str, str]:
    """(user, primary group, home) to run the system unit as: ``name``, else whoever ran
    sudo, else the current user."""
    name = name or os.environ.get("SUDO_USER") or pwd.getpwuid(os.getuid()).pw_name
    entry = pwd.getpwnam(name)  # KeyError: no such user
    return entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name, entry.pw_dir


def install_path(user_unit: bool, name: str = UNIT_NAME) -> Path:
    if user_unit:
        config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
        return Path(config_home) / "systemd" / "user" / name
    return SYSTEM_DIR / name


def systemctl(user_unit: bool, *args: str) -> str:
    prefix = "systemctl --user" if user_unit else "sudo systemctl"
    return " ".join([prefix, *args])


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections -> keys -> values (a key may repeat), comments dropped: enough to check a
    rendered unit where systemd-analyze is not installed."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif "=" in line and current is not None:
            key, value = line.split("=", 1)
            current.setdefault(key.strip(), []).append(value.strip())
        else:
            raise ValueError(f"line {number}: not a section or key=value: {raw!r}")
    return sections
