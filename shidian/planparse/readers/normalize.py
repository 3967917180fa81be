"""Clean-ups shared by the readers (the text of a plan is otherwise kept as it stands)."""
from __future__ import annotations

import re
import unicodedata

# PDF fonts often map glyphs to radical code points (⼈⺠, ⻔) instead of the ideographs. The Kangxi
# radicals and CJK compatibility ideographs have NFKC forms; the simplified radicals of the CJK
# Radicals Supplement do not, so they are listed here.
_SUPPLEMENT = dict(zip(
    "⺟⺠⺩⻄⻅⻆⻉⻋⻓⻔⻘⻙⻚⻛⻜⻝⻢⻣⻤⻥⻦⻧⻨⻩⻪⻬⻮⻰⻳⻁⺝⺜⺁",
    "母民王西见角贝车长门青韦页风飞食马骨鬼鱼鸟卤麦黄黾齐齿龙龟虎月日厂",
))
_COMPAT_RE = re.compile("[\u2e80-\u2fdf\uf900-\ufaff]")


def _compat(match: re.Match[str]) -> str:
    ch = match.group(0)
    if ch in _SUPPLEMENT:
        return _SUPPLEMENT[ch]
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 else ch


_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def clean_text(text: str) -> str:
    """Newlines as \\n, no BOM or stray control characters, radicals folded to ideographs."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    text = _CONTROL_RE.sub("", text)
    return _COMPAT_RE.sub(_compat, text)


_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = "\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\u2018-\u201d\u2014\u2026"
# spaces a PDF text layer inserts between Chinese and digits or around Chinese punctuation
_SPACE_AFTER_CJK = re.compile(f"(?<=[{_CJK}{_CJK_PUNCT}])[ \u00a0]+(?=[{_CJK}{_CJK_PUNCT}0-9%.．〇])")
_SPACE_BEFORE_CJK = re.compile(f"(?<=[0-9%{_CJK_PUNCT}])[ \u00a0]+(?=[{_CJK}{_CJK_PUNCT}])")


_SPACE_AROUND_ASCII_PUNCT = re.compile(
    f"(?<=[{_CJK}{_CJK_PUNCT}])[ \u00a0]+(?=[,;:()%])|"
    f"(?<=[,;:()])[ \u00a0]+(?=[{_CJK}{_CJK_PUNCT}0-9])|"
    f"(?<=[0-9])[ \u00a0]+(?=%)")


def squeeze_cjk_spaces(line: str) -> str:
    """`2019 年 8-11 月` → `2019年8-11月`; spaces between Latin words stay."""
    line = _SPACE_AFTER_CJK.sub("", line)
    line = _SPACE_BEFORE_CJK.sub("", line)
    return _SPACE_AROUND_ASCII_PUNCT.sub("", line)


def is_cjk(ch: str) -> bool:
    return bool(ch) and ("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff")


def join_wrapped(left: str, right: str) -> str:
    """Join two pieces of one paragraph that a layout broke apart."""
    if not left or not right:
        return left + right
    a, b = left[-1], right[0]
    if a.isascii() and a.isalnum() and b.isascii() and b.isalnum():
        return left + " " + right
    return left + right
