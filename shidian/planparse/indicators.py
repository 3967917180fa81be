"""Goals and quantified targets (indicators) of a plan.

An indicator is a number with what it counts, that the plan sets as a target (NOTES.md 2):
达到80%以上 → ">=" 80 %; 不超过… → "<="; a quota of pilot units or an allocated task (国有和国有控股
企业30家, 中央下达改造任务3.13万户) → "=". Money, areas, durations, hours and ratios are norms: they
go to rules (see ``rules.py``, which shares the number scanner below). Counts of listed items
(六大工程, 5个专项治理活动) and one-off choices (选择一个区) are neither.

An indicator's deadline is the date of its own sentence (the clause's date when the sentence
stages several targets), else the date of the sentence that introduces its list, else null.
"""
from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field, replace

from .model import Document, Indicator, OutlineNode, PlanDraft
from .timeexpr import CN_NUMERAL_CHARS, TimeExpr, cn_number, date_key, doc_times, fold

# --------------------------------------------------------------------------- vocabularies (data)

# part kinds by heading words, for text without an outline
PART_KIND_WORDS: tuple[tuple[str, str], ...] = (
    ("guiding", r"指导思想|总体思路"),
    ("principles", r"基本原则|工作原则|原则$"),
    ("goals", r"目标|总体要求"),
    ("steps", r"步骤|工作安排|进度安排|时间安排|实施阶段|阶段安排"),
    ("safeguards", r"保障|组织领导|工作要求|组织实施"),
)
QUOTA_HEADINGS = re.compile(r"分布|选取|选点|名额|试点数量|数量分配|任务分配|任务分解|指标分配|试点范围")
CONDITION_HEADINGS = re.compile(r"条件|资格|申报要求|准入")
# allocated tasks (=): 中央下达改造任务3.13万户, 2016年全省计划完成5万户
ALLOCATION_WORDS = re.compile(r"下达|分解|分配|统筹安排|计划完成|计划改造|改造任务|任务数")
# measure words counted as targets, and the unit they get in the schema
# (only 个 is 个: other measure words are 'other', as 家 is in the seed notes)
COUNT_UNITS: dict[str, str] = {
    "个百分点": "other", "百分点": "other", "个": "个", "家": "other", "户": "户", "人次": "other",
    "人": "人", "名": "人", "次": "other", "所": "other", "支": "other", "座": "other",
    "条": "other", "场": "other", "期": "other", "批次": "other", "批": "other", "篇": "other",
    "件": "other", "台": "other", "张": "other", "间": "other", "处": "other", "套": "other",
    "块": "other", "场次": "other",
    "位": "人", "项": "other", "门": "other", "艘": "other", "辆": "other", "吨": "other",
    "公里": "other", "千米": "other",
}
# number + unit spans that are norms, not targets (rules.py reads them)
RULE_UNITS: dict[str, str] = {
    "万元": "subsidy", "亿元": "subsidy", "元": "subsidy", "平方米": "area", "㎡": "area",
    "亩": "area", "公顷": "area", "学时": "other", "课时": "other", "小时": "other",
    "个学时": "other", "个课时": "other", "个小时": "other",
    "个工作日": "notice_period", "工作日": "notice_period", "天": "notice_period",
    "日": "notice_period", "个月": "other", "周岁": "eligibility", "岁": "eligibility",
    "年": "other", "分钟": "other",
}
# a money, time or area figure is a target (not a norm) when it measures an outcome
# (人均可支配收入达到2万元, 平均住院日控制在8天以内) and no norm word is near
OUTCOME_WORDS = re.compile(r"收入|产值|投资|总额|总量|增加值|营业额|营收|产量|寿命|住院日|等待时间|时长|天数|周期|耗时|"
                           r"办结时间|办理时限|用时|经费投入|资金投入|[办开][^,,。;;]{0,4}时间")
# money put into a programme (资金投入不低于3000万元, 每年安排专项资金不少于50万元) is a target;
# a sum per household or person is a subsidy rule
FUND_WORDS = re.compile(r"资金|经费|投入|投资")
PER_UNIT = re.compile(r"每(?:户|人|个|所|家|村|名|位|平方米|亩|床|生)|户均|人均|/户|/人")
# land areas (亩, 公顷) that are made or reached are targets; floor areas per home are norms
LAND_UNITS = ("亩", "公顷")
LAND_MADE = re.compile(r"建设|新建|新增|建成|改造|种植|造林|治理|整治|修复|复垦|流转")
LAND_NORMS = re.compile(r"补助|补贴|奖补|每户|户均|每人|人均|[的为]标准|标准[为是]|不得|不宜|原则上")
NORM_WORDS = re.compile(r"补助|补贴|奖补|奖励|标准|公示|不得|不宜|年满|原则上|户均|每户|每人|面积")
# a percentage that fixes a share of costs is a ratio rule, not a target
SHARE_WORDS = re.compile(r"(?:补助|补贴|报销|自付|分担|配套|承担|奖励|缴费|缴纳|支付)[^,,。;;]{0,8}$")
RULE_TARGET_UNITS = {"万元": "万元", "亿元": "万元", "天": "天", "日": "天", "个工作日": "天", "工作日": "天",
                     "平方米": "平方米", "学时": "学时", "个学时": "学时"}
