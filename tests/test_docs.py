"""The README documents every configuration key with its real default."""

from __future__ import annotations

import dataclasses
import re

from dedupe.config import Config
from tests.conftest import ROOT


def _readme_defaults() -> dict[str, str]:
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", (ROOT / "README.md").read_text(), re.M)
    return {key: value.strip() for key, value in rows}


def _toml(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple):
        return f"`{list(value)}`"
    return f"`{value}`"


def test_every_config_key_is_documented_with_its_default():
    documented = _readme_defaults()
    for field in dataclasses.fields(Config):
        assert field.name in documented, f"README misses config key {field.name}"
        assert documented[field.name] == _toml(field.default), field.name


def test_every_package_says_what_it_owns_and_the_readme_maps_it():
    import ast

    readme = (ROOT / "README.md").read_text()
    packages = sorted(p.parent for p in (ROOT / "dedupe").glob("*/__init__.py"))
    assert {p.name for p in packages} >= {"io", "text", "sketch", "corpus", "match", "engines", "history"}
    for package in packages:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert doc and len(doc) > 40, f"{package.name}/__init__.py has no docstring saying what it owns"
        assert f"dedupe/{package.name}/" in readme, f"README does not mention dedupe/{package.name}/"
