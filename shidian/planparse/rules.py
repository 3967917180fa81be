"""Rules: norms of the plan that fix a number (NOTES.md, Indicators and rules).

Subsidy amounts (户均补助不低于1.8万元, 修缮房10000元/户), areas (人均13平方米以上), notice periods
(公示期不少于3天), ratios (师生比不少于1:4000, 按照10%的比例, 一个师傅不宜超过三个学生), eligibility
thresholds (二级甲等以上, 在30人以上, 成立至少两年), training hours (4个学时) and other fixed
numbers (一式2份, 7×24小时, 1+n+n, 一村一法律顾问). Each rule keeps its sentence verbatim; one sentence
that fixes several values gives several rules.
"""
from __future__ import annotations

import bisect
import re

from .indicators import CONDITION_HEADINGS, SHARE_WORDS, Sentence, quantities, sentences
from .model import Document, OutlineNode, PlanDraft, Rule
from .timeexpr import fold

# --------------------------------------------------------------------------- vocabularies (data)

SUBSIDY_WORDS = re.compile(r"补助|补贴|奖补|奖励|资助|救助|标准|发放|安排资金|以奖代补")
PAST_SPENDING = re.compile(r"支出|已投入|已到位|累计投入|完成投资")
NOTICE_WORDS = re.compile(r"公示|公告|公开")
CONDITION_WORDS = re.compile(r"条件|符合|具备|具有|年满|以上的|资格|须为|应为|原则上为|拥有|成立")
# fixed patterns: (regex, kind)
PATTERN_RULES: tuple[tuple[str, str], ...] = (
    (r"(?<![\d.])\d+\s*[:：比]\s*\d+(?![\d.])", "ratio"),
    (r"按照?\s*\d+(?:\.\d+)?\s*%\s*的?比例", "ratio"),
    (r"[一二三]级[甲乙丙]等(?:及)?以上", "eligibility"),
    (r"(?<=[(（])[a-dA-D]级(?=[)）])", "eligibility"),
    (r"一式\s*[\d一二两三四五六七八九十]+\s*份", "other"),
    (r"\d+\s*[×x*]\s*\d+\s*小时", "other"),
    (r"(?<![\d\w])\d\s*\+\s*[nNxX\d](?:\s*\+\s*[nNxX\d])*(?![\w])", "other"),
    (r"一[村户校镇乡社区人](?:[(（][^)）]{1,6}[)）])?一(?:法律顾问|顾问|律师|医生|联络员|干部|专干|网格员|辅警)", "ratio"),
    (r"一[村户校镇乡社区人](?:[(（][^)）]{1,6}[)）])?一(?:(?!的)[\u4e00-\u9fff]){1,3}", "other"),
    (r"(?<![\d.])\d+\s*[-—~至]\s*\d+\s*[家个所名人]", "other"),
    (r"为期\s*[\d一二两三四五六七八九十半]+\s*(?:年|个月)", "other"),
    (r"[\d一二两三四五六七八九十]+\s*名联络员", "other"),
)
# one scan for all patterns: group r<i> is PATTERN_RULES[i]
_PATTERN_ANY = re.compile("|".join(f"(?P<r{i}>{p})" for i, (p, _) in enumerate(PATTERN_RULES)))
_PATTERN_HINT = re.compile(r"[:：比%级式×x*+\-—~至期联]|一[村户校镇乡社区人]")
_CONDITION_WORD = re.compile("条件")
_NORM_LIMIT = re.compile(r"(?:不宜|不得|不应|不能|最多)(?:超过|多于|高于)")


# patterns used below, compiled once
_MONTHS_RULE = re.compile(r"学习|实践|不超过|期限|为期|试用|培训")
_YEARS_RULE = re.compile(r"成立|工作经验|从事|年限")
_PERCENT = re.compile(r"\d+(?:\.\d+)?\s*%")
_PER_UNIT = re.compile(r"\s*/\s*[户人间套]")
_THRESHOLD_BEFORE = re.compile(r"在$|达到$|至少$|超过$")
_SIZE_BEFORE = re.compile(r"规模.{0,4}$")
_ANY_NUMERAL = re.compile(r"[\d一二两三四五六七八九十]")