GE_BEFORE = ("不少于", "不低于", "至少", "达到", "达", "力争达到", "力争达", "力争", "确保", "提高到",
             "提升到", "提高至", "提升至", "增加到", "增长到", "超过", "高于", "实现", "保持在")
LE_BEFORE = ("不超过", "不高于", "控制在", "低于", "少于", "不多于", "压缩到", "压缩至", "缩短到",
             "缩短至", "降低到", "降低至", "降至", "下降到", "下降至", "减少到", "减少至")
GE_AFTER = ("及以上", "以上")
LE_AFTER = ("及以下", "以下", "以内", "之内")
NORM_BEFORE = ("不宜", "不得", "不应", "不能", "原则上")  # 不宜超过三个学生: a norm, not a target
GROWTH_VERBS = re.compile(r"(?:培养|培训|培育|新增|发展|招募|建成|建设|打造|创建|组建|扶持|认定|改造|完成)$")
_MADE = re.compile(r"培养|培训|培育|新增|新建|建成|打造|创建|组建|扶持|认定|招募|发展|改建|扩建|修建")
SELECTION = re.compile(r"遴选|推荐|优选|择优|选取|选定|选拔")
MEETING_WORDS = re.compile(r"会议|例会|会商|调度会|汇报|报告|通报|座谈")

_NUM = r"(?:\d+(?:\.\d+)?(?:[万亿](?!元))?|[零〇一二两三四五六七八九十百千万]{1,6})"
_UNIT_ALT = "|".join(sorted((re.escape(u) for u in set(COUNT_UNITS) | set(RULE_UNITS)), key=len, reverse=True))
_QUANTITY = re.compile(
    r"(?P<pct>(?P<pnum>\d+(?:\.\d+)?)\s*%(?:\s*[-—~至到]\s*\d+(?:\.\d+)?\s*%)?)"
    r"|百分之(?P<pcn>[零〇一二两三四五六七八九十百点]{1,6})"
    r"|(?P<ratio>(?<![\d.])\d+\s*[:：]\s*\d+(?![\d.:]))"
    r"|(?P<num>" + _NUM + r")\s?(?P<unit>" + _UNIT_ALT + r")"
)
_LIST_SPLIT = re.compile(r"、|和|与|及|以及")
_MEASURE_NOUN = re.compile(r"(?:率|比例|占比|比重|人次|覆盖面|人数|数量|数)$")
_SENT = re.compile(r"[^。!?！？\n]+[。!?！？]?")
_ITEM_MARK = re.compile(
    r"^\s*(?:第[一二三四五六七八九十]+[条章节][、.．:：\s]*|[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]"
    r"|\d+[.．、](?!\d)|[①-⑳]|——|[-•·●○■□◆])\s*")
_TITLE_STOP = re.compile(r"[。:：]")
_HAS_CLAUSE_PUNCT = re.compile(r"[。,,;;]")
# a Chinese-numeral count only matters beside a comparator (不少于两次) or a norm (不宜超过三个)
_HAS_NUM = re.compile(r"[\d%]|百分之|不少于|不低于|至少|以上|以下|以内|超过|达到|不多于|不高于")
_YEAR_NUM = re.compile(r"\d{1,2}$")
_CLAUSE_PUNCT = re.compile(r"[,,;;。]")
_NAME_LEAD = re.compile(r"^(?:其中[:：]?|到\d{4}年底?|\d{4}年底?(?:之前|以前|前)?|使|实现|要|并)")
_NAME_TAIL = re.compile(r"^(?:以上|以下|以内|及以上)")
_CONDITION_LEAD = re.compile(r"(?<![有创])条件(?!的)|具备|符合.{0,6}要求")  # not 有条件的(地方)
_BY_RATIO = re.compile(r"按照?[^,,。]{0,4}$")
_AT_END = re.compile(r"在$")
_HOLD_AT = ("控制在", "保持在", "稳定在", "维持在")  # a comparator, not 在30人以上
_ABOVE_NOUN = re.compile(r"(?:以上|以下)(?:的)?[\u4e00-\u9fff]")
_EACH_ALL = re.compile(r"均|分别|都")
_RESTART = re.compile(r"^\s*(?:[(（](?:一|1)[)）]|一[、.．]|1[.．、](?!\d))")
_GOAL_WORDS = re.compile(r"(?:到|至)\s*20\d\d年|总目标[是为:：,,]|目标是|目标为|力争用|用[\d一二三四五六七八九十]+年")
_DIGIT = re.compile(r"\d")
_PART_KIND_RES = tuple((kind, re.compile(words)) for kind, words in PART_KIND_WORDS)
_HEADING_LINE = re.compile(
    r"^\s*(?:(?P<cn>[一二三四五六七八九十]+)[、.．]|[(（](?P<pcn>[一二三四五六七八九十]+)[)）]|(?P<num>\d+)[.．](?!\d)"
    r"|(?P<numd>\d+)、|[(（](?P<pnum>\d+)[)）]|(?P<circ>[①-⑳]))")


