"""config.yaml is the documented default: it loads, equals the built-in defaults, and every
field is in the README's reference."""

from __future__ import annotations

import dataclasses

from assistant.config import Config, describe_fields, load_config, with_overrides
from tests.conftest import REPO


def test_repo_config_is_the_defaults() -> None:
    cfg = load_config(REPO / "config.yaml")
    assert dataclasses.replace(cfg, source="<defaults>") == Config()
    assert cfg.qa_path == REPO / "qa.yaml"


def test_every_field_is_in_config_yaml_and_readme() -> None:
    readme = (REPO / "README.md").read_text()
    text = (REPO / "config.yaml").read_text()
    for name, _default, help_text in describe_fields():
        assert f"`{name}`" in readme, f"README lacks {name}"
        assert f"{name.split('.')[-1]}:" in text, f"config.yaml lacks {name}"
        assert help_text


def test_command_line_overrides_are_validated() -> None:
    cfg = with_overrides(Config(), asr={"backend": "pocketsphinx"})
    assert cfg.asr.backend == "pocketsphinx" and cfg.asr.model == Config().asr.model
