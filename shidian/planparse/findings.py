"""Inconsistencies a careful reader of the plan would flag for the clerk.

Kinds (``Finding.kind``):

* ``allocation_sum``   an allocation table's rows do not add up to its 合计 row;
* ``allocation_text``  a table total differs from the count the text gives (国有和国有控股企业30家 vs 40);
* ``deadline_after_period``  a task's deadline falls after the end of the plan's period;
* ``phase_order``      a phase ends before it starts, or overlaps the phase after it;
* ``target_conflict``  one target stated twice with different numbers;
* ``lone_lead_unit``   a lead unit that is named nowhere else in the plan (a typo or an alias?);
* ``numbering_gap``    a numbered list skips a number (二、 then 四、; (一) lost before (二)).

Each finding carries a message in Chinese and the location (offsets in the text and 1-based line).
"""
from __future__ import annotations

import bisect
import calendar
import re
from collections.abc import Iterable

from .allocations import Table, check_allocations, extract_allocations
from .model import Document, Finding, OutlineNode, PlanDraft, Task

MAX_PER_KIND = 200  # more of one kind is noise, not help, for the clerk
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


# ----------------------------------------------------------------- dates


def _bounds(value: str | None) -> tuple[tuple[int, int, int], tuple[int, int, int], int] | None:
    """Earliest and latest day a YYYY[-MM[-DD]] value stands for, and its precision (1-3)."""
    if not value:
        return None
    match = _DATE_RE.match(str(value).strip())
    if not match:
        return None
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    if month is not None and not 1 <= month <= 12:
        return None
    if month is None:
        return (year, 1, 1), (year, 12, 31), 1
    last = calendar.monthrange(year, month)[1]
    if day is None:
        return (year, month, 1), (year, month, last), 2
    if not 1 <= day <= last:
        return None
    return (year, month, day), (year, month, day), 3


def _truncated(value: str, precision: int) -> tuple[int, ...] | None:
    bounds = _bounds(value)
    if bounds is None:
        return None
    return bounds[0][:precision]


def cn_date(value: str | None) -> str:
    """2021-06 → 2021年6月, 2021-06-30 → 2021年6月30日, 2021 → 2021年."""
    bounds = _bounds(value)
    if bounds is None:
        return str(value or "")
    (year, month, day), _, precision = bounds
    if precision == 1:
        return f"{year}年"
    if precision == 2:
        return f"{year}年{month}月"
    return f"{year}年{month}月{day}日"


# ----------------------------------------------------------------- locations


class _Locator:
    def __init__(self, doc: Document):
        self.doc = doc
        self.starts = [line.start for line in doc.lines]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, max(0, offset))

    def finding(self, kind: str, message: str, start: int | None, end: int | None) -> Finding:
        if start is None:
            return Finding(kind=kind, message=message)
        end = start if end is None else end
        return Finding(kind=kind, message=message, start=start, end=end, line=self.line_of(start))

    def find(self, needle: str | None, hint: int = 0) -> tuple[int | None, int | None]:
        if not needle:
            return None, None
        at = self.doc.text.find(needle, hint)
        if at < 0 and hint:
            at = self.doc.text.find(needle)
        return (at, at + len(needle)) if at >= 0 else (None, None)


def _task_label(task: Task) -> str:
    title = (task.title or "").strip()
    if len(title) > 30:
        title = title[:30] + "…"
    path = task.path if task.path and task.path != "-" else ""
    return f"{path} {title}".strip() if title else (path or "(无标题)")


def _task_location(loc: _Locator, task: Task, needle: str | None = None
                   ) -> tuple[int | None, int | None]:
    base = 0
    if task.span:
        base = task.span[0]
        if needle:
            stop = max(task.span[1], task.span[0]) + len(needle)
            at = loc.doc.text.find(needle, task.span[0], stop)
            if at >= 0:
                return at, at + len(needle)
        return task.span
    if task.node is not None:
        base = task.node.start
        if not needle:
            return task.node.start, task.node.end
    if needle:
        start, end = loc.find(needle, base)
        if start is not None:
            return start, end
    return loc.find(task.title, base) if task.title else (None, None)


# ----------------------------------------------------------------- checks