# --------------------------------------------------------------------------- sentences in context

@dataclass
class Sentence:
    text: str  # verbatim
    start: int
    end: int
    part_kind: str = ""  # guiding|principles|goals|tasks|steps|safeguards|other|'' (unknown)
    headings: list[str] = field(default_factory=list)  # enclosing headings, innermost first
    node: OutlineNode | None = None
    line_index: int = 0
    work: str = ""  # ``text`` folded (full-width digits and punctuation to ASCII), same length
    all_times: list[TimeExpr] | None = field(default=None, repr=False)

    @property
    def times(self) -> list[TimeExpr]:
        """The sentence's time expressions (offsets in the sentence)."""
        return self.all_times or []

    @functools.cached_property
    def clean(self) -> str:
        """Without item number and trailing 。 (NOTES.md 5); computed once (each target of a long
        sentence quotes it)."""
        text = _ITEM_MARK.sub("", self.text, count=1).strip()
        return text.rstrip("。.;；!！?？ ").strip()


def _kind_of_title(title: str) -> str:
    for kind, rx in _PART_KIND_RES:
        if rx.search(title[:20]):
            return kind
    return ""


class _NodeIndex:
    """Innermost outline node containing an offset (nodes' own spans)."""

    def __init__(self, roots: list[OutlineNode]):
        nodes = [n for r in roots for n in r.walk() if n.end > n.start]
        nodes.sort(key=lambda n: (n.start, -n.end))
        self.nodes = nodes
        self.starts = [n.start for n in nodes]

    def at(self, pos: int) -> OutlineNode | None:
        i = bisect.bisect_right(self.starts, pos) - 1
        best = None
        # own spans do not nest much; look back a few nodes for one that contains pos
        for k in range(i, max(-1, i - 8), -1):
            n = self.nodes[k]
            if n.start <= pos < max(n.end, n.start + 1):
                best = n
                break
        if best is None and i >= 0:
            best = self.nodes[i]  # text after a node's own span but before the next node
        return best


def _chain(node: OutlineNode | None) -> tuple[list[str], str]:
    titles, kind = [], ""
    while node is not None:
        titles.append(node.title or "")
        if node.part_kind and not kind:
            kind = node.part_kind
        node = node.parent
    return titles, kind


def _line_outline(doc: Document) -> list[tuple[list[str], str]]:
    """Heading chain and part kind per line, read from numbered lines (no outline available)."""
    out = []
    stack: list[tuple[str, str]] = []  # (style, title)
    top_kind = ""
    for line in doc.lines:
        m = _HEADING_LINE.match(line.text) if len(line.text) < 400 else None
        if m:
            style = next(k for k in ("cn", "pcn", "num", "numd", "pnum", "circ") if m.group(k))
            title = _TITLE_STOP.split(line.text[m.end():], maxsplit=1)[0].strip()[:40]
            styles = [s for s, _ in stack]
            if style in styles:
                stack = stack[:styles.index(style)]
            stack.append((style, title))
            if len(stack) == 1:
                top_kind = _kind_of_title(title) or ("tasks" if style == "cn" else top_kind)
            elif not top_kind:
                top_kind = _kind_of_title(title)
        elif line.text.strip() and len(line.text) < 30 and not _HAS_CLAUSE_PUNCT.search(line.text):
            kind = _kind_of_title(line.text.strip())
            if kind:  # an unnumbered part heading: 工作目标
                stack, top_kind = [("plain", line.text.strip())], kind
        out.append(([t for _, t in reversed(stack)], top_kind))
    return out


_SENTENCES_CACHE: list = [None, None, None]  # doc, roots, sentences of the last parse


