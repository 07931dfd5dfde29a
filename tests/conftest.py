"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

@pytest.fixture
def write_toml(tmp_path: Path):
    """Write a TOML experiment into a temporary directory and return its path."""

    def write(text: str, name: str = "exp.toml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
