"""The plan's outline: its numbered and headed items, nested, each with its part kind.

``build_outline(doc)`` returns the root nodes. Numbering styles (``OutlineNode.style``):

    'part'     第一部分 / 第一章            'cn、'     一、 (also 一. 一．)
    'art'      第一条 (articles)            'stage'    第一阶段 / 第一步
    '(cn)'     (一) （一）                  'num.'     1. 1． ⒈
    'num、'    1、                          '(num)'    (1) （1） ⑴
    'num)'     1)                           'circled'  ① ②
    'dash'     —— bullets                   'cn是'     一是 二是 (inline enumerations)
    'di'       第一, 第二,                  'head'     an unnumbered heading line
    'para'     an unnumbered item ('-') or the container of an inline 一是… list

Nesting follows the order in which styles first appear (a style already open closes the items
below it), with two corrections: 一、 and 第一部分 always open a top-level part, and a new style
that follows an item whose heading and body share a paragraph, after further body paragraphs,
starts a new run instead of nesting under that item (plans that lost their part headings).
Numbering inside a line (``1.明确…。(1)…(2)…``, ``…。一是…;二是…``, single-line OCR text) is
split when it continues an open sequence or starts one that continues later in the line.

Every node gets ``role`` ('part', 'item' or 'container') and ``part_kind``: the kind of the part
it belongs to (guiding, principles, goals, tasks, steps, safeguards, other). Part headings carry
their own kind; items inherit it. When a plan lost its part headings, each top-level run of items
is classified from its lead-in sentence and its titles. Items with part_kind tasks, steps or
safeguards are the plan's tasks. ``node.meta`` holds 'value' (the number), 'run' (index of the
run among its siblings), 'inline' (heading and body in one paragraph) and 'lead_in' (span of the
sentence that introduces the run, when there is one).
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from .header import find_title_line
from .model import Document, OutlineNode
from .textutil import (CIRCLED, DOT_NUMS, PAREN_NUMS, cjk_count, cn_small, first_sentence, fold,
                       folded_text, is_cjk)

TASK_KINDS = ("tasks", "steps", "safeguards")

# --------------------------------------------------------------------------- markers

_CN = "一二三四五六七八九十"
_LEAD = re.compile(
    r"(?P<part>第(?P<v_part>[" + _CN + r"]{1,3})(?:部分|章|篇)\s*)"
    r"|(?P<art>第(?P<v_art>[" + _CN + r"百零〇]{1,4})条(?![例件款文])\s*)"
    r"|(?P<stage>第(?P<v_stage>[" + _CN + r"]{1,2})(?:阶段|步)(?=[\s:：(（,，、])[\s:：,，、]*)"
    r"|(?P<di>第(?P<v_di>[" + _CN + r"]{1,2})[,、]\s*)"
    r"|(?P<shi>(?P<v_shi>[" + _CN + r"]{1,2})是(?![否非]))"
    r"|(?P<cn>(?P<v_cn>[" + _CN + r"]{1,3})\s*[、.]\s*)"
    r"|(?P<pcn>\(\s*(?P<v_pcn>[" + _CN + r"]{1,3})\s*\)\s*)"
    r"|(?P<pnum>\(\s*(?P<v_pnum>\d{1,2})\s*\)\s*)"
    r"|(?P<numdot>(?P<v_numdot>\d{1,2})\s*\.(?!\d)\s*)"
    r"|(?P<numcomma>(?P<v_numcomma>\d{1,2})\s*、\s*)"
    r"|(?P<numparen>(?P<v_numparen>\d{1,2})\)\s*)"
    r"|(?P<circ>(?P<v_circ>[" + CIRCLED + r"])\s*)"
    r"|(?P<pchar>(?P<v_pchar>[" + PAREN_NUMS + r"])\s*)"
    r"|(?P<dchar>(?P<v_dchar>[" + DOT_NUMS + r"])\s*)"
    r"|(?P<dash>(?:——|—|－－|--)(?=[^\s—\-\d]))"
)
# numbering inside a line: after a sentence end, colon, semicolon or a space
_MID = re.compile(
    r"(?:(?<=[。;:!?\s])|(?<=[\u4e00-\u9fff]\.))(?:"
    r"(?P<di>第(?P<v_di>[" + _CN + r"]{1,2})[,、])"
    r"|(?P<shi>(?P<v_shi>[" + _CN + r"]{1,2})是(?![否非]))"
    r"|(?P<cn>(?P<v_cn>[" + _CN + r"]{1,3})、)"
    r"|(?P<pcn>\((?P<v_pcn>[" + _CN + r"]{1,3})\))"
    r"|(?P<pnum>\((?P<v_pnum>\d{1,2})\))"
    r"|(?P<numdot>(?P<v_numdot>\d{1,2})\.(?![\d%]))"
    r"|(?P<numcomma>(?P<v_numcomma>\d{1,2})、)"
    r"|(?P<circ>(?P<v_circ>[" + CIRCLED + r"]))"
    r"|(?P<pchar>(?P<v_pchar>[" + PAREN_NUMS + r"]))"
    r")"
)
# single-line (OCR) text: a heading may run straight into the next number (…补助标准(一)补助对象…)
_MID_DENSE = re.compile(
    r"(?:(?:(?<=[。;:!?\s])|(?<=[\u4e00-\u9fff]\.))(?:"
    r"(?P<di>第(?P<v_di>[" + _CN + r"]{1,2})[,、])"
    r"|(?P<art>第(?P<v_art>[" + _CN + r"百零〇]{1,4})条(?![例件款文]))"
    r"|(?P<stage>第(?P<v_stage>[" + _CN + r"]{1,2})(?:阶段|步)(?=[\s:(,、]))"
    r"|(?P<shi>(?P<v_shi>[" + _CN + r"]{1,2})是(?![否非]))"
    r"|(?P<head>(?P<v_head>[\u4e00-\u9fff]{2,20})(?=[ \u3000]))))"
    r"|(?<![0-9" + _CN + r"第.、(])(?:"
    r"(?P<dash>(?P<v_dash>——)(?=[\u4e00-\u9fff]))|"
    r"(?P<cn>(?P<v_cn>[" + _CN + r"]{1,3})、)"
    r"|(?P<pcn>\((?P<v_pcn>[" + _CN + r"]{1,3})\))"
    r"|(?P<pnum>\((?P<v_pnum>\d{1,2})\))"
    r"|(?P<numdot>(?P<v_numdot>\d{1,2})\.(?![\d%]))"
    r"|(?P<numcomma>(?P<v_numcomma>\d{1,2})、)"
    r"|(?P<circ>(?P<v_circ>[" + CIRCLED + r"]))"
    r"|(?P<pchar>(?P<v_pchar>[" + PAREN_NUMS + r"]))"
    r")"
)
# usual depth of each style; only used to keep (一) from nesting under 1. / (1) / ①
_RANK = {"part": 0, "art": 1, "cn、": 1, "(cn)": 2, "stage": 2, "num.": 3, "num、": 3, "(num)": 4,
         "num)": 4, "circled": 5}
_BOUNDARY = frozenset("。;:!?；：！？ \t\u3000")
_STYLE = {"part": "part", "art": "art", "stage": "stage", "pchar": "(num)", "dchar": "num.",
          "di": "di", "shi": "cn是", "cn": "cn、", "pcn": "(cn)", "pnum": "(num)",
          "numdot": "num.", "numcomma": "num、", "numparen": "num)", "circ": "circled",
          "dash": "dash", "head": "head"}
# styles that only hold short inline enumerations and never take line-level children
_LEAF_STYLES = ("cn是", "di", "dash")
_PART_STYLES = ("part", "cn、", "head")
_ATTACH = re.compile(r"^\s*附件\s*\d*\s*(?:[:：]|$)")


def _marker_text(style: str, raw: str, value: int | None) -> str:
    raw = fold(raw).strip()
    if style == "dash":
        return "——"
    if style == "cn、":
        return raw.rstrip(".、 ").strip() + "、"
    if style in ("(cn)", "(num)"):
        if raw.strip() in PAREN_NUMS and value is not None:
            return "(%d)" % value
        return "(" + raw.strip("() ").strip() + ")"
    if style == "num.":
        if raw.strip() in DOT_NUMS and value is not None:
            return "%d." % value
        return raw.rstrip(". ").strip() + "."
    if style == "stage":
        return raw.strip(" :：,，、")
    if style == "num、":
        return raw.rstrip("、 ").strip() + "、"
    if style == "di":
        return raw.rstrip(",、 ")
    return raw.strip()


def _value(style: str, text: str) -> int | None:
    if style == "circled":
        return CIRCLED.index(text) + 1 if text in CIRCLED else None
    if len(text) == 1 and text in PAREN_NUMS:
        return PAREN_NUMS.index(text) + 1
    if len(text) == 1 and text in DOT_NUMS:
        return DOT_NUMS.index(text) + 1
    if style == "dash":
        return None
    return cn_small(text)


# --------------------------------------------------------------------------- part names

_PART_WORDS = {
    "guiding": ("指导思想", "总体思路", "指导方针", "总体要求", "基本思路", "工作思路"),
    "principles": ("原则",),
    "goals": ("目标", "指标"),
    "other": ("情况", "成效", "问题", "试点单位", "选取", "遴选", "组织机构", "机构设置", "背景",
              "意义", "依据", "范围", "期限", "名单", "附件", "总结", "经验", "培训对象", "申报条件",
              "附则"),
    "steps": ("步骤", "阶段", "工作安排", "进度安排", "时间安排", "实施计划", "工作计划", "时间表",
              "进度", "安排"),
    "safeguards": ("保障", "组织领导", "工作要求", "要求", "组织实施"),
    "tasks": ("任务", "内容", "措施", "举措", "重点", "工程", "项目", "程序", "流程", "方式",
              "标准", "对象", "管理", "计划"),
}
_KIND_ORDER = ("guiding", "principles", "goals", "other", "steps", "safeguards", "tasks")
# verbs that open a task heading (加强组织领导 is a task, 组织领导 is a part name)
_TASK_VERBS = (
    "加强", "建立", "健全", "完善", "推进", "推动", "提升", "提高", "强化", "深化", "构建", "创新",
    "落实", "开展", "实施", "加快", "促进", "培育", "发展", "做好", "抓好", "明确", "规范", "优化",
    "探索", "组建", "搭建", "打造", "实现", "坚持", "发挥", "加大", "扩大", "增强", "巩固", "拓展",
    "强化", "统筹", "确保", "严格", "全面", "积极", "认真", "切实", "深入", "大力", "着力",
    "注重", "突出", "坚决", "广泛", "持续", "进一步", "建设", "改革", "整合", "设立", "成立", "制定",
    "编制", "开设", "选择", "确定", "签订", "组织开展", "召开", "鼓励", "支持", "引导", "提供",
    "解决", "维护", "夯实", "筑牢", "完成", "启动", "丰富", "营造", "激发", "改善", "美化", "畅通",
    "守牢", "聚焦", "壮大", "压实", "用好", "办好", "抓实", "做实", "做优", "做强", "释放", "增进",
    "弘扬", "传承", "保护", "治理", "整治", "防范", "化解", "严防", "严控", "补齐", "补强", "延伸",
    "拓宽", "提速", "降低", "减少", "减轻", "压缩", "简化", "便利", "服务", "助力", "赋能", "引领",
)


_KIND_RES = [(k, re.compile("|".join(map(re.escape, _PART_WORDS[k])))) for k in _KIND_ORDER]


def kind_of_title(title: str) -> str | None:
    """The part kind a heading's words name (None when they name none): the kind whose word comes
    first (目标任务和工作原则 → goals), ties going to the earlier kind of _KIND_ORDER."""
    t = title.strip("。.:： ")[:60]
    best, best_pos = None, len(t) + 1
    for kind, rx in _KIND_RES:
        m = rx.search(t)
        if m and m.start() < best_pos:
            best, best_pos = kind, m.start()
    return best


def starts_with_task_verb(title: str) -> bool:
    return title.startswith(_TASK_VERBS)


def _strip_verb(title: str) -> str:
    """The title without its opening task verb (强化工作保障 → 工作保障)."""
    for verb in sorted((v for v in _TASK_VERBS if title.startswith(v)), key=len, reverse=True):
        return title[len(verb):]
    return title


_PART_PHRASE = re.compile(
    r"^(?:(?:总体|指导|主要|基本|工作|试点|建设|具体|实施|保障|组织|进度|时间|推进|重点|改进|资金)?"
    r"(?:思想|原则|目标|任务|内容|措施|步骤|安排|要求|保障|领导|机构|指标|计划|程序|流程|方式|标准|"
    r"对象|范围|期限|职责|分工|举措|实施|情况)[和与及、]?){1,3}$")


def part_name_kind(title: str) -> str | None:
    """Kind of a title that is only a part name (指导思想, 基本原则, 实施步骤), else None."""
    t = title.strip("。.:：; ")
    if not t or len(t) > 18 or "," in t or "，" in t:
        return None
    if _PART_PHRASE.match(t):
        return kind_of_title(t) or "tasks"
    if starts_with_task_verb(t):
        return None
    return kind_of_title(t)


# --------------------------------------------------------------------------- building

class _Builder:
    def __init__(self, doc: Document):
        self.doc = doc
        self.text = doc.text
        self.roots: list[OutlineNode] = []
        self.stack: list[OutlineNode] = []
        self.root_paras: list[tuple[int, int]] = []  # unnumbered paragraphs at the top level
        self.last_event = None  # ('para', span) | ('node', node): what came just before

    # ---- stack helpers
    def _styles(self) -> list[str]:
        return [n.style for n in self.stack]

    def _attach(self, node: OutlineNode) -> None:
        parent = self.stack[-1] if self.stack else None
        siblings = parent.children if parent is not None else self.roots
        if siblings and siblings[-1].style == node.style:
            prev = siblings[-1]
            pv, nv = prev.meta.get("value"), node.meta.get("value")
            restart = pv is not None and nv is not None and nv <= pv
            node.meta["run"] = prev.meta.get("run", 0) + (1 if restart else 0)
        elif siblings:
            node.meta["run"] = siblings[-1].meta.get("run", 0) + 1
        else:
            node.meta["run"] = 0
        node.parent = parent
        node.depth = len(self.stack)
        inline_lead = node.meta.get("inline_lead")
        if inline_lead and (not siblings or node.meta.get("run") != siblings[-1].meta.get("run")):
            # single-line text: the sentence before the number, ending with ':', introduces the run
            node.meta["prev_para"] = inline_lead
            if siblings and siblings[-1].end > inline_lead[0] >= siblings[-1].start:
                siblings[-1].end = _last_text_end(self.text, siblings[-1].start, inline_lead[0])
        elif self.last_event is not None and self.last_event[0] == "rootpara":
            node.meta["prev_para"] = self.last_event[1]
        elif (self.last_event is not None and self.last_event[0] == "para" and siblings
              and siblings[-1] is not node
              and node.meta.get("run") != siblings[-1].meta.get("run")):
            # a paragraph ending with ':' before a new run introduces that run (…如下:)
            ps, pe = self.last_event[1]
            para = self.text[ps:pe].rstrip()
            if para.endswith((":", "：")):
                node.meta["prev_para"] = (ps, pe)
                prev = siblings[-1]
                if prev.end == pe and prev.start < ps:
                    prev.end = _last_text_end(self.text, prev.start, ps)
                    trailing = prev.meta.get("trailing", [])
                    if trailing and trailing[-1] == (ps, pe):
                        trailing.pop()
        if node.meta.get("prev_para"):
            ps, pe = node.meta["prev_para"]
            para = self.text[ps:pe].rstrip()
            if para.endswith((":", "：")):
                cut = max(para.rfind(ch, 0, len(para) - 1) for ch in "。！？!?")
                node.meta.setdefault("lead_in", (ps + cut + 1, ps + len(para)))
        siblings.append(node)
        self.stack.append(node)

    def _place(self, node: OutlineNode, line_start: bool) -> None:
        """Pop the stack to where ``node`` belongs and push it."""
        style = node.style
        styles = self._styles()
        if style in styles:
            idx = len(styles) - 1 - styles[::-1].index(style)
            self._pop_closing(idx + 1)
            self.stack.pop().meta["closed_by"] = "sibling"
        elif style in ("part", "cn、") or (style == "head" and node.meta.get("part_name")):
            keep = 0
            for i, n in enumerate(self.stack):
                if n.style == "part" and style != "part":
                    keep = i + 1
                elif n.style == "cn、" and style == "head":
                    keep = i + 1
            self._pop_closing(keep)
        else:
            while self.stack:
                top = self.stack[-1]
                if top.style in _LEAF_STYLES or (top.role == "container"
                                                   and style not in ("cn是", "di")):
                    self._pop_closing(len(self.stack) - 1)
                    continue
                ranked_out = _RANK.get(style, 9) < _RANK.get(top.style, 0)  # (一) never under 1.
                if ranked_out and (top.children or not top.meta.get("inline")):
                    self._pop_closing(len(self.stack) - 1)
                    continue
                if ranked_out or (line_start and top.meta.get("inline")
                                  and top.meta.get("paras_after", 0) > 0 and not top.children):
                    top.meta["closed_by"] = "newrun"
                    self.stack.pop()
                    # the paragraphs after it introduce the new run, they are not its text
                    seg_end = top.meta["seg"][1]
                    top.end = _last_text_end(self.text, top.start, seg_end)
                    if self.last_event is not None and self.last_event[0] == "para":
                        self.last_event = ("rootpara" if not self.stack else "para",
                                           self.last_event[1])
                        if not self.stack:
                            self.root_paras.append(self.last_event[1])
                    continue
                break
        self._attach(node)

    def _pop_closing(self, until: int) -> None:
        while len(self.stack) > until:
            node = self.stack.pop()
            node.meta.setdefault("closed_by", "higher")

    # ---- nodes
    def new_node(self, style: str, raw_marker: str, value_text: str, start: int, seg_end: int,
                 line_start: bool) -> OutlineNode:
        value = _value(style, value_text)
        marker = _marker_text(style, raw_marker, value)
        body_start = start + len(raw_marker)
        title, heading_only = _title(self.text, body_start, seg_end)
        node = OutlineNode(marker=marker, style=style, title=title, body="", start=start,
                           end=seg_end, role="item")
        node.meta.update(value=value, inline=not heading_only, paras_after=0,
                         trailing=[], line_start=line_start, seg=(start, seg_end),
                         body_start=body_start)
        return node

    def add_body(self, start: int, end: int) -> None:
        """An unnumbered paragraph: body of the open item, or top-level text."""
        if not self.stack:
            self.root_paras.append((start, end))
            self.last_event = ("rootpara", (start, end))
            return
        top = self.stack[-1]
        if not top.children:
            top.end = end
        top.meta["paras_after"] = top.meta.get("paras_after", 0) + 1
        top.meta.setdefault("trailing", []).append((start, end))
        self.last_event = ("para", (start, end))


_ATTR_LABEL_END = re.compile(r"(?:牵头单位|责任单位|责任部门|责任小组|牵头部门)$")
_BRACKET_ONLY = re.compile(r"[(（][^()（）]{0,30}[)）][。.]?")
_SPACED_HEAD = re.compile(r"^([^\s。]{2,25}?)[ \u3000]{1,}(?=\S)")


def _title(text: str, start: int, end: int) -> tuple[str, bool]:
    """Heading of an item whose text runs from ``start`` to ``end``; and whether that is all."""
    seg = text[start:end].strip(" \t\u3000\r")
    if not seg:
        return "", True
    head = _heading_part(seg)
    rest = seg[len(head):].strip(" \t\u3000\r。.;；:：,，")
    title = head.strip(" \t\u3000\r").rstrip("。.;；:：,，、 ")
    heading_only = not rest or bool(_BRACKET_ONLY.fullmatch(rest))
    return title, heading_only


def _heading_part(seg: str) -> str:
    """The words before the first sentence end (or before a label colon)."""
    sent = first_sentence(seg)
    # '.' between two Chinese characters ends a heading too (发挥政治引领作用.把…)
    for i in range(1, len(sent) - 1):
        if sent[i] == "." and is_cjk(sent[i - 1]) and is_cjk(sent[i + 1]):
            sent = sent[:i]
            break
    for colon in (":", "："):
        c = sent.find(colon)
        if 0 < c <= 40 and not sent[:c].endswith(("如下", "包括", "强调", "指出", "要求")):
            sent = sent[:c]
            # single-line text: "…基层治理责任单位:…" — the label belongs to the attribution
            sent = _ATTR_LABEL_END.sub("", sent) or sent
    # single-line OCR text: a short heading followed by a run of spaces, then the body
    m = _SPACED_HEAD.match(sent)
    if m and len(sent) > len(m.group(0)) + 10:
        sent = m.group(1)
    return sent


# --------------------------------------------------------------------------- segmentation

_DATE_LINE = re.compile(r"^[\s\u3000]*(?:\d{4}|[〇○零一二]{4})\s*年")


def _is_head_line(text: str) -> bool:
    t = text.strip()
    if not (2 <= len(t) <= 24) or cjk_count(t) < 3:
        return False
    if re.search(r"[。，,；;：:！？!?、\d\t]", t) or t[0] in "(（【[《“\"'—-":
        return False
    if t.endswith(("方案", "意见", "通知", "办法", "报告", "附件")):
        return False
    if _SPACED_NAMES.search(t):
        return False  # names set apart by spaces: a signature or a roster, not a heading
    return True


_SPACED_NAMES = re.compile(r"\S[ \u3000]{2,}\S")


def _lines(doc: Document, title_line: int | None) -> list[tuple[int, int, str]]:
    """Non-empty lines as (start, end, text) with surrounding blanks trimmed; stops at 附件."""
    out = []
    seen_content = False
    for line in doc.lines:
        if line.index == title_line:
            continue
        raw = line.text
        stripped = raw.strip(" \t\u3000\r\ufeff\u200b")
        if not stripped:
            continue
        if _ATTACH.match(stripped) and seen_content and len(stripped) <= 80:
            break
        lead = len(raw) - len(raw.lstrip(" \t\u3000\r\ufeff\u200b"))
        start = line.start + lead
        out.append((start, start + len(stripped), stripped))
        if "。" in stripped and cjk_count(stripped) >= 15:
            seen_content = True
    return out


def build_outline(doc: Document) -> list[OutlineNode]:
    if not doc.text.strip():
        return []
    b = _Builder(doc)
    lines = _lines(doc, find_title_line(doc))
    ftext = folded_text(doc)
    folded_lines = [ftext[ls:le] for ls, le, _ in lines]
    leads = [None if "\t" in t else _LEAD.match(f) for (_, _, t), f in zip(lines, folded_lines)]
    heads = [leads[i] is None and _is_head_line(t) for i, (_, _, t) in enumerate(lines)]
    total = sum(le - ls for ls, le, _ in lines)
    # text whose line breaks were lost (OCR, scraped pages): numbering is found inside lines
    dense = bool(lines) and (total >= 1500 and (len(lines) <= 4 or total / len(lines) >= 600)
                             or total >= 200 and len(lines) <= 2)
    if dense:
        lines, folded_lines = _cut_dense_appendix(lines, folded_lines)
        leads = leads[:len(lines)]
        heads = heads[:len(lines)]
    for li, (ls, le, text) in enumerate(lines):
        if "\t" in text:  # a table row: body text, never numbering
            b.add_body(ls, le)
            _end_paragraph(b)
            continue
        m = leads[li]
        head = None
        if m is None and heads[li]:
            prev_ok = li == 0 or lines[li - 1][2][-1] in "。；;:：！？!?"
            prev_head = li > 0 and heads[li - 1]
            next_ok = li + 1 < len(lines) and (not heads[li + 1] or leads[li + 1] is not None) \
                and not _DATE_LINE.match(lines[li + 1][2])
            if prev_ok and next_ok and not prev_head:
                head = text
        _line(b, doc.text, ls, le, folded_lines[li], m, head, dense)
        _end_paragraph(b)
    b._pop_closing(0)
    roots = b.roots
    _finish(doc, b, roots)
    return roots


_DENSE_ATTACH = re.compile(r"(?<=[。\s])附件\s*\d*\s*[:：]")


def _cut_dense_appendix(lines, folded_lines):
    """Single-line text: everything after a 附件: that follows the body is the appendix."""
    seen = 0
    for li, ((ls, le, text), f) in enumerate(zip(lines, folded_lines)):
        for m in _DENSE_ATTACH.finditer(f):
            if seen + m.start() >= 500:
                cut = m.start()
                lines = lines[:li] + [(ls, ls + cut, text[:cut])]
                folded_lines = folded_lines[:li] + [f[:cut]]
                return lines, folded_lines
        seen += le - ls
    return lines, folded_lines


def _end_paragraph(b: _Builder) -> None:
    """Inline enumerations (一是…) and their container end with their paragraph."""
    for i, node in enumerate(b.stack):
        if node.style in ("cn是", "di") and node.meta.get("line_start") is False or \
                node.role == "container":
            b._pop_closing(i)
            break


def _line(b: _Builder, text: str, ls: int, le: int, folded: str, m, head: str | None,
          dense: bool = False) -> None:
    pos = 0  # position in the line
    if m is not None:
        kind = m.lastgroup
        style = _STYLE[kind]
        vtext = m.group("v_" + kind) if kind != "dash" else ""
        pos = m.end()
        start_marker = (style, m.group(0), vtext, 0)
    else:
        start_marker = None
    # find numbering inside the line
    mids = []
    for mm in (_MID_DENSE if dense else _MID).finditer(folded, pos):
        k = mm.lastgroup
        mids.append((mm.start(), mm.end(), _STYLE[k], mm.group(k), mm.group("v_" + k)))
    # where each style's number 2 last occurs, so a 1 can check for a following 2 in O(1)
    last_two: dict[str, int] = {}
    for i, m2 in enumerate(mids):
        if _value(m2[2], m2[4]) == 2:
            last_two[m2[2]] = i
    accepted = []
    pending_values: dict[str, int] = {}
    if start_marker:
        pending_values[start_marker[0]] = _value(start_marker[0], start_marker[2]) or 0
    for i, (s, e, style, raw, vtext) in enumerate(mids):
        if style in ("dash", "head"):
            if _dense_extra_ok(folded, mids, i, accepted):
                accepted.append((s, e, style, raw, vtext))
            continue
        value = _value(style, vtext)
        if value is None:
            continue
        prev = pending_values.get(style)
        if prev is None:
            for node in reversed(b.stack):
                if node.style == style:
                    prev = node.meta.get("value")
                    break
        ok = prev is not None and value == prev + 1
        if not ok and prev is not None and prev + 1 < value <= prev + 5 and \
                style in ("cn、", "(cn)") and (s == 0 or folded[s - 1] in _BOUNDARY):
            ok = True  # a number skipped where the text was lost (…三、 missing, 四、 follows)
        if not ok and value == 1 and last_two.get(style, -1) > i:
            # a list starts here; without a sentence end before it only for bracketed numbers
            ok = s == 0 or folded[s - 1] in _BOUNDARY or style not in ("cn、", "num、")
        if ok:
            accepted.append((s, e, style, raw, vtext))
            pending_values[style] = value
    # segments
    cuts = [a[0] for a in accepted] + [le - ls]
    first_end = cuts[0]
    if start_marker:
        style, raw, vtext, _ = start_marker
        node = b.new_node(style, raw, vtext, ls, ls + first_end, True)
        b._place(node, True)
        b.last_event = ("node", node)
    elif head is not None:
        node = OutlineNode(marker="-", style="head", title=head.strip(), body="", start=ls,
                           end=le, role="item")
        node.meta.update(value=None, inline=False, paras_after=0, trailing=[], line_start=True,
                         part_name=part_name_kind(head) is not None, seg=(ls, le))
        b._place(node, True)
        b.last_event = ("node", node)
        return
    else:
        if accepted:
            prefix_end = ls + first_end
            if not b.stack and accepted[0][2] in ("cn是", "di"):
                box = OutlineNode(marker="-", style="para", title="", body="", start=ls,
                                  end=prefix_end, role="container")
                box.meta.update(value=None, inline=True, paras_after=0, trailing=[],
                                line_start=True, seg=(ls, prefix_end))
                b._attach(box)
                b.root_paras.append((ls, prefix_end))
            elif text[ls:prefix_end].strip():
                b.add_body(ls, prefix_end)
        else:
            _maybe_headed_paragraph(b, text, ls, le)
            return
    for i, (s, e, style, raw, vtext) in enumerate(accepted):
        seg_end = ls + cuts[i + 1]
        if style == "head":
            node = OutlineNode(marker="-", style="head", title=raw, body="", start=ls + s,
                               end=seg_end, role="item")
            node.meta.update(value=None, inline=False, paras_after=0, trailing=[],
                             line_start=False, part_name=part_name_kind(raw) is not None,
                             seg=(ls + s, seg_end), body_start=ls + e)
            b._place(node, False)
            b.last_event = ("node", node)
            continue
        node = b.new_node(style, raw, vtext, ls + s, seg_end, False)
        before = folded[(accepted[i - 1][1] if i else pos):s].rstrip()
        if before.endswith(":"):
            cut = max(before.rfind("。"), before.rfind(";"), before.rfind("!"), before.rfind("?"))
            a = (accepted[i - 1][1] if i else pos) + cut + 1
            node.meta["inline_lead"] = (ls + a, ls + a + len(before) - cut - 1)
        b._place(node, False)
        b.last_event = ("node", node)


def _dense_extra_ok(folded: str, mids: list, i: int, accepted: list) -> bool:
    """In single-line text: a —— bullet or an unnumbered heading found inside the line."""
    s, e, style = mids[i][0], mids[i][1], mids[i][2]
    if style == "dash":
        if s == 0 or folded[s - 1] in _BOUNDARY:
            return True
        if accepted:  # right after a short numbered heading: (1)国有企业——探索…
            gap = folded[accepted[-1][1]:s]
            return len(gap) <= 25 and "。" not in gap and "," not in gap
        return False
    title = mids[i][3]
    if part_name_kind(title) is not None:
        return True
    nxt = mids[i + 1] if i + 1 < len(mids) else None
    return (nxt is not None and not folded[e:nxt[0]].strip()
            and nxt[2] not in ("head", "dash") and _value(nxt[2], nxt[4]) == 1)


_HEADED = re.compile(r"^([\u4e00-\u9fff]{4,12})[。.](?=[\u4e00-\u9fff])")


def _maybe_headed_paragraph(b: _Builder, text: str, ls: int, le: int) -> None:
    """A body paragraph; or an unnumbered headed paragraph ('改革评价模式。围绕…') under an item
    whose heading stands on its own line."""
    seg = text[ls:le]
    m = _HEADED.match(seg)
    top = b.stack[-1] if b.stack else None
    prev = text[max(0, ls - 16):ls].rstrip()
    if (m and top is not None and top.role == "item" and not top.meta.get("inline")
            and prev.endswith(("。", "！", "？", "!", "?", "；", ";", ":", "："))
            and top.meta.get("paras_after", 0) >= 1 and not top.children
            and top.style not in _LEAF_STYLES and le - ls - m.end() >= 10
            and not re.search(r"[要应将须是的]", m.group(1))):
        node = OutlineNode(marker="-", style="para", title=m.group(1), body="", start=ls, end=le,
                           role="item")
        node.meta.update(value=None, inline=True, paras_after=0, trailing=[], line_start=True,
                         seg=(ls, le))
        b._attach(node)
        b.last_event = ("node", node)
        return
    b.add_body(ls, le)


# --------------------------------------------------------------------------- finishing

_CONTINUATION = ("要", "并", "同时", "另外", "此外", "对", "其中", "如", "但", "且", "以及", "和",
                 "或", "即", "也", "还", "凡", "若", "因", "由于", "所", "其")


def _finish(doc: Document, b: _Builder, roots: list[OutlineNode]) -> None:
    text = doc.text
    _trailing_items(text, roots)
    _trim_closing(text, roots)
    _group_attributions(text, roots)
    for node in walk(roots):
        node.body = text[node.start:node.end]
    _classify(text, b, roots)


def _trailing_items(text: str, nodes: list[OutlineNode]) -> None:
    """Paragraphs after the last inline item of a run, at the end of its part, are unnumbered
    items of their own ('-'), e.g. a closing step or an added training module."""
    i = 0
    run_first = nodes[0] if nodes else None
    while i < len(nodes):
        node = nodes[i]
        if i and (nodes[i - 1].style != node.style or
                  nodes[i - 1].meta.get("run") != node.meta.get("run")):
            run_first = node
        _trailing_items(text, node.children)
        is_last_of_run = i + 1 == len(nodes) or nodes[i + 1].style != node.style
        if (node.role == "item" and is_last_of_run and node.meta.get("inline")
                and not node.children and node.style not in _LEAF_STYLES + ("para", "head")
                and node.meta.get("closed_by") in ("higher", None)
                and not _closing_part(node, run_first)):
            extra = []
            for (s, e) in node.meta.get("trailing", [])[:]:
                para = text[s:e].strip()
                before = text[max(0, s - 16):s].rstrip()
                if (not para or para.startswith(_CONTINUATION) or not re.search(r"[。.]$", para)
                        or para.endswith((":", "：")) or not before.endswith(("。", "！", "？"))
                        or _CLOSING_PARA.search(para)):
                    break
                title, _ = _title(text, s, e)
                item = OutlineNode(marker="-", style="para", title=title, body="", start=s, end=e,
                                   depth=node.depth, role="item", parent=node.parent)
                item.meta.update(value=None, inline=True, paras_after=0, trailing=[],
                                 line_start=True, run=node.meta.get("run", 0), seg=(s, e))
                extra.append(item)
            if extra:
                node.end = min(node.end, extra[0].start)
                # trim the item's own span back to before the first extra paragraph
                node.end = max(node.start, _last_text_end(text, node.start, extra[0].start))
                nodes[i + 1:i + 1] = extra
                i += len(extra)
        i += 1


_CLOSING_WORDS = re.compile(r"保障|要求|领导|组织实施|督导|考核")
_CLOSING_PARA = re.compile(r"本(?:方案|意见|通知|办法|细则)|自印发之日|自发布之日|各地各部门|请各|"
                           r"^各[^,，。]{0,16}要(?:高度重视|切实|认真|结合实际|加强领导)")


def _closing_part(node: OutlineNode, first: OutlineNode | None) -> bool:
    """Paragraphs after the safeguard items close the plan; they are not items of their own."""
    first = first or node
    parent_title = node.parent.title if node.parent is not None else ""
    return bool(_CLOSING_WORDS.search(first.title) or _CLOSING_WORDS.search(parent_title))


def _trim_closing(text: str, roots: list[OutlineNode]) -> None:
    """The plan's closing words (各…要高度重视… / 本方案自印发之日起施行) after its last item are not
    that item's text."""
    if not roots:
        return
    last = roots[-1]
    while last.children:
        last = last.children[-1]
    if not last.meta.get("inline"):
        return
    for (s, e) in last.meta.get("trailing", []):
        para = text[s:e].strip()
        if s >= last.start and (_CLOSING_PARA.search(para) or _SIGNATURE.match(para)):
            last.end = max(last.start, min(last.end, _last_text_end(text, last.start, s)))
            break