def sentences(doc: Document, roots: list[OutlineNode]) -> list[Sentence]:
    """The document's sentences (split at 。!? and line ends) with their outline context.

    Computed once per parse (the goal, indicator, duty and rule steps share them)."""
    if _SENTENCES_CACHE[0] is doc and _SENTENCES_CACHE[1] is roots:
        return _SENTENCES_CACHE[2]
    result = _sentences(doc, roots)
    _SENTENCES_CACHE[:] = [doc, roots, result]
    return result


def _sentences(doc: Document, roots: list[OutlineNode]) -> list[Sentence]:
    index = _NodeIndex(roots) if roots else None
    by_line = None if index and index.nodes else _line_outline(doc)
    folded = fold(doc.text)
    times = doc_times(doc.text)
    chains: dict[int, tuple[list[str], str]] = {}
    out: list[Sentence] = []
    for line in doc.lines:
        if not line.text.strip():
            continue
        ctx_titles, ctx_kind, node = [], "", None
        if by_line is not None:
            ctx_titles, ctx_kind = by_line[line.index]
        for m in _SENT.finditer(line.text):
            raw = m.group(0)
            if not raw.strip():
                continue
            start, end = line.start + m.start(), line.start + m.end()
            if index is not None and index.nodes:
                node = index.at(start)
                key = id(node)
                if key not in chains:
                    chains[key] = _chain(node)
                ctx_titles, ctx_kind = chains[key]
            out.append(Sentence(text=raw, start=start, end=end, part_kind=ctx_kind,
                                headings=ctx_titles, node=node, line_index=line.index,
                                work=folded[start:end], all_times=times.within(start, end)))
    return out


# --------------------------------------------------------------------------- quantities

@dataclass
class Quantity:
    value: float | int
    unit_word: str  # as written: %, 个, 万户, 平方米, ratio
    kind: str  # percent|count|points|ratio|rule
    start: int  # offsets in the sentence
    end: int
    text: str


def _value(num: str) -> float | int | None:
    num = num.strip()
    if num and num[0] in CN_NUMERAL_CHARS and len(num) > 1 and num[-1] in "万亿" and num[:-1].isdigit():
        return cn_number(num)
    return cn_number(num)


def quantities(sentence: str, work: str | None = None) -> list[Quantity]:
    """Numbers with their units in a sentence (percentages, counts, money, areas, ratios...)."""
    if not _HAS_NUM.search(sentence):
        return []
    work = work if work is not None else fold(sentence)
    out = []
    for m in _QUANTITY.finditer(work):
        if m.group("pct"):
            out.append(Quantity(_num_or(m.group("pnum")), "%", "percent", m.start(), m.end(), m.group(0)))
        elif m.group("pcn"):
            v = cn_number(m.group("pcn"))
            if v is not None:
                out.append(Quantity(v, "%", "percent", m.start(), m.end(), m.group(0)))
        elif m.group("ratio"):
            out.append(Quantity(0, "ratio", "ratio", m.start(), m.end(), m.group(0)))
        else:
            num, unit = m.group("num"), m.group("unit")
            if work[m.start() - 1:m.start()] in (".", "第") or (m.start() > 0 and work[m.start() - 1].isdigit()):
                continue
            if num[0] in CN_NUMERAL_CHARS:
                # 一是, 一村一法律顾问, 一户一档: a Chinese numeral is a count only before a measure word
                if unit in ("年", "日") or num in ("一", "万"):
                    if unit in ("年", "日"):
                        continue
            value = _value(num)
            if value is None:
                continue
            if unit in COUNT_UNITS:
                kind = "points" if "百分点" in unit else "count"
            else:
                kind = "rule"
            if unit == "年" and not _YEAR_NUM.match(num):
                continue  # 2021年 is a date
            out.append(Quantity(value, unit, kind, m.start(), m.end(), sentence[m.start():m.end()]))
    return out


def _num_or(text: str) -> float | int:
    v = cn_number(text)
    return v if v is not None else 0


# --------------------------------------------------------------------------- indicators

_CLAUSE_BREAK = re.compile(r"[,,;;。:：!?！？]")
_CLAUSE_REACH = 160  # a clause longer than this is run-on text: look no further


