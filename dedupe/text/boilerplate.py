"""The list of known boilerplate lines: the shipped one plus the user's additions."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..config import Config, ConfigError
from .normalize import match_key


def _lines(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def shipped() -> list[str]:
    """The known boilerplate lines shipped with the package."""
    return _lines(resources.files("dedupe").joinpath("data/boilerplate.txt").read_text("utf-8"))


def known_keys(config: Config) -> list[str]:
    """Match keys of every known boilerplate line the config enables, deduplicated, in order."""
    lines: list[str] = []
    if config.use_known_boilerplate:
        lines += shipped()
    lines += list(config.boilerplate_extra)
    if config.boilerplate_file:
        path = Path(config.boilerplate_file)
        try:
            lines += _lines(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"boilerplate_file {path}: {err}") from None
    keys = dict.fromkeys(k for k in (match_key(line) for line in lines) if k)
    return list(keys)
