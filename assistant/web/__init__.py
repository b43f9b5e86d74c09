"""The browser front end (`assistant web`) and the knowledge-base map (`assistant map`).

Both need the optional ``web`` extra (gradio, matplotlib). Nothing here imports either at
import time; :func:`require` checks for a package and says how to install it.
"""

from __future__ import annotations

import importlib.util

from ..errors import AssistantError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class WebError(AssistantError):
    """The web page or the map cannot be made: a missing package, a bad address."""

    stage = "web"


def require(*packages: str) -> None:
    """Raise WebError naming the first missing package and the install command."""
    for package in packages:
        if importlib.util.find_spec(package) is None:
            raise WebError(f"this command needs the package '{package}'; install the web extra: "
                           "`pip install .[web]` (or `pip install -e .[web]` in a checkout)",
                           code="missing-package")


__all__ = ["LOCAL_HOSTS", "WebError", "require"]