def _clause_bounds(text: str, pos: int) -> tuple[int, int]:
    """The comma-delimited clause around ``pos`` (brackets do not break it)."""
    depth, start = 0, max(0, pos - _CLAUSE_REACH)
    for i in range(pos - 1, start - 1, -1):
        ch = text[i]
        if ch in ")）":
            depth += 1
        elif ch in "(（":
            if depth == 0:
                continue
            depth -= 1
        elif depth == 0 and _CLAUSE_BREAK.match(ch):
            start = i + 1
            break
    depth, end = 0, min(len(text), pos + _CLAUSE_REACH)
    for i in range(pos, end):
        ch = text[i]
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth = max(0, depth - 1)
        elif depth == 0 and _CLAUSE_BREAK.match(ch):
            end = i
            break
    return start, end


def _comparator(work: str, q: Quantity, clause_start: int) -> tuple[str | None, bool]:
    """(comparator, is_norm) read from the words around the number."""
    after = work[q.end:q.end + 3]
    before = work[clause_start:q.start]
    near = before[-14:]
    symbol = near.rstrip()[-2:]
    for sym, comp in (("≥", ">="), (">=", ">="), ("≤", "<="), ("<=", "<="), ("＞", ">"), (">", ">"),
                      ("＜", "<"), ("<", "<")):
        if symbol.endswith(sym):
            return comp, False
    for word in NORM_BEFORE:
        if word in near and ("超过" in near or "低于" in near or "少于" in near or "高于" in near):
            return None, True
        k = before.rfind(word)  # 原则上不超过DRG出院总病例数的5%: the norm word opens the cap
        if k >= 0 and re.match(r"(?:不超过|不得超过|不高于|不低于|不少于)", before[k + len(word):]):
            return None, True
    for word in LE_AFTER:
        if after.startswith(word):
            return "<=", False
    for word in GE_AFTER:
        if after.startswith(word):
            return ">=", False
    best = None
    for words, comp in ((LE_BEFORE, "<="), (GE_BEFORE, ">=")):
        for word in words:
            k = near.rfind(word)
            if k < 0:
                continue
            gap = near[k + len(word):]
            if "每" in gap or _CLAUSE_PUNCT.search(gap):
                continue
            if word == "达" and k > 0 and near[k - 1] in "下传送抵表通发直转":
                continue  # 下达 is not 达到
            end = k + len(word)
            if best is None or end > best[0] or (end == best[0] and len(word) > len(best[2])):
                best = (end, comp, word)
    if best:
        # 提升不少于5个百分点 vs 不少于: longest word wins at the same end
        return best[1], False
    return None, False


def _after_is_noun(work: str, q: Quantity) -> bool:
    """N个X: a measure word followed straight by a noun (5个专项治理活动, 1个县级医院)."""
    nxt = work[q.end:q.end + 1]
    return bool(nxt) and "\u4e00" <= nxt <= "\u9fff" and nxt not in "的以及左"


_NAME_MODAL_END = re.compile(r"(?:要|应当|应|将|均|都|需|须|有|为|共|合计)+$")
_NAME_MODAL_START = re.compile(r"^(?:应当|要|应|需|须|并|且)+")
_COMPARATOR_WORDS = sorted(GE_BEFORE + LE_BEFORE + ("均", "分别", "都"), key=len, reverse=True)


def _name_for(work: str, sentence: str, q: Quantity, clause: tuple[int, int],
              lead: str = "") -> str:
    """What the number measures: the words before it (a rate, 知晓率达到50%) or, for a count,
    those words with what is counted (每年对教师不少于两次心理评估 → 每年对教师心理评估).

    ``lead``: the words that open a list of counts (东部地区15个县、15个乡(镇) → 东部地区县)."""
    cs, ce = clause
    before = _ITEM_MARK.sub("", _NAME_LEAD.sub("", sentence[cs:q.start].strip()), count=1)
    after = sentence[q.end:ce]
    cut = len(before)
    for word in _COMPARATOR_WORDS:
        k = before.find(word)
        if 0 <= k < cut:
            cut = k
    name = _NAME_MODAL_START.sub("", _NAME_MODAL_END.sub("", before[:cut].strip(" 的,，、")))
    tail = _NAME_TAIL.sub("", after)
    tail = _NEXT_NUMBER.split(tail, maxsplit=1)[0].strip(" 的,，、")
    noun_after = bool(tail) and "\u4e00" <= tail[0] <= "\u9fff"
    if q.kind in ("count", "points") and tail and noun_after:
        if _after_is_noun(work, q) and lead:
            return (lead + tail)[:60]  # N个X in a list
        name = name + tail if len(name) + len(tail) <= 60 else (name or tail)
    elif q.kind == "percent" and noun_after and (len(name) < 3 or _PERCENT_OF.search(after[:3])):
        name = tail if len(name) < 3 else _NAME_OBJECT_END.sub("", name) + tail
    elif not name and tail:
        name = tail
    if not name and _TOTAL_WORDS.search(before):
        name = "合计"
    return name[:60]


