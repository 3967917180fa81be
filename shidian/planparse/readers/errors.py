from __future__ import annotations

from pathlib import Path


class ReadError(Exception):
    """A file that cannot be read. ``reason`` is one line of Chinese; str() names the file too."""

    def __init__(self, path: Path | str | None, reason: str):
        self.path = Path(path) if path is not None else None
        self.reason = " ".join(str(reason).split())
        super().__init__(f"{self.path}: {self.reason}" if self.path is not None else self.reason)