# the plan's signature: issuing bodies set apart by spaces, or the date alone on its line
_SIGNATURE = re.compile(r"^(?:(?:[\u4e00-\u9fff()（）]{2,30}[ \u3000]{2,})+[\u4e00-\u9fff()（）]{2,30}"
                        r"|(?:\d{4}|[〇○零一二三四五六七八九]{4})\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)$")


# a line of an attribution block: 牵头单位:… / 责任单位:… / 完成时限:… (possibly bracketed)
_ATTR_BLOCK_LINE = re.compile(
    r"^[(（〔【\[]?\s*(?:(?:牵头|主责|责任|配合|协办|协助|参与|实施)(?:单位|部门|科室|处室|股室|机构|领导)"
    r"|责任小组|责任主体|责任人|完成时限|完成时间|时间节点|时限要求)\s*[:：]")


# a line that is only a bracketed attribution with role words: (X牵头,Y、Z配合) / (X负责)
_ROLE_BRACKET_LINE = re.compile(r"^[(（〔【][^()（）〔〕【】]{2,120}(?:牵头|负责|配合|参与|协助)"
                                r"[^()（）〔〕【】]{0,60}[)）〕】][。.;；]?$")


def _block_line(line: str, with_units: bool = False) -> bool:
    line = line.strip(" \t\u3000")
    if _ROLE_BRACKET_LINE.match(line):
        return True
    m = _ATTR_BLOCK_LINE.match(line)
    return bool(m) and (not with_units or "单位" in m.group(0) or "部门" in m.group(0)
                        or "科室" in m.group(0) or "小组" in m.group(0))


