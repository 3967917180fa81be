"""Agency names as plans write them: normalise, abbreviate, split off the level word.

Plans name units the short way (区卫健委, 市人社局, 县委宣传部) while the register holds the
official names (苏州市吴中区卫生健康委员会, 中共泸县县委宣传部). Both sides are reduced to a
*key*: the division's own name becomes its level word (泸县 → 县), long forms become the common
abbreviation (卫生健康委员会 → 卫健委), and the leading level word is split off so that
``区卫健委`` is ``("区", "卫健委")``. Pure functions; the tables below are the whole knowledge.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from collections.abc import Sequence
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# Level words a unit name can start with (市卫生健康委, 县民政局, 区委政法委, 镇政府).
LEVEL_WORDS = ("自治区", "自治州", "自治县", "街道", "省", "市", "州", "盟", "县", "区", "旗",
               "镇", "乡")

# Long form → the abbreviation plans use. Longest first; applied in this order.
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("卫生和计划生育委员会", "卫计委"),
    ("卫生健康委员会", "卫健委"),
    ("卫生健康委", "卫健委"),
    ("卫生健康局", "卫健局"),
    ("人力资源和社会保障", "人社"),
    ("人力资源社会保障", "人社"),
    ("住房和城乡建设", "住建"),
    ("住房城乡建设", "住建"),
    ("发展和改革委员会", "发改委"),
    ("发展改革委员会", "发改委"),
    ("发展改革委", "发改委"),
    ("医疗保障局", "医保局"),
    ("市场监督管理局", "市场监管局"),
    ("应急管理局", "应急局"),
    ("城市管理综合行政执法局", "城管局"),
    ("城市管理局", "城管局"),
    ("文化广电体育和旅游局", "文广体旅局"),
    ("文化广电和旅游局", "文广旅局"),
    ("文化广电旅游局", "文广旅局"),
    ("文化体育和旅游局", "文体旅局"),
    ("文化体育旅游局", "文体旅局"),
    ("文化和旅游局", "文旅局"),
    ("农业农村局", "农业农村局"),
    ("自然资源和规划局", "自然资源规划局"),
    ("教育和体育局", "教体局"),
    ("教育体育局", "教体局"),
    ("科学技术协会", "科协"),
    ("妇女联合会", "妇联"),
    ("残疾人联合会", "残联"),
    ("工商业联合会", "工商联"),
    ("总工会", "总工会"),
    ("精神文明建设委员会办公室", "文明办"),
    ("精神文明建设办公室", "文明办"),
    ("社会治安综合治理委员会办公室", "综治办"),
    ("人民政府办公室", "政府办"),
    ("人民政府", "政府"),
    ("公安分局", "公安分局"),
    ("委员会", "委"),
)

BRACKETS = str.maketrans({"〈": "(", "〉": ")", "《": "(", "》": ")", "【": "(", "】": ")",
                          "[": "(", "]": ")"})
SPACES = re.compile(r"\s+")
PARENTHESES = re.compile(r"\([^()]*\)")
YOUTH_LEAGUE = re.compile(r"^团(?P<level>省|市|州|县|区|旗)委")


def clean(name: str) -> str:
    """Full-width letters and brackets folded, spaces removed (NFKC keeps CJK as is)."""
    return SPACES.sub("", unicodedata.normalize("NFKC", name or "").translate(BRACKETS))


def level_word(division_name: str) -> str:
    """The word a division's own units put before their names: 泸县 → 县, 玉蟾街道 → 街道."""
    name = clean(division_name)
    for word in ("自治区", "自治州", "自治县", "街道"):
        if name.endswith(word):
            return {"自治区": "区", "自治州": "州", "自治县": "县"}.get(word, word)
    return name[-1:] if name else ""


def abbreviate(name: str) -> str:
    for long, short in ABBREVIATIONS:
        name = name.replace(long, short)
    return name


@dataclass(frozen=True)
class NameKey:
    """A unit name reduced for matching: the level word (or "") and the rest, abbreviated."""

    level: str
    core: str

    @property
    def text(self) -> str:
        return self.level + self.core


def _split_level(name: str) -> list[NameKey]:
    """Every reading of a name: with its leading level word split off (if any) and without."""
    match = YOUTH_LEAGUE.match(name)
    if match:  # 团区委 = the 区's 团委
        return [NameKey(level_word(match["level"]), "团委" + name[match.end():])]
    readings = []
    for word in LEVEL_WORDS:
        if name.startswith(word) and len(name) > len(word) + 1:
            level, core = level_word(word), name[len(word):]
            readings.append(NameKey(level, core))
            if core.startswith("委") and len(core) > 2:
                # 区委宣传部 is also written 区宣传部: the party committee's department
                readings.append(NameKey(level, core[1:]))
            break
    readings.append(NameKey("", name))
    return readings


@lru_cache(maxsize=50_000)
def name_keys(name: str, *, division_names: tuple[str, ...] = ()) -> tuple[NameKey, ...]:
    """The readings of ``name`` (most specific first).

    ``division_names`` are the names of the division the name is read in and of its ancestors:
    a name that starts with them gets the level word of the last one instead
    (四川省泸州市卫生健康委员会 → 市卫健委, 中共泸县县委宣传部 → 县委宣传部).
    """
    text = clean(name)
    league = text.startswith("共青团")
    for prefix in ("中国共产党", "中共", "共青团"):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    level = ""
    stripped = True
    while stripped:
        stripped = False
        for division_name in division_names:
            cleaned = clean(division_name)
            if cleaned and text.startswith(cleaned) and len(text) > len(cleaned):
                text, level, stripped = text[len(cleaned):], level_word(cleaned), True
                break
    if level and not text.startswith(level + "委"):  # 泸县县委宣传部: the 县 is already there
        text = level + text
    text = abbreviate(text)
    if league:  # 共青团吴中区委员会 → 团区委
        text = "团" + text
    readings = _split_level(text)
    bare = PARENTHESES.sub("", text)
    if bare != text and bare:  # 市委党校(武汉行政学院) is also 市委党校
        readings += [key for key in _split_level(bare) if key not in readings]
    return tuple(readings)


@lru_cache(maxsize=50_000)
def unit_keys(name: str, *, division_names: tuple[str, ...]) -> tuple[NameKey, ...]:
    """The readings of a registered unit's name, each with a level word.

    ``division_names`` start with the unit's own division: a name without a level word
    (卫生健康委员会 registered under 泸州市) takes that division's (市).
    """
    implied = level_word(division_names[0]) if division_names else ""
    return tuple(key if key.level else NameKey(implied, key.core)
                 for key in name_keys(name, division_names=division_names))


def keys_match(query: Sequence[NameKey], unit: Sequence[NameKey]) -> bool:
    """Same unit: some reading of the query has the unit's core and no other level word."""
    return any(q.core == u.core and q.level in ("", u.level) for q in query for u in unit)


@lru_cache(maxsize=50_000)
def initials(name: str) -> str:
    """Pinyin initials for search: 卫生健康委员会 → wsjkwyh; letters and digits kept as typed."""
    letters = []
    for part in lazy_pinyin(clean(name), style=Style.FIRST_LETTER, errors="default"):
        letters.append("".join(ch for ch in part.lower() if ch.isascii() and ch.isalnum()))
    return "".join(letters)[:64]


def is_initials_query(text: str) -> bool:
    """A query typed as pinyin initials (wjw, qwjw) rather than Chinese."""
    cleaned = clean(text)
    return bool(cleaned) and cleaned.isascii() and cleaned.isalpha()
