"""PLACEHOLDER until helper C writes the readers."""
from __future__ import annotations

from pathlib import Path


class ReadError(Exception):
    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadError(path, str(exc)) from exc
