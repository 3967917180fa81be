"""Names for matching: pinyin without tones, so 张三 and 章三 (same sound) meet in dedup."""
from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=262144)
def name_pinyin(name: str) -> str:
    """``张三丰`` → ``zhangsanfeng`` (lower case, no tones, no spaces); cached per name."""
    return "".join(lazy_pinyin((name or "").strip(), style=Style.NORMAL)).lower().replace(" ", "")
