"""The division code table (统计用区划代码 2023) as shipped in ``orgs/data``, read as rows.

Each file holds one level; codes are already the significant digits of their level
(2, 4, 6, 9, 12), so a row's parent is the code of the level above, given in its own column.
"""
from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, NamedTuple

from .models import CODE_LENGTHS

DATA_DIR = Path(__file__).resolve().parent / "data"

# level -> (file name, column holding the parent's code)
FILES = {
    1: ("provinces.csv", None),
    2: ("cities.csv", "provinceCode"),
    3: ("areas.csv", "cityCode"),
    4: ("streets.csv", "areaCode"),
    5: ("villages.csv.gz", "streetCode"),
}


class DivisionRow(NamedTuple):
    code: str
    name: str
    level: int
    parent: str | None


class DivisionDataError(Exception):
    """The data files are missing or do not have the expected shape."""


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def read_level(level: int, *, province: str = "", data_dir: Path = DATA_DIR
               ) -> Iterator[DivisionRow]:
    """The rows of one level, optionally only those of one province (code prefix)."""
    file_name, parent_column = FILES[level]
    path = data_dir / file_name
    if not path.exists():
        raise DivisionDataError(f"{path} is missing")
    length = CODE_LENGTHS[level]
    with _open(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        try:
            code_at, name_at = header.index("code"), header.index("name")
            parent_at = header.index(parent_column) if parent_column else None
        except ValueError:
            raise DivisionDataError(f"{path}: unexpected header {header}") from None
        for line_no, record in enumerate(reader, start=2):
            code = record[code_at].strip()
            if province and not code.startswith(province):
                continue
            if len(code) != length or not code.isdigit():
                raise DivisionDataError(f"{path}:{line_no}: bad code {code!r}")
            parent = record[parent_at].strip() if parent_at is not None else None
            yield DivisionRow(code, record[name_at].strip(), level, parent)
