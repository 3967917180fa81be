"""Small text helpers shared by the parser modules (pure Python, no Django).

Everything here keeps offsets: ``fold`` maps characters one to one, and the splitters return
``(start, end)`` spans of the string they are given, so callers can map results back to
``Document.text``. All functions run in time linear in their input.
"""
from __future__ import annotations

import re

# --------------------------------------------------------------------------- folding

# One-to-one folding of full-width forms to ASCII (same length, offsets stay valid).
_FOLD = {chr(0xFF10 + i): str(i) for i in range(10)}
_FOLD.update({
    "（": "(", "）": ")", "，": ",", "：": ":", "；": ";", "．": ".", "！": "!", "？": "?",
    "［": "[", "］": "]", "　": " ", "\u00a0": " ", "\r": " ", "\u200b": " ", "\ufeff": " ",
    "﹙": "(", "﹚": ")", "﹐": ",", "﹕": ":", "﹔": ";",
})
_FOLD_TABLE = str.maketrans(_FOLD)


_FOLD_PAIRS = tuple(_FOLD.items())


def fold(text: str) -> str:
    """Full-width brackets, punctuation, digits and spaces to ASCII, character for character."""
    if len(text) < 256:
        return text.translate(_FOLD_TABLE)
    for a, b in _FOLD_PAIRS:  # str.replace runs at C speed; most of these are absent
        if a in text:
            text = text.replace(a, b)
    return text


def folded_text(doc) -> str:
    """``fold(doc.text)``, computed once per Document and kept on it."""
    cached = doc.__dict__.get("_folded")
    if cached is None or len(cached) != len(doc.text):
        cached = fold(doc.text)
        doc.__dict__["_folded"] = cached
    return cached


def half_brackets(text: str) -> str:
    """Full-width round brackets to ASCII ones (for printing paths and markers)."""
    return text.replace("（", "(").replace("）", ")")


# --------------------------------------------------------------------------- numerals

CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
            "七": 7, "八": 8, "九": 9}
CN_NUM_CHARS = "一二三四五六七八九十"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
PAREN_NUMS = "⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽⑾⑿⒀⒁⒂⒃⒄⒅⒆⒇"  # one character each for (1)…(20)
DOT_NUMS = "⒈⒉⒊⒋⒌⒍⒎⒏⒐⒑⒒⒓⒔⒕⒖⒗⒘⒙⒚⒛"  # one character each for 1.…20.


def cn_small(s: str) -> int | None:
    """A Chinese numeral from 一 to 九十九 (and 一百), or ASCII digits; None if not one."""
    if not s:
        return None
    if s.isdigit():
        try:
            return int(s)
        except ValueError:
            return None
    if s == "一百":
        return 100
    if "十" not in s:
        return CN_DIGIT.get(s) if len(s) == 1 else None
    head, _, tail = s.partition("十")
    if len(head) > 1 or len(tail) > 1:
        return None
    tens = 1 if not head else CN_DIGIT.get(head)
    ones = 0 if not tail else CN_DIGIT.get(tail)
    if tens is None or ones is None:
        return None
    return tens * 10 + ones


# --------------------------------------------------------------------------- characters

def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


_CJK = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")


def cjk_count(s: str) -> int:
    return len(_CJK.findall(s))


SENTENCE_END = "。！？!?"
CLAUSE_END = "。！？!?；;"
SOFT_PUNCT = "，,、：:"
ALL_PUNCT = SENTENCE_END + "；;" + SOFT_PUNCT
OPEN_BRACKETS = "(（〈<《[【“‘"
CLOSE_BRACKETS = ")）〉>》]】”’"
_PAIR = dict(zip(OPEN_BRACKETS, CLOSE_BRACKETS))


def strip_punct(s: str, chars: str = " \t\u3000。.，,；;：:、！!？?") -> str:
    return s.strip(chars)


# --------------------------------------------------------------------------- splitting

def split_spans(text: str, enders: str, start: int = 0, end: int | None = None,
                keep_brackets: bool = True) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` after each character of ``enders`` (kept in the piece).

    With ``keep_brackets`` an ender inside round brackets does not split (``(责任单位:A;B)``).
    Empty and whitespace-only pieces are dropped. Returns spans in ``text``.
    """
    end = len(text) if end is None else end
    spans, depth, piece = [], 0, start
    for i in range(start, end):
        ch = text[i]
        if keep_brackets and ch in "(（〈":
            depth += 1
        elif keep_brackets and ch in ")）〉" and depth:
            depth -= 1
        elif ch in enders and depth == 0:
            if text[piece:i + 1].strip():
                spans.append((piece, i + 1))
            piece = i + 1
    if piece < end and text[piece:end].strip():
        spans.append((piece, end))
    return spans


def sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (split after 。！？ and line breaks)."""
    return split_spans(text, SENTENCE_END + "\n", start, end)


def clauses(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Clause spans (split after 。！？；, commas, colons and line breaks; brackets kept whole)."""
    return split_spans(text, CLAUSE_END + "，,：:\n", start, end)


_SPLIT_CACHE: dict[str, re.Pattern] = {}


def split_top(s: str, seps: str) -> list[str]:
    """Split ``s`` at any character of ``seps`` that is not inside brackets; pieces stripped."""
    pat = _SPLIT_CACHE.get(seps)
    if pat is None:
        pat = re.compile("[(（〈《“)）〉》”" + re.escape(seps) + "]")
        _SPLIT_CACHE[seps] = pat
    out, depth, cur = [], 0, 0
    for m in pat.finditer(s):
        ch = m.group(0)
        if ch in "(（〈《“":
            depth += 1
        elif ch in ")）〉》”":
            if depth:
                depth -= 1
        elif depth == 0:
            out.append(s[cur:m.start()].strip())
            cur = m.end()
    out.append(s[cur:].strip())
    return [p for p in out if p]


def balanced_groups(s: str, opens: str = "(（", closes: str = ")）") -> list[tuple[int, int]]:
    """Spans (start, end) of the outermost bracket groups of ``s``, brackets included."""
    spans, depth, begin = [], 0, 0
    for i, ch in enumerate(s):
        if ch in opens:
            if depth == 0:
                begin = i
            depth += 1
        elif ch in closes and depth:
            depth -= 1
            if depth == 0:
                spans.append((begin, i + 1))
    return spans


_WS = re.compile(r"\s+")


def squeeze(s: str) -> str:
    """Remove all whitespace (Chinese text does not need it)."""
    return _WS.sub("", s)


_FIRST_CACHE: dict[str, re.Pattern] = {}


def first_sentence(s: str, extra: str = "") -> str:
    """The text before the first sentence end (。！？ plus ``extra``), outside brackets.

    An unclosed bracket does not swallow the text: its depth is reset at the next sentence end
    once 200 characters have passed."""
    pat = _FIRST_CACHE.get(extra)
    if pat is None:
        pat = re.compile("[(（〈《“)）〉》”" + re.escape(SENTENCE_END + extra) + "]")
        _FIRST_CACHE[extra] = pat
    depth, opened = 0, 0
    for m in pat.finditer(s):
        ch = m.group(0)
        if ch in "(（〈《“":
            if depth == 0:
                opened = m.start()
            depth += 1
        elif ch in ")）〉》”":
            if depth:
                depth -= 1
        elif depth == 0 or m.start() - opened > 200:
            return s[:m.start()]
    return s
