"""The plan's title, issuing body and domain.

``find_title_line`` is also used by ``outline`` so the title line is never read as a heading.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

from .model import Document, OutlineNode, PlanDraft
from .textutil import cjk_count, fold, squeeze

# Domains of the schema, each with the words that name it (first match in the title wins,
# otherwise the most frequent in the text).
DOMAINS: list[tuple[str, tuple[str, ...]]] = [
    ("安宁疗护", ("安宁疗护", "临终关怀")),
    ("医养结合", ("医养结合",)),
    ("现代学徒制", ("学徒制",)),
    ("医共体", ("医共体", "医疗卫生共同体", "医疗共同体", "县域医共体")),
    ("农村危房改造", ("危房改造", "农村危房")),
    ("共青团基层组织建设", ("共青团", "团组织", "团建")),
    ("社会心理服务体系", ("社会心理服务", "心理服务体系", "心理健康服务")),
    ("市域社会治理", ("市域社会治理", "市域治理")),
    ("基层治理", ("基层治理", "基层社会治理")),
]

_TITLE_WORDS = ("方案", "意见", "通知", "办法", "计划", "规划", "要点", "细则", "报告", "纲要",
                "决定", "规定", "安排", "总结", "通报", "纪要", "要求", "措施", "指引")
_TAG = re.compile(r"^[【\[]\s*[^】\]]{1,8}[】\]]\s*")  # 【篇三】 compilation tags
_TRAIL_TAG = re.compile(r"篇[一二三四五六七八九十]{1,3}$")
_MARKER_START = re.compile(r"^\s*(?:[一二三四五六七八九十]{1,3}[、.．]|[(（][一二三四五六七八九十\d]{1,3}[)）]"
                           r"|\d{1,2}[.．、]|第[一二三四五六七八九十]{1,3}[章节部篇条])")
_ATTACH = re.compile(r"^\s*附件\s*\d*\s*[:：]?\s*$")
_BODY_PUNCT = re.compile(r"[。，,；;！？!?]")
_QUOTED_PLAN = re.compile(r"(?:制定|制订|印发|出台)(?:了|本|如下)?《([^《》]{4,60}?(?:方案|意见|办法|计划|规划|细则)"
                          r"(?:[(（][^()（）《》]{1,20}[)）])?)》")
_ISSUER_SUBJECT = re.compile(
    r"(?:^|[,，。;；])\s*([\u4e00-\u9fff]{0,20}?(?:委员会|人民政府|政府|办公室|办公厅|中心|学院|学校|大学"
    r"|团中央|党委|委|局|厅|部|院))(?:决定|特制定|制定|按照|根据|结合)")
_ORG_PREFIX = re.compile(r"^([\u4e00-\u9fffxX*]{2,20}?(?:学院|学校|大学|中心|医院|公司|委员会|人民政府))"
                         r"(?=[\u4e00-\u9fff])")
_SIGNATURE = re.compile(r"^([\u4e00-\u9fff()（）]{3,30}?(?:委员会|人民政府|政府|办公室|办公厅|中心|学院|学校"
                        r"|大学|医院|公司|委|局|厅|部|院|所))\s*(?:\d{4}\s*年.*)?$")
_GENERIC_TITLE = re.compile(r"试点|工作|实施|方案|意见|通知|篇[一二三四五六七八九十]+|[()（）\d年—-]")
_ABOUT = re.compile(r"^(.{2,30}?)关于")
_SUFFIX = re.compile(r"(?:维吾尔自治区|壮族自治区|回族自治区|自治区|自治州|自治县|特别行政区|省|市|县|区|旗|盟|地区)$")


@functools.lru_cache(maxsize=1)
def _places() -> tuple[frozenset[str], dict[str, dict[str, str]]]:
    """Full place names (provinces, prefectures, counties), and the short forms of provinces and
    prefectures (甘肃, 杭州) -> full name. County short forms are left out: many are common words."""
    full: set[str] = set()
    short: dict[str, str] = {}
    path = Path(__file__).with_name("places.txt")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    for line in lines:
        level, _, name = line.strip().partition("\t")
        if not name or level.startswith("#"):
            continue
        full.add(name)
        if level in ("P", "C"):
            s = _SUFFIX.sub("", name)
            if len(s) >= 2:
                short.setdefault(s[:2], {}).setdefault(s, name)
    return frozenset(full), short


_PLACE_END = re.compile(r"[省市县区旗盟州]")


@functools.lru_cache(maxsize=1)
def _short_starts() -> re.Pattern | None:
    """A character class of the first characters of the short place names (甘 of 甘肃): the
    scan below stops only where a short name may start."""
    _, short = _places()
    if not short:
        return None
    return re.compile("[" + re.escape("".join(sorted({k[0] for k in short}))) + "]")


def _place(text: str) -> str:
    """The place the plan is about: the place name mentioned most often (at least twice)."""
    full, short = _places()
    text = text[:30_000]
    counts: dict[str, int] = {}
    for m in _PLACE_END.finditer(text):
        j = m.end()
        for k in range(8, 1, -1):
            name = text[max(0, j - k):j]
            if len(name) == k and name in full:
                counts[name] = counts.get(name, 0) + 1
                break
    # short forms (甘肃, 杭州) not followed by their suffix, found through their first two characters
    starts = _short_starts()
    for m in (starts.finditer(text) if starts is not None else ()):
        i = m.start()
        group = short.get(text[i:i + 2])
        if group:
            for s, name in group.items():
                if text.startswith(s, i) and not text.startswith(name, i):
                    counts[name] = counts.get(name, 0) + 1
    best = max(counts.items(), key=lambda kv: (kv[1], len(kv[0])), default=("", 0))
    return best[0] if best[1] >= 2 else ""


def find_title_line(doc: Document) -> int | None:
    """Index of the document's title line, or None when the text starts with body text."""
    seen = 0
    for line in doc.lines:
        text = line.text.strip().strip("\u3000\ufeff")
        if not text:
            continue
        seen += 1
        if seen > 6:
            return None
        if _ATTACH.match(text) or len(squeeze(text)) <= 2 or text.rstrip().endswith((":", "：")):
            continue
        if _BODY_PUNCT.search(text) or len(text) > 80 or "\t" in text:
            return None
        if _MARKER_START.match(text):
            return None
        if cjk_count(text) >= 4:
            return line.index
    return None