_NEXT_NUMBER = re.compile(r"、?\s*[\d零〇一二两三四五六七八九十]+\s*[个家户人名所次项%]")
_PERCENT_OF = re.compile(r"^(?:以上|以下)?的?[\u4e00-\u9fff]")
_NAME_OBJECT_END = re.compile(r"(?:要对|对|为|使|让|要|有)$")
_TOTAL_WORDS = re.compile(r"共|合计|总计")


def _list_leads(work: str, candidates) -> dict[tuple[int, int], str]:
    """Per clause that lists several counts (东部地区15个县、15个乡), the words before the first."""
    firsts: dict[tuple[int, int], list[int]] = {}
    for q, _, clause in candidates:
        entry = firsts.setdefault(clause, [q.start, 0])
        entry[0] = min(entry[0], q.start)
        entry[1] += 1
    leads = {}
    for clause, (first, count) in firsts.items():
        if count < 2:
            continue
        lead = work[clause[0]:first].strip(" ,,:：、")
        if lead and not _HAS_NUM.search(lead) and len(lead) <= 12:
            leads[clause] = lead
    return leads


def _split_names(name: str) -> list[str]:
    """在册患者规范管理率、在册患者治疗率、精神分裂症治疗率均… → three names."""
    parts = [p.strip() for p in _LIST_SPLIT.split(name) if p.strip()]
    if len(parts) >= 2 and sum(1 for p in parts if _MEASURE_NOUN.search(p)) >= len(parts) - 1 \
            and _MEASURE_NOUN.search(parts[0]):
        return parts
    return [name]


def _dated(exprs: list[TimeExpr]) -> list[TimeExpr]:
    return [e for e in exprs if e.until and e.year_given and e.role not in ("start", "cycle")]


def _deadline_for(exprs, q: Quantity, n_targets: int, ends: list[int]) -> str | None:
    if not exprs:
        return None
    if n_targets >= 2 and len(exprs) >= 2:
        i = bisect.bisect_right(ends, q.start)
        return exprs[i - 1].until if i else None
    limits = [e for e in exprs if e.role in ("limit", "span")] or exprs
    return max(limits, key=lambda e: date_key(e.until)).until


_HEADING_WORDS = 16  # a heading's own words; a longer title is heading and text run together


def _is_quota_context(s: Sentence) -> bool:
    return any(QUOTA_HEADINGS.search((h or "")[:_HEADING_WORDS]) for h in s.headings[:3])


def _is_condition_context(s: Sentence) -> bool:
    return any(CONDITION_HEADINGS.search((h or "")[:_HEADING_WORDS]) for h in s.headings[:2]) or \
        bool(_CONDITION_LEAD.search(s.text[:12]))


_ENUM_ITEM = re.compile(r"(?:^|[;；。:：])\s*(?:[一二三四五六七八九十]是|[①-⑳]|[(（]\d{1,2}[)）]|第[一二三四五六七八九十][,，、])")


def _enum_items(work: str) -> list[int] | None:
    """Starts of the items of an inline enumeration (一是…;二是…) when the sentence is one."""
    if "是" not in work and "①" not in work and "(" not in work and "（" not in work:
        return None
    starts = [m.start() for m in _ENUM_ITEM.finditer(work)]
    return starts if len(starts) >= 2 else None


def _enum_segment(work: str, pos: int, starts: list[int]) -> tuple[int, int]:
    """The ;-separated item that holds ``pos`` (linear work per sentence: bisect, bounded find)."""
    i = bisect.bisect_right(starts, pos) - 1
    start = starts[i] if i >= 0 else 0
    limit = starts[i + 1] if i + 1 < len(starts) else len(work)
    end = limit
    for ch in ";；":
        k = work.find(ch, pos, limit)
        if 0 <= k < end:
            end = k
    return start, end


def _quoted(work: str, pos: int) -> bool:
    """A number inside a quoted name (“一件事一次办”, “1+N”) is part of the name."""
    opened = work.rfind("“", max(0, pos - 20), pos)
    if opened < 0 or work.rfind("”", opened, pos) >= 0:
        return False
    return work.find("”", pos, pos + 20) >= 0


_YEAR_END_WORDS = ("年内", "全年", "年底", "年末")


