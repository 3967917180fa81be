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


# A sealed name's pinyin is kept only as a keyed hash, marked by this prefix: dedup can tell
# that two patients' names sound the same (张三, 章三) without anyone reading either name.
SEALED_PINYIN = "#"


def sealed_pinyin(name: str) -> str:
    """The keyed hash of ``name``'s pinyin (``#`` + 32 hex digits), for a name kept in the
    encrypted envelope; ``""`` for no name."""
    from shidian.core import crypto

    spoken = name_pinyin(name)
    return SEALED_PINYIN + crypto.search_hash(spoken, purpose="pinyin") if spoken else ""