def _group_attributions(text: str, nodes: list[OutlineNode]) -> None:
    """An item whose children are followed by a block of attribution lines (2、… (1)… (2)…
    牵头单位:… 责任单位:… 完成时限:…) owns that block: it is cut from the last child's text and
    kept as the item's ``meta['attr_block']`` span, which its children inherit. Only when no
    child carries attribution lines of its own (then each item has its own block)."""
    for node in nodes:
        if not node.children:
            continue
        _group_attributions(text, node.children)
        last = node.children[-1]
        while last.children:
            last = last.children[-1]
        trailing = last.meta.get("trailing") or []
        k = len(trailing)
        while k > 0 and _block_line(text[trailing[k - 1][0]:trailing[k - 1][1]]):
            k -= 1
        if k == len(trailing) or trailing[-1][1] != last.end or \
                not any(_block_line(text[s:e], True) for s, e in trailing[k:]):
            continue
        block = (trailing[k][0], trailing[-1][1])
        if last.start >= block[0] or _has_attr_line(text, node.start, node.end) or any(
                _has_attr_line(text, n.start, n.end)
                for c in node.children for n in c.walk() if n is not last):
            continue
        last.end = _last_text_end(text, last.start, block[0])
        del trailing[k:]
        node.meta["attr_block"] = block