def indicators_in(s: Sentence, *, inherited: str | None = None,
                  plan_year: str | None = None) -> list[Indicator]:
    """The indicators a sentence sets."""
    text = s.text
    work = s.work or fold(text)
    qs = [q for q in quantities(text, work) if q.kind in ("percent", "count", "points", "rule")
          and not _quoted(work, q.start)]
    if not qs:
        return []
    quota = _is_quota_context(s)
    condition = _is_condition_context(s) and not quota
    allocation = bool(ALLOCATION_WORDS.search(work))
    exprs = _dated(s.times)
    if not exprs and plan_year:
        # 年内/全年/年底 in a one-year plan (2024年…工作要点): the end of that year
        exprs = [replace(e, until=plan_year + "-12", year_given=True) for e in s.times
                 if e.role == "limit" and e.until is None and not e.year_given
                 and e.text in _YEAR_END_WORDS]
    ends = [e.end for e in exprs]
    candidates = []
    for q in qs:
        cs, ce = _clause_bounds(work, q.start)
        comp, norm = _comparator(work, q, cs)
        if norm:
            continue
        before = work[cs:q.start]
        after_word = work[q.end:q.end + 2]
        if q.kind == "rule":
            if comp and OUTCOME_WORDS.search(before) and not NORM_WORDS.search(work, cs, ce):
                candidates.append((q, comp, (cs, ce)))
            elif comp == ">=" and q.unit_word in ("万元", "亿元") and FUND_WORDS.search(before) \
                    and not PER_UNIT.search(before):
                candidates.append((q, comp, (cs, ce)))  # 资金投入不低于3000万元
            elif q.unit_word in LAND_UNITS and (comp or _MADE.search(before) or
                                                LAND_MADE.search(before)) \
                    and not LAND_NORMS.search(work, cs, ce):
                candidates.append((q, comp or ">=", (cs, ce)))  # 新建茶园5000亩
            continue
        if q.kind == "percent":
            if _BY_RATIO.search(before) and work[q.end:q.end + 4].lstrip("的").startswith("比例"):
                continue  # 按照10%的比例: a ratio rule
            if SHARE_WORDS.search(before):
                continue  # 财政补助比例为30%: a ratio rule
            candidates.append((q, comp or ">=", (cs, ce)))
            continue
        counted = work[q.end:min(ce, q.end + 14)]
        if MEETING_WORDS.search(counted):
            continue  # 每年至少召开1次会议: a reporting duty
        if not quota and SELECTION.search(before):
            continue  # 择优推荐不超过2个试点区, 遴选2—3家医院: how many to put forward, a rule
        if q.unit_word in ("个百分点", "百分点"):
            candidates.append((q, comp or ">=", (cs, ce)))
            continue
        if q.value in (0,):
            continue
        if condition or (_AT_END.search(before) and not before.endswith(_HOLD_AT)) or \
                (comp and after_word.startswith(("以上", "以下"))
                                                    and _ABOVE_NOUN.match(work, q.end)):
            continue  # eligibility: 在30人以上, 4000人以上应当…, 3人以上农户
        if comp:
            candidates.append((q, comp, (cs, ce)))
            continue
        if q.text[0] in CN_NUMERAL_CHARS:
            continue  # 一名联络员, 六大工程, 一户一档
        if quota:
            candidates.append((q, "=", (cs, ce)))
            continue
        if allocation and q.unit_word in ("户", "万户"):
            candidates.append((q, "=", (cs, ce)))
            continue
        if _after_is_noun(work, q):
            if GROWTH_VERBS.search(before.rstrip()[-4:] if before else ""):
                candidates.append((q, ">=", (cs, ce)))
            continue
        # X N个 at the end of a clause: a target when the sentence is a dated goal, or what is
        # counted is made (培训基层医生500人次, 新建学校10所)
        if exprs or s.part_kind == "goals" or _MADE.search(before):
            candidates.append((q, ">=", (cs, ce)))
    out = []
    previous_name = ""
    leads = _list_leads(work, candidates)
    enum_starts = _enum_items(work) if exprs and candidates else None
    expr_starts = [e.start for e in exprs]  # exprs are in text order
    for q, comp, clause in candidates:
        value = q.value
        if q.kind == "rule":
            unit = RULE_TARGET_UNITS.get(q.unit_word, "other")
            if q.unit_word == "亿元":
                value = value * 10000
        else:
            unit = "%" if q.kind == "percent" else ("other" if q.kind == "points" else
                                                    COUNT_UNITS.get(q.unit_word.lstrip("万"), "other"))
        if q.kind == "count" and q.unit_word.startswith("万"):
            value = value * 10000
        if isinstance(value, float) and value == int(value):
            value = int(value)
        seg = _enum_segment(work, q.start, enum_starts) if enum_starts else None
        if seg is not None:  # 一是…2022年5月底前…;二是…每年…: each item has its own dates
            mine = exprs[bisect.bisect_left(expr_starts, seg[0]):bisect.bisect_left(expr_starts, seg[1])]
            deadline = _deadline_for(mine, q, 1, [e.end for e in mine]) or inherited
        else:
            deadline = _deadline_for(exprs, q, len(candidates), ends) or inherited
        name = _name_for(work, text, q, clause, leads.get(clause, "")) or previous_name
        previous_name = name
        names = _split_names(name) if _EACH_ALL.search(work, clause[0], q.start) else [name]
        for nm in names:
            out.append(Indicator(name=nm, comparator=comp, target=value, unit=unit, deadline=deadline,
                                 text=s.clean, span=(s.start, s.end)))
    return out


