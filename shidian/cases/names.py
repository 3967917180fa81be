"""Names for matching: pinyin without tones, so 张三 and 章三 (same sound) meet in dedup."""
from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=65536)
def _syllable(char: str) -> str:
    return "".join(lazy_pinyin(char, style=Style.NORMAL)).lower()


@lru_cache(maxsize=262144)
def name_pinyin(name: str) -> str:
    """``张三丰`` → ``zhangsanfeng`` (lower case, no tones, no spaces).

    Character by character, each cached: names use a few thousand characters, so a list of a
    million households costs a dictionary lookup per character. (Reading names character by
    character also keeps a polyphonic surname the same on both sides of a comparison.) Whole
    names repeat too (a few hundred surnames, common given names), so they are cached as well.
    """
    return "".join(_syllable(char) for char in (name or "") if not char.isspace())