def _allocation_findings(loc: _Locator, tables: list[Table]) -> list[Finding]:
    out = []
    for check in check_allocations(loc.doc, tables):
        table: Table = check["_table"]
        name = f"分配表“{table.title}”" if table.title else f"第{table.line}行起的表格"
        column = check["column"]
        if check["rows_sum_matches_printed_total"] is False:
            out.append(loc.finding(
                "allocation_sum",
                f"{name}中“{column}”一列各行相加为{_num(check['rows_sum'])},"
                f"与合计行的{_num(check['printed_total'])}不一致",
                table.total_start if table.total_start is not None else table.start,
                table.total_end if table.total_end is not None else table.end))
        text = check["_text"]
        total = check["_total"]
        if text is not None and total is not None and total != text.value:
            which = "合计" if check["printed_total"] is not None else "各行相加"
            out.append(loc.finding(
                "allocation_text",
                f"{name}中“{column}”一列{which}为{_num(total)},"
                f"与正文第{text.line}行“{text.quote}”的{_num(text.value)}不一致",
                table.total_start if table.total_start is not None else table.start,
                table.total_end if table.total_end is not None else table.end))
    return out


def _num(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _deadline_findings(loc: _Locator, draft: PlanDraft) -> list[Finding]:
    period_end = _bounds(draft.period_end)
    if period_end is None:
        return []
    out = []
    for task in draft.tasks:
        deadline = _bounds(task.deadline)
        if deadline is None or deadline[0] <= period_end[1]:
            continue
        words = task.deadline_text or cn_date(task.deadline)
        start, end = _task_location(loc, task, task.deadline_text)
        out.append(loc.finding(
            "deadline_after_period",
            f"任务“{_task_label(task)}”的完成时限“{words}”晚于方案实施期的结束时间{cn_date(draft.period_end)}",
            start, end))
    return out


def _phase_findings(loc: _Locator, draft: PlanDraft) -> list[Finding]:
    out = []
    phases = draft.phases
    for index, phase in enumerate(phases):
        name = f"“{phase.name}”" if phase.name else f"第{index + 1}个阶段"
        start, end = phase.span if phase.span else loc.find(phase.text)
        begins, ends = _bounds(phase.start), _bounds(phase.end)
        if begins and ends and ends[1] < begins[0]:
            out.append(loc.finding(
                "phase_order",
                f"阶段{name}的结束时间{cn_date(phase.end)}早于开始时间{cn_date(phase.start)}",
                start, end))
        if index + 1 < len(phases):
            following = phases[index + 1]
            if not phase.end or not following.start:
                continue
            nxt_begins = _bounds(following.start)
            if ends is None or nxt_begins is None:
                continue
            precision = min(ends[2], nxt_begins[2])
            a, b = _truncated(phase.end, precision), _truncated(following.start, precision)
            if a is not None and b is not None and b < a:
                other = f"“{following.name}”" if following.name else f"第{index + 2}个阶段"
                out.append(loc.finding(
                    "phase_order",
                    f"阶段{name}到{cn_date(phase.end)}结束,"
                    f"下一阶段{other}却从{cn_date(following.start)}开始,两个阶段时间重叠",
                    start, end))
    return out


_NAME_FOLD_RE = re.compile(r"[\s\u3000,，。.;；:：、“”\"'()（）《》]")


def _target_findings(loc: _Locator, draft: PlanDraft) -> list[Finding]:
    groups: dict[tuple, list] = {}
    for indicator in draft.indicators:
        name = _NAME_FOLD_RE.sub("", indicator.name or "")
        if len(name) < 3:
            continue
        key = (name, indicator.unit, indicator.deadline, indicator.comparator)
        groups.setdefault(key, []).append(indicator)
    out = []
    folded: dict[object, str] = {}  # one fold per sentence: the targets of one sentence share it

    def fold_text(indicator) -> str:
        key = indicator.span or indicator.text or ""
        got = folded.get(key)
        if got is None:
            got = folded[key] = _NAME_FOLD_RE.sub("", indicator.text or "")
        return got

    for (name, unit, deadline, _), items in groups.items():
        first = items[0]
        for other in items[1:]:
            same_text = fold_text(other) == fold_text(first)
            if same_text or _same_number(other.target, first.target):
                continue
            # a short name (配备率) says little: the words before it must name the same thing
            if len(name) < 6 and _dice(_subject(first), _subject(other)) < 0.5:
                continue
            start, end = other.span if other.span else loc.find(other.text)
            first_line = loc.line_of(first.span[0]) if first.span else None
            where = f"第{first_line}行" if first_line else "前文"
            when = f"({cn_date(deadline)})" if deadline else ""
            out.append(loc.finding(
                "target_conflict",
                f"指标“{first.name}”{when}前后两处数值不同:{where}为{_num(first.target)}{_unit(unit)},"
                f"此处为{_num(other.target)}{_unit(unit)}",
                start, end))
            break
    return out


_TIME_WORDS_RE = re.compile(r"[\d.%]+|年底|年内|年|月|日|之前|以前|前|到|至|底")


def _subject(indicator) -> str:
    """The words before an indicator's name in its sentence, without numbers and times."""
    text, name = indicator.text or "", indicator.name or ""
    at = text.find(name) if name else -1
    head = text[:at] if at > 0 else text
    return _TIME_WORDS_RE.sub("", head)[-30:]


def _dice(a: str, b: str) -> float:
    grams_a = {a[i:i + 2] for i in range(len(a) - 1)}
    grams_b = {b[i:i + 2] for i in range(len(b) - 1)}
    if not grams_a or not grams_b:
        return 1.0 if a == b else 0.0
    return 2 * len(grams_a & grams_b) / (len(grams_a) + len(grams_b))


def _same_number(a, b) -> bool:
    try:
        return abs(float(a) - float(b)) < 1e-9
    except (TypeError, ValueError):
        return a == b


def _unit(unit: str | None) -> str:
    return "" if not unit or unit in ("other", "ratio") else unit


MAX_LEAD_UNITS_CHECKED = 100  # each check scans the text once; plans name far fewer lead units
_NOT_A_UNIT_RE = re.compile(r"负责|牵头|开展|组织实施|任主要|要|应当|协调|[。;；,，]")


def _lone_lead_findings(loc: _Locator, draft: PlanDraft) -> list[Finding]:
    text = loc.doc.text
    aliases: dict[str, list[str]] = {}
    for names in draft.unit_index.values():
        for name in names:
            aliases[name] = list(names)
    also_named = {m.post for m in draft.leading_group if m.post}
    if draft.office:
        also_named.add(draft.office)
    out, seen = [], set()
    for task in draft.tasks:
        for unit in task.lead_units:
            if not unit or unit in seen or len(seen) >= MAX_LEAD_UNITS_CHECKED:
                continue
            if len(unit) > 25 or _NOT_A_UNIT_RE.search(unit):
                continue  # a sentence fragment, not a unit name: nothing to check
            seen.add(unit)
            forms = {unit, *aliases.get(unit, [])}
            mentions = sum(text.count(form) for form in forms if form)
            if mentions > 1 or any(unit in named for named in also_named):
                continue
            start, end = _task_location(loc, task, unit)
            out.append(loc.finding(
                "lone_lead_unit",
                f"任务“{_task_label(task)}”的牵头单位“{unit}”在方案其他地方没有出现,"
                f"请核对单位名称(是否为简称、别称或笔误)",
                start, end))
    return out


# numbering styles read at the start of a line, with a function giving the number
_CN = "零一二三四五六七八九"


def _cn_value(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if not s or any(ch not in "零一二三四五六七八九十百" for ch in s):
        return None
    total, current = 0, 0
    for ch in s:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN.index(ch)
    return total + current


_STYLES = [
    ("第cn", re.compile(r"^第([一二三四五六七八九十百]{1,4})(章|部分|节)"), "第{}{}"),
    ("cn、", re.compile(r"^([一二三四五六七八九十百]{1,4})[、.．](?![一二三四五六七八九十\d])"), "{}、"),
    ("(cn)", re.compile(r"^[(（]([一二三四五六七八九十百]{1,4})[)）]"), "({})"),
    ("num.", re.compile(r"^(\d{1,3})[.．](?![\d.．])"), "{}."),
    ("num、", re.compile(r"^(\d{1,3})、"), "{}、"),
    ("(num)", re.compile(r"^[(（](\d{1,3})[)）]"), "({})"),
    ("circled", re.compile(r"^([①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳])"), "{}"),
]
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_MARKER_FIRST = set("第一二三四五六七八九十百(（0123456789" + _CIRCLED)
_STYLES_BY_FIRST: dict[str, list] = {}
for _first in _MARKER_FIRST:
    _STYLES_BY_FIRST[_first] = [
        entry for entry in _STYLES
        if (entry[0] == "第cn" and _first == "第") or (entry[0] == "cn、" and _first in "一二三四五六七八九十百")
        or (entry[0] in ("(cn)", "(num)") and _first in "(（")
        or (entry[0] in ("num.", "num、") and _first.isdigit())
        or (entry[0] == "circled" and _first in _CIRCLED)]


def _marker_text(style: str, fmt: str, value: int, sample: re.Match) -> str:
    if style in ("cn、", "(cn)", "第cn"):
        shown = _cn_numeral(value)
    elif style == "circled":
        shown = _CIRCLED[value - 1] if 0 < value <= 20 else str(value)
    else:
        shown = str(value)
    if style == "第cn":
        return fmt.format(shown, sample.group(2))
    return fmt.format(shown)


def _cn_numeral(n: int) -> str:
    if n < 10:
        return _CN[n]
    if n < 20:
        return "十" + (_CN[n % 10] if n % 10 else "")
    if n < 100:
        return _CN[n // 10] + "十" + (_CN[n % 10] if n % 10 else "")
    return str(n)


def _numbering_findings(loc: _Locator) -> list[Finding]:
    order: list[str] = []  # styles in order of first use: their nesting level
    last: dict[str, int] = {}  # last number of a style in the current parent
    ever: dict[str, int] = {}  # last number of a style anywhere (lists continued across parents)
    out = []
    for line in loc.doc.lines:
        if len(out) >= MAX_PER_KIND:
            break
        text = line.text.lstrip(" \t\u3000")
        if len(text) < 2 or text[0] not in _MARKER_FIRST or "\t" in text[:8]:
            continue
        for style, regex, fmt in _STYLES_BY_FIRST.get(text[0], ()):
            match = regex.match(text)
            if not match:
                continue
            raw = match.group(1)
            value = (_CIRCLED.index(raw) + 1) if style == "circled" else _cn_value(raw)
            if value is None or value <= 0:
                break
            if style not in order:
                order.append(style)
            level = order.index(style)
            for deeper in order[level + 1:]:
                last.pop(deeper, None)
            expected = last.get(style, 0) + 1
            continued = ever.get(style, 0) + 1
            first_marker = not ever  # a text that starts at 三、 is an excerpt, not a gap
            if value > expected and value != continued and value != 1 and not first_marker:
                shown_range = range(expected, min(value, expected + 5))
                missing = [_marker_text(style, fmt, k, match) for k in shown_range]
                if value - expected > 5:
                    missing.append("…")
                offset = line.start + (len(line.text) - len(text))
                shown = _marker_text(style, fmt, value, match)
                if expected > 1:
                    what = f"在{_marker_text(style, fmt, expected - 1, match)}之后直接出现{shown}"
                else:
                    what = f"这一组编号从{shown}开始"
                out.append(loc.finding(
                    "numbering_gap",
                    f"编号不连续:{what},缺少{'、'.join(missing)}(可能漏掉了内容或编号有误)",
                    offset, offset + match.end()))
            last[style] = value
            ever[style] = value
            break
    return out


# ----------------------------------------------------------------- entry point


def find_inconsistencies(doc: Document, roots: list[OutlineNode], draft: PlanDraft
                         ) -> list[Finding]:
    """All findings of the plan, in text order. Also fills draft.allocations when it is empty."""
    loc = _Locator(doc)
    tables = extract_allocations(doc)
    if not draft.allocations:
        draft.allocations = [t.to_dict() for t in tables]
    findings: list[Finding] = []
    for chunk in _all(loc, draft, tables):
        findings.extend(chunk[:MAX_PER_KIND])
    findings.sort(key=lambda f: (f.start if f.start is not None else -1, f.kind))
    return findings


def _all(loc: _Locator, draft: PlanDraft, tables: list[Table]) -> Iterable[list[Finding]]:
    yield _allocation_findings(loc, tables)
    yield _deadline_findings(loc, draft)
    yield _phase_findings(loc, draft)
    yield _target_findings(loc, draft)
    yield _lone_lead_findings(loc, draft)
    yield _numbering_findings(loc)