_INTRO = re.compile(r"(?:指标|目标|任务)[^,,。]{0,8}(?:包括|如下|是|为)?[:：]\s*(?P<item>$|[(（]?(?:一|1)[)）、.．])")


def extract_indicators(doc: Document, roots: list[OutlineNode], sents: list[Sentence] | None = None,
                       plan_year: str | None = None) -> list[Indicator]:
    """All indicators of the document; a list opened by a dated sentence (到2021年底…具体工作指标
    包括:) lends its date to the items that have none, until the numbering starts again."""
    sents = sents if sents is not None else sentences(doc, roots)
    out: list[Indicator] = []
    intro_deadline, intro_kind, firsts = None, "", 0
    for s in sents:
        stripped = s.text.strip()
        if intro_deadline is not None:
            if s.part_kind and intro_kind and s.part_kind != intro_kind:
                intro_deadline = None
            elif _restarts(stripped):
                firsts += 1
                if firsts > 1:
                    intro_deadline = None
        intro = _INTRO.search(stripped)
        if intro:
            line = doc.lines[s.line_index]
            # the paragraph up to the intro (a run-on line: its last 300 characters)
            lo = max(line.start, s.start - 300)
            dates = _dated(doc_times(doc.text).within(lo, s.start + intro.start()))
            intro_deadline = max((e.until for e in dates), key=date_key) if dates else None
            intro_kind, firsts = s.part_kind, (1 if intro.group("item") else 0)
        out.extend(indicators_in(s, inherited=intro_deadline, plan_year=plan_year))
    return out


def _restarts(text: str) -> bool:
    return bool(_RESTART.match(text))


# --------------------------------------------------------------------------- goals

_GOAL_PART = re.compile(r"目标")


# a goal sentence states something to reach; procedure sentences of a goals part do not
GOAL_CUES = re.compile(r"\d|建立|健全|设立|形成|建成|实现|达到|提高|提升|完善|基本|初步|力争|确保|目标|覆盖|培育|打造|"
                       r"推进|推动|满足|减少|降低|下降|增强|开设|配备|普及|获得|通过|总结出|探索|掌握|熟悉|了解|能够")


def extract_goals(doc: Document, sents: list[Sentence]) -> list[str]:
    goals = [s.clean for s in sents if s.part_kind == "goals" and s.clean
             and not _is_heading_only(s) and GOAL_CUES.search(s.clean)]
    if goals:
        return goals
    # no goals part: dated or staged target sentences outside the tasks (到2022年,…)
    out = []
    for s in sents:
        if s.part_kind in ("tasks", "steps", "safeguards", "principles", "guiding"):
            continue
        if (_GOAL_WORDS.search(s.text) or _STAGED_GOAL.match(s.clean)) and len(s.clean) > 8:
            out.append(s.clean)
    return out


_STAGED_GOAL = re.compile(r"20\d\d年[^;；。]{4,}[;；]\s*20\d\d年")


def _is_heading_only(s: Sentence) -> bool:
    clean = s.clean
    if _DIGIT.search(clean):
        return False
    return (len(clean) <= 12 and bool(_GOAL_PART.search(clean))) or (
        len(clean) <= 8 and s.text.strip() == clean and not _HAS_CLAUSE_PUNCT.search(clean))


def extract_goals_and_indicators(doc: Document, roots: list[OutlineNode], draft: PlanDraft) -> None:
    sents = sentences(doc, roots)
    draft.goals = extract_goals(doc, sents)
    draft.indicators = extract_indicators(doc, roots, sents, _plan_year(draft.title))


_TITLE_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年度?(?![\d\-—~至到])")
_ONE_YEAR_PLAN = re.compile(r"方案|计划|安排|要点|通知|意见|清单")


def _plan_year(title: str | None) -> str | None:
    """The one year a plan is for when its title names it (2024年全民健身工作要点)."""
    years = set(_TITLE_YEAR.findall(fold(title or "")[:80]))
    return years.pop() if len(years) == 1 and _ONE_YEAR_PLAN.search(title or "") else None
