"""`assistant service install|uninstall` and the unit files: rendered with this installation's
paths, parsed back, and checked by systemd-analyze where it is installed."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.service.units import (
    UnitSpec,
    example_units,
    parse_unit,
    quote_arg,
    render,
    this_executable,
)

REPO = Path(__file__).resolve().parents[1]


def service_user() -> str:
    """An ordinary account the system unit may name (never root, never 'nobody', which
    systemd-analyze warns about)."""
    me = pwd.getpwuid(os.getuid()).pw_name
    if me != "root":
        return me
    for entry in pwd.getpwall():
        if 0 < entry.pw_uid < 65534:
            return entry.pw_name
    pytest.skip("no unprivileged account on this machine")


def install(tmp_path: Path, repo_config: Path, *extra: str) -> tuple[Path, str]:
    out = tmp_path / "unit" / "assistant.service"
    assert main(["service", "install", "--config", str(repo_config), "--out", str(out),
                 *extra]) == 0
    return out, out.read_text()


def test_system_unit_runs_this_installation(tmp_path: Path, repo_config: Path) -> None:
    user = service_user()
    _, text = install(tmp_path, repo_config, "--run-as", user)
    unit = parse_unit(text)
    service = unit["Service"]
    exe = this_executable()
    assert service["ExecStart"] == [" ".join([*exe, "run", "--config", str(repo_config)])]
    assert Path(exe[0]).is_absolute() and Path(exe[0]).exists()
    assert service["Type"] == ["notify"] and service["User"] == [user]
    assert service["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert service["Restart"] == ["on-failure"] and service["WatchdogSec"] == ["30"]
    assert service["SupplementaryGroups"] == ["audio"]
    assert service["ProtectHome"] == ["read-only"] and service["ProtectSystem"] == ["strict"]
    assert service["CacheDirectory"] == ["assistant"]
    assert service["LogsDirectory"] == ["assistant"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_user_unit(tmp_path: Path, repo_config: Path) -> None:
    _, text = install(tmp_path, repo_config, "--user")
    unit = parse_unit(text)
    assert "User" not in unit["Service"]
    assert unit["Service"]["StateDirectory"] == ["assistant"]
    assert unit["Install"]["WantedBy"] == ["default.target"]


def test_dry_run_prints_and_writes_nothing(tmp_path: Path, repo_config: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["service", "install", "--user", "--dry-run", "--config",
                 str(repo_config)]) == 0
    assert parse_unit(capsys.readouterr().out)["Service"]["Type"] == ["notify"]


def test_uninstall_removes_the_file(tmp_path: Path, repo_config: Path) -> None:
    out, _ = install(tmp_path, repo_config, "--user")
    assert main(["service", "uninstall", "--user", "--out", str(out)]) == 0
    assert not out.exists()


def test_no_config_and_root_are_refused(tmp_path: Path, repo_config: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["service", "install", "--user", "--dry-run", "--config",
                 str(tmp_path / "missing.yaml")]) == 2
    assert "no config file" in capsys.readouterr().err
    assert main(["service", "install", "--dry-run", "--config", str(repo_config),
                 "--run-as", "root"]) == 2
    assert "refusing to run the assistant as root" in capsys.readouterr().err


def test_paths_with_spaces_and_percent_are_escaped() -> None:
    spec = UnitSpec(["/opt/my apps/bin/assistant"], Path("/srv/100% sure/config.yaml"), True)
    start = parse_unit(render(spec))["Service"]["ExecStart"][0]
    assert start == '"/opt/my apps/bin/assistant" run --config "/srv/100%% sure/config.yaml"'
    assert quote_arg("$HOME") == "$$HOME"


def test_repository_units_are_the_rendered_examples() -> None:
    for name, text in example_units().items():
        assert (REPO / "systemd" / name).read_text() == text, (
            f"systemd/{name} is out of date: regenerate it from assistant.service.units."
            "example_units()")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (apt package systemd)")
@pytest.mark.parametrize("user_unit", [False, True])
def test_systemd_analyze_verify_is_clean(tmp_path: Path, repo_config: Path,
                                         user_unit: bool) -> None:
    extra = ["--user"] if user_unit else ["--run-as", service_user()]
    out, _ = install(tmp_path, repo_config, *extra)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    cmd = ["systemd-analyze", *(["--user"] if user_unit else []), "verify", str(out)]
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_LEVEL": "notice"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # unknown keys and bad values are only warnings: the output must be empty
    assert (proc.stdout + proc.stderr).strip() == ""