def _clean_title(text: str) -> str:
    text = squeeze(text.strip())
    text = _TAG.sub("", text)
    text = _TRAIL_TAG.sub("", text)
    return text


def _domain(title: str, text: str) -> str:
    for name, words in DOMAINS:
        if any(w in title for w in words):
            return name
    best, best_count = "other", 0
    head = text[:800]  # the preamble states what the plan is for: its words weigh three times
    for name, words in DOMAINS:
        count = sum(text.count(w) + 2 * head.count(w) for w in words)
        if count > best_count:
            best, best_count = name, count
    return best if best_count >= 2 else "other"


def _preamble(doc: Document, title_line: int | None, limit: int = 3) -> list[str]:
    out = []
    for line in doc.lines:
        if line.index == title_line:
            continue
        text = line.text.strip()
        if len(text) < 10:
            continue
        if _MARKER_START.match(text):
            break
        out.append(text)
        if len(out) >= limit:
            break
    return out


def _issuer(doc: Document, title: str, title_line: int | None) -> str | None:
    for para in _preamble(doc, title_line):
        for m in _ISSUER_SUBJECT.finditer(fold(para)):
            name = m.group(1)
            if len(name) >= 3 and not name.startswith(
                    ("为", "按照", "根据", "依据", "结合", "贯彻", "落实", "由")):
                return para[m.start(1):m.end(1)]
    m = _ORG_PREFIX.match(title)
    if m:
        return m.group(1)
    m = _ABOUT.match(title)  # 国务院办公厅关于…的实施意见
    if m and re.search(r"(?:委员会|政府|办公厅|办公室|委|局|厅|部|院|中心|团中央)$", m.group(1)):
        return m.group(1)
    # a signature line (body name, then a date) among the last lines
    tail = [ln.text.strip() for ln in doc.lines[-6:] if ln.text.strip()]
    for text in reversed(tail[-3:]):
        if _BODY_PUNCT.search(text):
            continue
        m = _SIGNATURE.match(text)
        if m and len(text) <= 40:
            return m.group(1)
    return None


def _is_artifact(title: str, body: str) -> bool:
    """A title line whose own words never occur in the text (a scraped page's stray heading)."""
    core = _GENERIC_TITLE.sub("", title)
    if len(core) < 2:
        return False
    return not any(core[i:i + 2] in body for i in range(len(core) - 1))


def describe(doc: Document, roots: list[OutlineNode], draft: PlanDraft) -> None:
    """Fill draft.title, draft.issuer and draft.domain."""
    title_line = find_title_line(doc)
    title = _clean_title(doc.lines[title_line].text) if title_line is not None else ""
    if title:
        body = doc.text[doc.lines[title_line].end:doc.lines[title_line].end + 100_000]
        if _is_artifact(title, body):
            title = ""
    if not title:
        for para in _preamble(doc, title_line):
            m = _QUOTED_PLAN.search(para)
            if m:
                title = squeeze(m.group(1))
                break
    domain = _domain(title, doc.text[:200_000])
    if not title:
        title = _place(doc.text) + (domain if domain != "other" else "") + "试点工作实施方案"
    draft.title = title
    draft.domain = domain
    draft.issuer = _issuer(doc, title, title_line)
