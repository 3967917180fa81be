"""Chinese time expressions in plan texts: dates, month ranges, year ends, limits and cycles.

Table-driven and self-contained (no third-party date parser: JioNLP reads ``2019年8-11月`` as the
whole year and cannot take ``年内`` or ``每月月底前``). Everything works on offsets of the string it
is given, so callers can map results back to the document.

    find_times("2019年8-11月")            -> one range 2019-08 .. 2019-11
    find_times("11月底前", context=("2019-08", "2019-11"))  -> 2019-11 (year from the phase)
    find_recurrences("于每月月底前报送")  -> [monthly '每月']
    cn_number("二十五") -> 25

Resolved dates are strings ``YYYY``-``MM`` or ``YYYY-MM-DD`` (the granularity the text gives);
a bare year is ``YYYY-01`` as a start and ``YYYY-12`` as an end.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# --------------------------------------------------------------------------- text folding

# One-to-one character folding (offsets stay valid): full-width digits and punctuation.
_FOLD = {chr(0xFF10 + i): str(i) for i in range(10)}
_FOLD.update({"（": "(", "）": ")", "－": "-", "～": "~", "：": ":", "，": ",", "；": ";",
              "．": ".", "／": "/", "％": "%", "＊": "*", "　": " ", "〜": "~", "–": "-",
              "﹣": "-", "‐": "-", "‑": "-", "−": "-", "Ｘ": "*", "×": "×"})
_FOLD_TABLE = str.maketrans(_FOLD)


_NEEDS_FOLD = re.compile("[" + re.escape("".join(_FOLD)) + "]")


def fold(text: str) -> str:
    """Full-width digits and punctuation to ASCII, character for character (same length)."""
    if not _NEEDS_FOLD.search(text):
        return text
    return text.translate(_FOLD_TABLE)


# --------------------------------------------------------------------------- numerals

CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "Ｏ": 0, "一": 1, "壹": 1, "幺": 1, "二": 2, "贰": 2,
             "两": 2, "俩": 2, "三": 3, "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6,
             "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9}
CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CN_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
CN_NUMERAL_CHARS = "".join(CN_DIGITS) + "".join(CN_UNITS) + "".join(CN_BIG)

_ASCII_NUM = re.compile(r"\d+(?:\.\d+)?")
_NUM_BIG = re.compile(r"(\d+(?:\.\d+)?)([万萬亿億])")


def _cn_section(s: str) -> int | None:
    """A Chinese numeral below 10,000 (十一, 二百零五, 三千五); digit strings like 二〇一九 too."""
    if not s:
        return 0
    if all(ch in CN_DIGITS for ch in s):
        if len(s) == 1:
            return CN_DIGITS[s]
        return int("".join(str(CN_DIGITS[ch]) for ch in s))
    total, digit = 0, None
    for ch in s:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch in CN_UNITS:
            total += (1 if digit is None else digit) * CN_UNITS[ch]
            digit = None
        else:
            return None
    if digit is not None:
        # 一百五 = 150, 三千五 = 3500: a trailing digit after a unit is one unit lower
        last_unit = next((CN_UNITS[ch] for ch in reversed(s) if ch in CN_UNITS), None)
        if last_unit and s[-2] in CN_UNITS and last_unit >= 100:
            total += digit * last_unit // 10
        else:
            total += digit
    return total


def cn_number(text: str) -> int | float | None:
    """The value of a number span: '25', '3.13万', '二十五', '两千', '一万二千', '二〇一九'.

    Returns None when the span is not a number. Only for number spans: running text such as
    '一是' must not be passed (see STACK-NOTES).
    """
    s = fold(text or "").strip().replace(",", "")
    if not s:
        return None
    m = _ASCII_NUM.fullmatch(s)
    if m:
        return float(s) if "." in s else int(s)
    # digits followed by 万/亿 (3.13万, 18700, 5万)
    m = _NUM_BIG.fullmatch(s)
    if m:
        value = float(m.group(1)) * CN_BIG[m.group(2)]
        return int(value) if value == int(value) else value
    total, section = 0, ""
    for ch in s:
        if ch in CN_BIG:
            part = _cn_section(section) if section else 1
            if part is None:
                return None
            total = (total + part) * CN_BIG[ch] if CN_BIG[ch] > 10_000 else total + part * CN_BIG[ch]
            section = ""
        elif ch in CN_DIGITS or ch in CN_UNITS:
            section += ch
        else:
            return None
    part = _cn_section(section)
    if part is None:
        return None
    return total + part


# --------------------------------------------------------------------------- masking

# Document numbers (国办发〔2015〕84号) and titles of other documents (《…(2019-2030年)》) carry
# years that are not time limits of this plan. A 《…》 that the plan itself is to draw up
# (制定《…三年行动计划(2015—2017年)》) keeps its years.
_DOCNO = re.compile(r"[〔﹝\[【][12]\d{3}[〕﹞\]】]|[(][12]\d{3}[)](?=\s*(?:第?\d+号|\d))")
_MAKE_VERBS = ("制定", "制订", "编制", "出台", "起草", "研究制定", "修订")
_MASK_CHAR = "\u2593"


def mask_references(text: str) -> str:
    """Same-length copy of ``text`` with document numbers and cited titles blanked out."""
    spans = [(m.start(), m.end()) for m in _DOCNO.finditer(text)]
    pos = 0
    while True:
        i = text.find("《", pos)
        if i < 0:
            break
        j = text.find("》", i + 1, i + 120)
        if j < 0:
            pos = i + 1
            continue
        before = text[max(0, i - 4):i]
        if not before.endswith(_MAKE_VERBS):
            spans.append((i + 1, j))
        pos = j + 1
    if not spans:
        return text
    spans.sort()
    parts, last = [], 0
    for a, b in spans:
        a = max(a, last)
        if b <= a:
            continue
        parts.append(text[last:a])
        parts.append(_MASK_CHAR * (b - a))
        last = b
    parts.append(text[last:])
    return "".join(parts)


# --------------------------------------------------------------------------- the grammar

_RED = r"[*×]{1,4}"  # redaction marks: ***月, **号
_Y = r"(?:1[89]\d\d|20\d\d|[〇零○一二三四五六七八九]{4}|\d{0,2}[*×]{2,4}|\d{2}-(?=年))"
_MON = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九]|" + _RED + r")"
_DAY = (r"(?:3[01]|[12]\d|0?[1-9]|三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|"
        r"[一二三四五六七八九]|" + _RED + r")")
_SEP = r"\s*(?:-{1,2}|—{1,2}|~|至|到)\s*"
# suffixes of a month or of a year
_MSFX = r"(?:上旬|中旬|下旬|初(?![步级中稿审选见])|底|末)"
_YSFX = r"(?:底|末|初(?![步级中稿审选见])|上半年|下半年|年中|内(?![容部外涵])|第?[一二三四1-4]季度)"

_POINT = (
    r"(?:(?P<y>" + _Y + r") ?年度?"
    r"(?: ?(?P<m>" + _MON + r") ?月份?(?: ?(?P<d>" + _DAY + r") ?[日号]|(?P<dn>\d{1,2})"
    r"(?![\d年月日号个%.:万人名次家户项岁周天份元]| ?[日号年月]))?(?P<ms>" + _MSFX + r")?"
    r"|(?P<ys>" + _YSFX + r"))?"
    r"|(?<!\d)(?<!\d年)(?P<m2>" + _MON + r") ?月份?(?: ?(?P<d2>" + _DAY + r") ?[日号])?(?P<ms2>" + _MSFX + r")?"
    r"|(?P<ny>(?:19|20)\d\d)[./](?P<nm>1[0-2]|0?[1-9])(?:[./](?P<nd>3[01]|[12]\d|0?[1-9]))?(?![\d%])"
    r"|(?P<iy>(?:19|20)\d\d)-(?P<im>1[0-2]|0[1-9])-(?P<id>3[01]|[12]\d|0[1-9])(?![\d%])"
    r"|(?P<v>年底|年末|年初(?![步级中])|年内|(?<![\d〇零○一二三四五六七八九十年])全年(?!度|工作|目标|任务|计划|总结|考核|的|各项|重点|累计)|年中(?![小学国央心级等文])|"
    r"上半年|下半年|当年|今年|本年|"
    r"明年|次年|同年|去年|上年度|上年))"
)
_YMM = (r"(?P<y>" + _Y + r") ?年 ?(?P<ma>" + _MON + r") ?(?:月份?)?" + _SEP + r"(?P<mb>" + _MON + r") ?月"
        r"(?P<ms>" + _MSFX + r")?")
_YY = (r"(?P<ya>1[89]\d\d|20\d\d)(?:年度?)?" + _SEP + r"(?P<yb>1[89]\d\d|20\d\d)(?P<yn>年度?)?")
def _unnamed(pattern: str) -> str:
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


_ANY = re.compile(r"(?<![\d.])(?:(?P<ymm>" + _unnamed(_YMM) + r")|(?P<yy>" + _unnamed(_YY) + r")|(?P<point>"
                  + _unnamed(_POINT) + r"))")
# characters an expression can start with: scanning for them first is far faster than a search
_START_CHARS = re.compile(r"[\d〇零○一二三四五六七八九十*×](?=[\d〇零○一二三四五六七八九十*× ]{0,4}[年月日号.\-—~至到/])"
                          r"|年[底末初内中]|全年|[上下]半年|[当今本明次同去上]年")
_YMM_RE = re.compile(_YMM)
_YY_RE = re.compile(_YY)
_POINT_RE = re.compile(_POINT)
_SEP_RE = re.compile(_SEP)
_DAY_ONLY_RE = re.compile(r"(?P<d>" + _DAY + r")[日号]|(?P<dn>\d{1,2})(?![\d年月日号个%.:万人名次家户项])")

# words around an expression that make it a time limit or a start
LIMIT_SUFFIXES = ("之前", "以前", "前", "为止", "止", "以内", "内")
START_SUFFIXES = ("开始", "以来", "起")
LIMIT_PREFIXES = ("争取到", "力争到", "力争在", "争取在", "确保在", "截止到", "截止", "截至", "将于",
                  "到", "至")
START_PREFIXES = ("自从", "自", "从")
# prefixes that belong in deadline_text (到2021年, 将于2021年); 于/在 do not
KEPT_PREFIXES = ("争取到", "力争到", "截止到", "截止", "截至", "将于", "到", "至")
_DONE = re.compile(r"\s*[,，]?\s*(?:基本|全面|全部|初步|顺利|如期|要|必须|确保|力争)?"
                   r"(?:完成|实现|建成|达到|竣工|覆盖|结束|完工|落实到位)")
_VAGUE_LIMITS = re.compile(r"(?:今年|明年|本年度?)?(?:暑期|暑假|寒假|春节|国庆|年终|秋季学期|春季学期)(?:前|之前)?"
                           r"|力争用\s*[\d一二三两四五六七八九十]+\s*年左右的?时间"
                           r"|用\s*[\d一二三两四五六七八九十]+\s*年左右的?时间"
                           r"|(?:(?<=完成时限[:：])|(?<=时间节点[:：])|(?<=完成时间[:：]))"
                           r"(?:长期坚持|持续推进|持续开展|长期|常态化推进|常态化|逐年推进|按年度推进)")

_SEASON_MONTHS = {"一": (1, 3), "1": (1, 3), "二": (4, 6), "2": (4, 6), "三": (7, 9), "3": (7, 9),
                  "四": (10, 12), "4": (10, 12)}


@dataclass(frozen=True)
class TimeExpr:
    """One time expression found in a text.

    ``begin``/``until`` are the first and last month (or day) it covers, resolved; None when the
    text does not say (redacted ***月, a year left out and not known from the context).
    ``role`` is 'limit' (…前, 到…, 年底, …完成), 'start' (自…起, …以来), 'span' (a range) or 'point'.
    """

    text: str
    start: int
    end: int
    begin: str | None
    until: str | None
    is_range: bool = False
    role: str = "point"
    prefix: str = ""
    suffix: str = ""
    year_given: bool = True
    redacted: bool = False
    granularity: str = "month"  # year | month | day

    @property
    def phrase(self) -> str:
        """The words of the limit as a clerk copies them: 到2021年, 2015年底前, 2019年8-11月."""
        pre = self.prefix if self.prefix in KEPT_PREFIXES else ""
        return pre + self.text + self.suffix

    @property
    def phrase_start(self) -> int:
        pre = self.prefix if self.prefix in KEPT_PREFIXES else ""
        return self.start - len(pre)

    @property
    def dated(self) -> bool:
        return self.until is not None


def _num(token: str | None) -> int | None:
    if not token:
        return None
    if "*" in token or "×" in token or "-" in token:
        return None
    value = cn_number(token)
    return int(value) if isinstance(value, (int, float)) else None


def _is_red(token: str | None) -> bool:
    return bool(token) and ("*" in token or "×" in token or token.endswith("-"))


def _ym(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _ymd(year: int, month: int, day: int) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}"


def _in_range(value: str, ctx: tuple[str | None, str | None]) -> bool:
    lo, hi = ctx
    return (lo is None or value[:7] >= lo[:7]) and (hi is None or value[:7] <= hi[:7])


def _year_from_context(month: int | None, ctx: tuple[str | None, str | None] | None) -> int | None:
    """The year of a month the text leaves out, from the surrounding period (a phase)."""
    if not ctx or (ctx[0] is None and ctx[1] is None):
        return None
    lo = int(ctx[0][:4]) if ctx[0] else int(ctx[1][:4])
    hi = int(ctx[1][:4]) if ctx[1] else lo
    if month is None:
        return lo if lo == hi else None
    for year in range(lo, hi + 1):
        if _in_range(_ym(year, month), ctx):
            return year
    return None


class _Point:
    """A resolved single point before range merging."""

    __slots__ = ("year", "month", "day", "msfx", "ysfx", "vague", "red", "year_given")

    def __init__(self, year=None, month=None, day=None, msfx=None, ysfx=None, vague=None,
                 red=False, year_given=False):
        self.year, self.month, self.day = year, month, day
        self.msfx, self.ysfx, self.vague = msfx, ysfx, vague
        self.red, self.year_given = red, year_given

    def bounds(self) -> tuple[str | None, str | None, str]:
        """(begin, until, granularity)."""
        if self.red or self.year is None:
            return None, None, "month"
        y = self.year
        if self.month is not None:
            if self.day is not None and self.msfx is None:
                try:
                    return _ymd(y, self.month, self.day), _ymd(y, self.month, self.day), "day"
                except ValueError:
                    return None, None, "day"
            return _ym(y, self.month), _ym(y, self.month), "month"
        sfx = self.ysfx or self.vague or ""
        if sfx in ("底", "末", "年底", "年末"):
            return _ym(y, 12), _ym(y, 12), "month"
        if sfx in ("初", "年初"):
            return _ym(y, 1), _ym(y, 1), "month"
        if sfx == "上半年":
            return _ym(y, 1), _ym(y, 6), "month"
        if sfx == "下半年":
            return _ym(y, 7), _ym(y, 12), "month"
        if sfx == "年中":
            return _ym(y, 6), _ym(y, 6), "month"
        if sfx.endswith("季度"):
            lo, hi = _SEASON_MONTHS.get(sfx.lstrip("第")[0], (1, 12))
            return _ym(y, lo), _ym(y, hi), "month"
        return _ym(y, 1), _ym(y, 12), "year"


def _point_from(m: re.Match, year_hint: int | None, ctx, ref_year: int | None) -> _Point | None:
    g = m.groupdict()
    if g.get("ny") or g.get("iy"):  # 2021.12.31, 2021.6, 2021-06-30
        year = int(g.get("ny") or g["iy"])
        return _Point(year=year, month=int(g.get("nm") or g["im"]),
                      day=int(g["nd"]) if g.get("nd") else (int(g["id"]) if g.get("id") else None),
                      year_given=True)
    if g.get("y"):
        red = _is_red(g["y"])
        year = _num(g["y"])
        month_tok, day_tok = g.get("m"), g.get("d") or g.get("dn")
        p = _Point(year=year, month=_num(month_tok), day=_num(day_tok), msfx=g.get("ms"),
                   ysfx=g.get("ys"), red=red or _is_red(month_tok) or _is_red(day_tok),
                   year_given=not red)
        if p.month is not None and not 1 <= p.month <= 12:
            return None
        if p.day is not None and not 1 <= p.day <= 31:
            return None
        return p
    if g.get("m2"):
        month_tok, day_tok, msfx = g["m2"], g.get("d2"), g.get("ms2")
        month = _num(month_tok)
        if month is not None and not 1 <= month <= 12:
            return None
        # 一月一调度: a Chinese-numeral month standing alone is not a date
        nxt = m.string[m.end():m.end() + 1]
        if (month_tok[0] in CN_DIGITS or month_tok[0] in CN_UNITS) and not day_tok and not msfx \
                and nxt not in ("份", "前", "至", "到", "-", "—", "~", "起", "中", "底", "初"):
            return None
        red = _is_red(month_tok) or _is_red(day_tok)
        year = year_hint if year_hint is not None else _year_from_context(month, ctx)
        day = _num(day_tok)
        if day is not None and not 1 <= day <= 31:
            return None
        return _Point(year=year, month=month, day=day, msfx=msfx, red=red, year_given=False)
    v = g.get("v")
    if v:
        if v in ("今年", "本年", "当年", "同年"):
            year = ref_year if v in ("今年", "本年") else (year_hint or _year_from_context(None, ctx))
            return _Point(year=year, vague=v)
        if v in ("明年", "次年"):
            base = ref_year if v == "明年" else year_hint
            return _Point(year=base + 1 if base else None, vague=v)
        if v in ("去年", "上年", "上年度"):
            return _Point(year=ref_year - 1 if ref_year else None, vague=v)
        year = year_hint if year_hint is not None else _year_from_context(12 if "底" in v or "末" in v
                                                                          else None, ctx)
        return _Point(year=year, vague=v)
    return None


_SENTENCE_END = "。!?！？\n"
_SENTENCE_END_RE = re.compile("[" + _SENTENCE_END + "]")
# every expression has one of these (a bracketed year range has the digits and a dash)
_HAS_TIME = re.compile(r"[年月日号]|\d{4}\s*[-—~至到－～–]|(?:19|20)\d\d[./]\d")


def find_times(text: str, *, context: tuple[str | None, str | None] | None = None,
               ref_year: int | None = None, masked: str | None = None) -> list[TimeExpr]:
    """All time expressions of ``text`` in order, resolved.

    ``context``: (begin, end) of the surrounding period, used for a year the text leaves out
    (a step's 8月10日前 inside 2019年8月). ``ref_year``: the year the document was written, for
    今年/明年 (usually unknown: None). A year named earlier in the same sentence is used first.
    """
    if not text or not _HAS_TIME.search(text):
        return []
    work = masked if masked is not None else mask_references(fold(text))
    out: list[TimeExpr] = []
    pos, last_year, last_year_pos, checked_upto = 0, None, -1, 0
    n = len(work)
    while pos < n:
        c = _START_CHARS.search(work, pos)
        if not c:
            break
        m = _ANY.match(work, c.start())
        if not m:
            pos = c.start() + 1
            continue
        start = m.start()
        # a year named earlier in the same sentence (each character is looked at once)
        if last_year is not None:
            lo = max(last_year_pos, checked_upto)
            if lo < start and _SENTENCE_END_RE.search(work, lo, start):
                last_year = None
            checked_upto = max(checked_upto, start)
        hint = last_year
        expr = None
        if m.group("ymm"):
            mm = _YMM_RE.match(work, start)
            expr = _from_ymm(mm, text)
        elif m.group("yy"):
            mm = _YY_RE.match(work, start)
            expr = _from_yy(mm, text)
        else:
            mm = _POINT_RE.match(work, start)
            if mm is None or mm.end() == start:
                pos = start + 1
                continue
            expr = _from_point(mm, work, text, hint, context, ref_year)
        if expr is None:
            pos = max(m.end(), start + 1)
            continue
        expr = _with_role(expr, work, text)
        out.append(expr)
        if expr.year_given and expr.until:
            last_year, last_year_pos = int(expr.until[:4]), expr.end
        pos = max(expr.end + len(expr.suffix), start + 1)
    return out


def _from_ymm(mm: re.Match, text: str) -> TimeExpr | None:
    y_tok = mm.group("y")
    a, b = _num(mm.group("ma")), _num(mm.group("mb"))
    red = _is_red(y_tok) or _is_red(mm.group("ma")) or _is_red(mm.group("mb"))
    year = _num(y_tok)
    if not red and (a is None or b is None or not (1 <= a <= 12 and 1 <= b <= 12)):
        return None
    begin = until = None
    if year is not None and not red:
        begin, until = _ym(year, a), _ym(year, b)
    return TimeExpr(text=text[mm.start():mm.end()], start=mm.start(), end=mm.end(), begin=begin,
                    until=until, is_range=True, role="span", year_given=not _is_red(y_tok),
                    redacted=red)


def _from_yy(mm: re.Match, text: str) -> TimeExpr | None:
    a, b = int(mm.group("ya")), int(mm.group("yb"))
    s = mm.string
    bracketed = mm.start() > 0 and s[mm.start() - 1] in "(（[【" and s[mm.end():mm.end() + 1] in ")）]】"
    if not mm.group("yn") and not bracketed:
        return None
    if b < a or b - a > 50:
        return None
    return TimeExpr(text=text[mm.start():mm.end()], start=mm.start(), end=mm.end(),
                    begin=_ym(a, 1), until=_ym(b, 12), is_range=True, role="span",
                    granularity="year")


def _from_point(mm: re.Match, work: str, text: str, hint, ctx, ref_year) -> TimeExpr | None:
    first = _point_from(mm, hint, ctx, ref_year)
    if first is None:
        return None
    start, end = mm.start(), mm.end()
    # A bare year needs 年 and nothing that makes it a count (3年左右 is not matched: 4 digits)
    b1, u1, gran = first.bounds()
    sep = _SEP_RE.match(work, end)
    if sep and sep.end() > end:
        second_m = _POINT_RE.match(work, sep.end())
        second = None
        if second_m and second_m.end() > sep.end():
            hint2 = first.year if first.year is not None else hint
            second = _point_from(second_m, hint2, ctx, ref_year)
            if second is not None and second_m.group("m2") is None and second_m.group("y") is None \
                    and second_m.group("ny") is None and second_m.group("iy") is None:
                second = None  # 至今年底… keep ranges to explicit dates
            s_end = second_m.end() if second is not None else None
        if second is None and first.month is not None:
            dm = _DAY_ONLY_RE.match(work, sep.end())
            if dm and dm.end() > sep.end():
                day = _num(dm.group("d") or dm.group("dn"))
                if day is not None and 1 <= day <= 31:
                    second = _Point(year=first.year, month=first.month, day=day, red=first.red)
                    s_end = dm.end()
        if second is not None:
            if second.year is None and first.year is not None and not second.red:
                second.year = first.year
            if first.year is None and second.year is not None and not first.red and first.month:
                first.year = second.year if (first.month or 0) <= (second.month or 12) else second.year - 1
                b1, u1, gran = first.bounds()
            b2, u2, gran2 = second.bounds()
            red = first.red or second.red
            begin = b1 if not red else None
            until = u2 if not red else None
            if begin and until and until[:7] < begin[:7]:
                return None
            return TimeExpr(text=text[start:s_end], start=start, end=s_end, begin=begin,
                            until=until, is_range=True, role="span",
                            year_given=first.year_given or second.year_given,
                            redacted=red, granularity=gran2)
    if first.red:
        return TimeExpr(text=text[start:end], start=start, end=end, begin=None, until=None,
                        year_given=first.year_given, redacted=True)
    return TimeExpr(text=text[start:end], start=start, end=end, begin=b1, until=u1,
                    year_given=first.year_given, granularity=gran)


_CYCLE_BEFORE = re.compile(r"每(?:一)?个?(?:年度?|季度?|月|半年)$")


_DEADLINE_LABEL = re.compile(r"(?:完成时限|完成时间|时间节点|时限要求|截止时间|办结时限|时限)[为是]?\s*[:：]?\s*$")


_ATTRIBUTIVE_AFTER = re.compile(r"[\u4e00-\u9fff]{0,4}的(?![确是])")


def _is_tab_cell(work: str, start: int, end: int) -> bool:
    """Whether text[start:end] fills a whole cell of a TAB-separated row."""
    before = work[max(0, start - 3):start].rstrip(" ")
    after = work[end:end + 3].lstrip(" ")
    left = before.endswith("\t") or (before.endswith("\n") and after.startswith("\t"))
    right = after.startswith(("\t", "\n")) or (end >= len(work.rstrip(" "))) or after == ""
    return left and right and ("\t" in before or "\t" in after)


def _with_role(expr: TimeExpr, work: str, text: str) -> TimeExpr:
    after = work[expr.end:expr.end + 3]
    suffix = ""
    for sfx in LIMIT_SUFFIXES + START_SUFFIXES:
        if after.startswith(sfx):
            if sfx == "内" and work[expr.end + 1:expr.end + 2] in ("容", "部", "外", "涵"):
                continue
            if sfx == "起" and work[expr.end + 1:expr.end + 2] in ("草", "步"):
                continue
            suffix = sfx
            break
    before = work[max(0, expr.start - 4):expr.start].rstrip(" ")
    prefix = ""
    for pre in START_PREFIXES + LIMIT_PREFIXES:
        if before.endswith(pre):
            prefix = pre
            break
    if not prefix and before.endswith("于"):
        prefix = "于"
    if not prefix and before.endswith("在"):
        prefix = "在"
    role = expr.role
    core = expr.text
    cycle = _CYCLE_BEFORE.search(work[max(0, expr.start - 4):expr.start])
    if cycle:
        # 每年11月底前: a per-cycle limit, not a date
        return TimeExpr(text=expr.text, start=expr.start, end=expr.end, begin=None, until=None,
                        role="cycle", prefix=cycle.group(0),
                        suffix=text[expr.end:expr.end + len(suffix)], year_given=False,
                        redacted=expr.redacted, granularity=expr.granularity)
    if suffix in START_SUFFIXES or prefix in START_PREFIXES:
        role = "start"
    elif suffix in ("前", "以前", "之前") and not core.endswith(("底", "末")) \
            and _ATTRIBUTIVE_AFTER.match(work, expr.end + len(suffix)):
        role = "point"  # 对2019年以前建成的房屋: a date that describes, not a limit
    elif suffix in LIMIT_SUFFIXES or prefix in LIMIT_PREFIXES:
        role = "limit"
    elif core.endswith(("底", "末", "年内", "全年")) or (not expr.is_range and ("年底" in core or "月底" in core)):
        role = "limit"
    elif not expr.is_range and _DONE.match(work, expr.end):
        role = "limit"
    elif _DEADLINE_LABEL.search(work, max(0, expr.start - 10), expr.start):
        role = "limit"  # 完成时限:2021年6月
    elif not expr.is_range and _is_tab_cell(work, expr.start, expr.end + len(suffix)):
        role = "limit"  # the 完成时限 cell of a TAB-separated task table
    return TimeExpr(text=expr.text, start=expr.start, end=expr.end, begin=expr.begin,
                    until=expr.until, is_range=expr.is_range, role=role, prefix=prefix,
                    suffix=text[expr.end:expr.end + len(suffix)], year_given=expr.year_given,
                    redacted=expr.redacted, granularity=expr.granularity)


def find_vague_limits(text: str) -> list[tuple[int, int, str]]:
    """Limits that cannot be dated: 今年暑期, 力争用3年左右的时间 (start, end, words)."""
    if not text or not _HAS_VAGUE.search(text):
        return []
    return [(m.start(), m.end(), m.group(0)) for m in _VAGUE_LIMITS.finditer(fold(text))]


_HAS_VAGUE = re.compile(r"暑|寒假|春节|国庆|年终|学期|年左右|完成时限|时间节点|完成时间")


def has_time(text: str) -> bool:
    """Whether ``text`` may hold a time expression (a cheap test before ``find_times``)."""
    return bool(text) and bool(_HAS_TIME.search(text))


class DocTimes:
    """The time expressions of a whole text, found once and looked up by offset range."""

    __slots__ = ("text", "exprs", "starts")

    def __init__(self, text: str):
        self.text = text
        self.exprs = find_times(text)
        self.starts = [e.start for e in self.exprs]

    def within(self, start: int, end: int) -> list[TimeExpr]:
        """Expressions inside text[start:end], with offsets relative to ``start``."""
        import bisect
        i = bisect.bisect_left(self.starts, start)
        out = []
        while i < len(self.exprs) and self.exprs[i].start < end:
            e = self.exprs[i]
            if e.end <= end:
                out.append(_shifted(e, -start))
            i += 1
        return out


def _shifted(e: TimeExpr, delta: int) -> TimeExpr:
    return TimeExpr(text=e.text, start=e.start + delta, end=e.end + delta, begin=e.begin, until=e.until,
                    is_range=e.is_range, role=e.role, prefix=e.prefix, suffix=e.suffix,
                    year_given=e.year_given, redacted=e.redacted, granularity=e.granularity)


_DOC_TIMES: list = [None]


def doc_times(text: str) -> DocTimes:
    """``DocTimes`` of ``text``, kept for the last text asked (the steps of one parse share it)."""
    cached = _DOC_TIMES[0]
    if cached is not None and cached.text is text:
        return cached
    result = DocTimes(text)
    _DOC_TIMES[0] = result
    return result


def latest(values) -> str | None:
    """The latest of YYYY-MM[-DD] strings (a month counts as its last day)."""
    best = None
    for v in values:
        if v and (best is None or _sort_key(v) > _sort_key(best)):
            best = v
    return best


def _sort_key(value: str) -> str:
    return value if len(value) > 7 else value + "-99"


def date_key(value: str | None) -> str:
    """A sortable key for YYYY-MM[-DD] (a month sorts after its days)."""
    return _sort_key(value) if value else ""


# --------------------------------------------------------------------------- recurrences

RECURRENCES = ("daily", "weekly", "monthly", "quarterly", "half-yearly", "yearly")

# (pattern, recurrence): 每/一X一/X报/按X/年度考评; order does not matter (longest match wins)
RECURRENCE_TABLE: tuple[tuple[str, str | None], ...] = (
    (r"每(?:一)?(?:个)?(?:工作)?[天日](?![常益])", "daily"),
    (r"一日一[报调通会]|日报(?:告)?制度|按日|逐日", "daily"),
    (r"每(?:一|个)?(?:周|星期|礼拜)", "weekly"),
    (r"周报|一周一[报调通会次]|按周|逐周|周例会|周调度|周通报", "weekly"),
    (r"每(?:一)?个?月(?!份)", "monthly"),
    (r"月报|一月一(?:调度|通报|报告|督查|督导|会商|考核|[报调通会督次])|按月|逐月|月调度|月通报|月例会|月度(?:报告|调度|通报|例会|考核|分析)", "monthly"),
    (r"每(?:一)?个?季度?", "quarterly"),
    (r"季报|一季一[报调通会督次度]|按季度?|季通报|季调度|季例会|季度(?:报告|例会|通报|调度|考核|分析)", "quarterly"),
    (r"每半年|半年报|半年一次|每(?:六|6)个月|每学期|半年度(?:报告|总结|考核|评估|例会)", "half-yearly"),
    (r"每(?:一)?年度?", "yearly"),
    (r"年报|一年一[报调通会次度]|按年度|逐年|每个年度|每学年|"
     r"年度(?:绩效)?(?:考评|考核|评价|评估|检查|督导|督查|总结)", "yearly"),
    (r"每(?:三|3)个月", "quarterly"),
    (r"每(?:十二|12)个月", "yearly"),
)
_REC_RES = tuple((re.compile(p), kind) for p, kind in RECURRENCE_TABLE)


@dataclass(frozen=True)
class Recurrence:
    kind: str  # one of RECURRENCES
    text: str
    start: int
    end: int


def find_recurrences(text: str) -> list[Recurrence]:
    """Cycle words of ``text`` (每月, 一月一调度, 季通报, 每年11月底前 → yearly ...), in order."""
    if not text or not _HAS_CYCLE.search(text):
        return []
    work = fold(text)
    found: list[tuple[int, int, str]] = []
    for rx, kind in _REC_RES:
        for m in rx.finditer(work):
            found.append((m.start(), m.end(), kind))
    found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    out: list[Recurrence] = []
    last_end = -1
    for s, e, kind in found:
        if s < last_end:
            continue
        out.append(Recurrence(kind=kind, text=text[s:e], start=s, end=e))
        last_end = e
    return out


_HAS_CYCLE = re.compile(r"每|半年|学期|学年|[一按逐]\s*[日周月季年]|[日周月季年]报|[月季周]调度|[月季周]通报|[月季周]例会|年度|季度|月度")


def recurrence_of(text: str) -> str | None:
    """The one cycle a text sets, or None (no cycle, or several different ones)."""
    kinds = {r.kind for r in find_recurrences(text)}
    return kinds.pop() if len(kinds) == 1 else None


_CYCLE_CLAUSE = re.compile(r"每(?:一)?个?(?:年|季度?|月|周|星期|半年|天|日)[^,,;;。]{0,12}?"
                           r"(?:月底|月末|底|末|中旬|上旬|下旬|初|\d{1,2}日|\d{1,2}号|[*×]+号)?(?:之前|以前|前)")


def cycle_limit(text: str) -> tuple[int, int, str] | None:
    """The per-cycle limit words, e.g. 每月月底前 / 每年11月底前 (start, end, words)."""
    m = _CYCLE_CLAUSE.search(fold(text or ""))
    return (m.start(), m.end(), text[m.start():m.end()]) if m else None