_ROLE_BRACKET_END = re.compile(r"[(（〔【][^()（）〔〕【】]{0,120}(?:牵头|负责|配合|参与|协助|责任单位)"
                               r"[^()（）〔〕【】]{0,60}[)）〕】][。.;；]?\s*$")


def _has_attr_line(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` has an attribution of its own: a label line, or a bracketed
    attribution closing one of its lines."""
    return any(_block_line(line) or _ROLE_BRACKET_END.search(line)
               for line in text[start:end].split("\n"))


def _last_text_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in " \t\r\n\u3000":
        end -= 1
    return end


def walk(nodes: list[OutlineNode]) -> Iterator[OutlineNode]:
    for node in nodes:
        yield node
        yield from walk(node.children)


def _runs(nodes: list[OutlineNode]) -> list[list[OutlineNode]]:
    runs: list[list[OutlineNode]] = []
    for node in nodes:
        if runs and runs[-1][-1].style == node.style and runs[-1][-1].meta.get("run") == \
                node.meta.get("run"):
            runs[-1].append(node)
        else:
            runs.append([node])
    return runs


def _classify(text: str, b: _Builder, roots: list[OutlineNode]) -> None:
    seen_task_run = [False]

    def part_like(node: OutlineNode) -> str | None:
        """Kind when the node is a part heading, else None."""
        if node.role == "container":
            return None
        name_kind = part_name_kind(node.title)
        if node.style in _PART_STYLES:
            if name_kind:
                return name_kind
            verb = starts_with_task_verb(node.title)
            if verb and not node.children and not node.meta.get("inline"):
                # 四、强化工作保障 over plain paragraphs: a part name with a verb, not a task
                rest = _strip_verb(node.title)
                if rest != node.title and _PART_PHRASE.match(rest):
                    return kind_of_title(rest) or "other"
            if node.children and not verb:
                return kind_of_title(node.title) or "tasks"
            if not node.children and not node.meta.get("inline") and not verb:
                return kind_of_title(node.title) or "other"
            return None
        if name_kind in ("guiding", "principles", "goals"):
            return name_kind
        return None

    def visit(nodes: list[OutlineNode], inherited: str | None, part_level: bool) -> None:
        for run in _runs(nodes):
            run_kind = None
            if part_level and inherited is None:
                items = [n for n in run if n.role != "container" and part_like(n) is None]
                if items:
                    run_kind = _run_kind(text, b, run, seen_task_run[0])
                    if run_kind in TASK_KINDS:
                        seen_task_run[0] = True
            for node in run:
                if node.role == "container":
                    if inherited is None and node.children:
                        run_kind = _run_kind(text, b, _runs(node.children)[0], seen_task_run[0])
                    node.part_kind = inherited or run_kind or "tasks"
                    _lead_in_for_children(text, node)
                    visit(node.children, node.part_kind, False)
                    continue
                kind = part_like(node) if part_level else None
                if kind is not None:
                    node.role = "part"
                    node.part_kind = kind if (inherited is None or kind in
                                              ("guiding", "principles", "goals", "other")) \
                        else inherited
                    if inherited in ("guiding", "principles", "goals", "other"):
                        node.part_kind = kind if kind in ("guiding", "principles", "goals") \
                            else inherited
                    _lead_in_for_children(text, node)
                    visit(node.children, node.part_kind, True)
                else:
                    node.role = "item"
                    node.part_kind = inherited if inherited is not None else (run_kind or "tasks")
                    _lead_in_for_children(text, node)
                    visit(node.children, node.part_kind, False)

    visit(roots, None, True)


def _lead_in_for_children(text: str, node: OutlineNode) -> None:
    """The last sentence of a node's own text introduces the run of its first children."""
    if not node.children:
        return
    own_end = node.children[0].start
    seg_start = node.meta.get("body_start", node.meta.get("seg", (node.start, node.end))[0])
    body = text[seg_start:own_end].rstrip()
    if not body:
        return
    if node.role != "container" and not body.endswith((":", "：")):
        return  # only a sentence that ends with a colon introduces the list
    # the last sentence, not counting a final 。/:
    cut = max(body.rfind(ch, 0, len(body) - 1) for ch in "。！？!?\n")
    s = seg_start + cut + 1
    first = node.children[0]
    first.meta.setdefault("lead_in", (s, seg_start + len(body)))


_LEADIN_KINDS = (
    ("goals", ("目标", "指标", "技能", "达到")),
    ("principles", ("原则",)),
    ("steps", ("步骤", "阶段")),
    ("tasks", ("任务", "内容", "措施", "模块", "举措", "重点工作")),
    ("other", ("包括", "对象", "条件", "范围", "名单")),
)
_PAIR_TITLE = re.compile(r"^[\u4e00-\u9fff]{2,4}[,，、][\u4e00-\u9fff]{2,4}$")
_DATE_TITLE = re.compile(r"[(（][^()（）]*(?:\d{4}|[年月])[^()（）]*[)）]")


def _run_kind(text: str, b: _Builder, run: list[OutlineNode], seen_task_run: bool) -> str:
    """Kind of a top-level run of items in a plan that lost its part headings."""
    first = run[0]
    lead = None
    if first.meta.get("prev_para"):
        s, e = first.meta["prev_para"]
        lead = text[s:e].strip()
    if lead is None and first.parent is not None and first.parent.role == "container":
        lead = first.parent.body
    if lead and (lead.endswith((":", "：")) or "如下" in lead):
        for kind, words in _LEADIN_KINDS:
            if any(w in lead for w in words):
                return kind
    titles = [n.title for n in run if n.role != "container"]
    if not titles:
        return "tasks"
    n = len(titles)
    if sum(1 for t in titles if t.startswith("坚持") or t.endswith("原则") or "原则" in t) * 2 >= n:
        return "principles"
    if (not seen_task_run and sum(1 for t in titles if _PAIR_TITLE.match(t)) * 5 >= n * 3
            and not any(x.children for x in run)):
        return "principles"
    if sum(1 for t in titles if "阶段" in t or _DATE_TITLE.search(t)) * 2 >= n:
        return "steps"
    if "领导" in titles[0] or "保障" in titles[0]:
        return "safeguards"
    return "tasks"


def is_task(node: OutlineNode) -> bool:
    return node.role == "item" and node.part_kind in TASK_KINDS