class _Flags:
    """Sentence-wide tests, each run at most once per sentence."""

    def __init__(self, work: str):
        self.work = work
        self._seen: dict[str, bool] = {}

    def has(self, name: str, rx: re.Pattern) -> bool:
        if name not in self._seen:
            self._seen[name] = bool(rx.search(self.work))
        return self._seen[name]


def _kind_of_quantity(unit: str, flags: _Flags) -> str | None:
    if unit.startswith("个") and unit not in ("个月", "个工作日"):
        unit = unit[1:]
    if unit in ("万元", "亿元", "元"):
        if flags.has("past", PAST_SPENDING) or not flags.has("subsidy", SUBSIDY_WORDS):
            return None
        return "subsidy"
    if unit in ("平方米", "㎡", "亩", "公顷"):
        return "area"
    if unit in ("天", "日", "个工作日", "工作日"):
        return "notice_period" if flags.has("notice", NOTICE_WORDS) else None
    if unit in ("学时", "课时", "小时", "周岁", "岁", "分钟"):
        return "other"
    if unit == "个月":
        return "other" if flags.has("months", _MONTHS_RULE) else None
    if unit == "年":
        return "eligibility" if flags.has("years", _YEARS_RULE) else None
    return None


def rules_in(s: Sentence) -> list[Rule]:
    text = s.text
    work = s.work or fold(text)
    clean = s.clean
    out: list[Rule] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, a: int, b: int, value: str | None = None) -> None:
        i = bisect.bisect_left(taken, (a, b))
        if (i > 0 and taken[i - 1][1] > a) or (i < len(taken) and taken[i][0] < b):
            return  # overlaps a value already taken
        taken.insert(i, (a, b))
        out.append(Rule(kind=kind, text=clean, value=(value or text[a:b]).strip(), span=(s.start, s.end)))

    if _PATTERN_HINT.search(work):
        for m in _PATTERN_ANY.finditer(work):
            kind = PATTERN_RULES[int(m.lastgroup[1:])][1]
            value = text[m.start():m.end()]
            if kind == "ratio" and "%" in m.group(0):
                value = _PERCENT.search(m.group(0)).group(0)
            add(kind, m.start(), m.end(), value)
    condition = any(CONDITION_HEADINGS.search((h or "")[:16]) for h in s.headings[:2])
    flags = _Flags(work)
    for q in quantities(text, work):
        if q.kind == "rule":
            kind = _kind_of_quantity(q.unit_word, flags)
            if kind:
                end = q.end
                tail = _PER_UNIT.match(work, end)
                if tail:
                    end = tail.end()
                add(kind, q.start, end)
        elif q.kind == "percent":
            if SHARE_WORDS.search(work, max(0, q.start - 14), q.start):
                add("ratio", q.start, q.end)  # 财政补助比例为30%, 报销比例不低于70%
        elif q.kind == "count":
            before = work[max(0, q.start - 8):q.start]
            after = work[q.end:q.end + 4]
            if _NORM_LIMIT.search(before):
                add("ratio", q.start, q.end, str(q.value))
            elif (condition or flags.has("condition", CONDITION_WORDS)) and (
                    _THRESHOLD_BEFORE.search(before) and after.startswith(("以上", "以下"))
                    or _SIZE_BEFORE.search(before) and after.startswith(("以上", "以下"))):
                add("eligibility" if condition or flags.has("条件", _CONDITION_WORD) else "other",
                    q.start, q.end, str(q.value))
    return out


def extract_rules(doc: Document, roots: list[OutlineNode], draft: PlanDraft,
                  sents: list[Sentence] | None = None) -> None:
    sents = sents if sents is not None else sentences(doc, roots)
    out: list[Rule] = []
    for s in sents:
        if s.part_kind in ("guiding",):
            continue
        if not _ANY_NUMERAL.search(s.text):
            continue
        out.extend(rules_in(s))
    draft.rules = out
