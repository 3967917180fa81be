"""Reporting duties: reports and briefings to send, meetings held on a cycle, 通报 (NOTES.md 6).

Each duty has what is reported, its recurrence (daily … yearly, ``once`` for a dated or one-off
report, null when the text gives no frequency: 定期, 及时), the words that give its timing
(due_text) and the receiving body (to). One-off meetings (启动会, 适时召开…) are not duties.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .indicators import Sentence, sentences
from .model import Document, OutlineNode, PlanDraft, Reporting
from .timeexpr import cycle_limit, find_recurrences, find_times, fold

# --------------------------------------------------------------------------- vocabularies (data)

# report verbs (report kind); 报 alone is handled apart
REPORT_VERBS = re.compile(r"报送|上报|呈报|报告|汇报|提交|反映|通报|印发|编发")
# a single 报 as a verb: not part of these words
_BAO_NOT_AFTER = set("举申通简专月周季年日情预快海画汇回上呈电公")
_BAO_NOT_BEFORE = set("告批审备名销考到道刊纸表送效账复")
# meetings held on a cycle; 会议/调度 need a cycle word, these are periodic by themselves
PERIODIC_MEETINGS = re.compile(r"例会|会商|议稳")
MEETINGS = re.compile(r"会议|调度(?!使用|资源|力量|指挥)|(?<=召开)[^,,。;;会]{0,8}?会(?![议商同签审计员长场所])|"
                      r"(?<=举行)[^,,。;;会]{0,8}?会(?![议商同签审计员长场所])")
_MEETING_NAME = re.compile(r"[\u4e00-\u9fff]{0,6}(?:会议|调度|会)$")
REPORT_NOUNS = re.compile(r"(?:阶段性|专题|工作|年度|试点|季度|月度)?总结(?:报告)?|[\u4e00-\u9fff]{0,8}?报告|简报|专报|"
                          r"月报|周报|季报|年报|日报")
NOUN_VERBS = re.compile(r"(?:形成|提交|撰写|报送|上报|做好|建立|健全|印发|编发|编写|执行|落实|实行)$")
# words that make a 报/报告/汇报 something else
NOT_A_DUTY = re.compile(r"汇报如下|报告如下|了汇报|汇报了|登记报告|报告和|报告与|通报批评|通报表扬|举报|申报|"
                        r"上报的|报批|报审|鉴定报告|审计报告|评估报告|的(?:上报|报送|报告|汇报)|(?:上报|报送)(?:及时|率)")
ATTRIBUTIVE = re.compile(r"(?:接到|根据|按照|依据|对)[^,,。;;]{0,14}(?:上报|报送)")
VAGUE_TIMING = re.compile(r"定期印发|定期报送|定期|及时上报|及时|常态化|随时|适时|根据时间节点|按时|不定期")
EVENT_AFTER = re.compile(r"[\u4e00-\u9fff]{2,14}?(?:结束|竣工|完成|验收|完工|到位)后")
# a report due within a time of an event (险情发生后30分钟内电话报告): no cycle, timing given
WITHIN = re.compile(r"(?:\d+|[一二两三四五六七八九十半]+)\s*(?:分钟|小时|个工作日|工作日|日|天)(?:之内|内)")
ONE_OFF = re.compile(r"总结报告|实施方案|名单|申请|花名册|验收|自评|材料|申报书|试点总结|工作总结|方案")
ONE_OFF_MEETING = re.compile(r"启动会|推进会|现场会|交流会|研讨会|动员会|部署会|座谈会|总结会|培训会")
CYCLE_WORDS = re.compile(r"本月|上月|当月|月度")
YEAR_WORDS = re.compile(r"年度|本年|当年|上年")
QUARTER_WORDS = re.compile(r"本季度|上季度|季度")
_TO_AFTER = re.compile(r"^(?:报送至|报送|上报|报至|报|送至|至|给|到)?\s*(?P<to>[^,,。;;\s]{2,24}?)(?=审核|审批|备案|研究|$|[,,。;;]|一份)")
_TO_BEFORE = re.compile(r"向(?P<to>[^,,。;;向]{2,24}?)(?:及时|定期|作|进行|提交|报送|上报|报告|汇报|反映|报)")


# patterns used below, compiled once
_HANDS_OVER = re.compile(r"将|把")
_ENDS_WITH_BEFORE = re.compile(r"前$|前[,,]?\s*$")
_BEFORE_WORD = re.compile(r"前")
_REPORTABLE_NOUN = re.compile(r"总结|报告|计划|方案|名单|材料|情况|进度")
_SUBMIT_VERB = re.compile(r"报送|提交|报[^告批审申]")
_BULLETIN_BEFORE = re.compile(r"简报|专报|快报|通报|信息")
_BULLETIN = re.compile(r"简报|专报|快报")
_DOCUMENT_AFTER = re.compile(r"文件|通知|方案")
_VERBAL_BEFORE = re.compile(r"每[年季月周天日]|定期|及时|向|并|要|应|每月|按时|电话|书面|口头|内$")
_NOUN_REPORT_BEFORE = re.compile(r"(?:形成|提交|撰写|报送|上报|建立|健全|执行|落实)[\u4e00-\u9fff]{0,10}$")
_SYSTEM_AFTER = re.compile(r"制度|报表")
_PERIODIC_WORD = re.compile(r"定期|一[月季年周]一|每[两二三四五六]个?(?:月|周|星期|季度|年)")
_ONCE_AFTER = re.compile(r"[^,,。;;]{0,6}?(?:一次|1次|至少召开\d次|召开一次)")
_REPORT_NOUN_PHRASE = re.compile(r"(?:形成|提交|撰写|报送|上报|建立|健全|执行|落实|实行|做好)(?P<x>[\u4e00-\u9fff]{0,12}$)")
_SYSTEM_WORD = re.compile(r"(?:机制|制度)")
_NOUN_TAIL = re.compile(r"(?P<x>[\u4e00-\u9fff]{0,6})$")
_HAND_OVER_OBJECT = re.compile(r"将(?P<x>[^,,。;;]{2,40}?)(?:向[^,,。;;]{2,24}?)?(?:报送|上报|报告|汇报|报|提交)")
_TOPIC_DUE = re.compile(r"\s*(?P<x>[^,,。;;]{2,30}?)于[^,,。;;]{2,16}?(?:报送|上报|报)")
_MODAL = re.compile(r"[要应将请]")
_MADE_DOC = re.compile(r"(?:制定|制订|形成|编制|拟定|完成)(?P<x>[\u4e00-\u9fff]{1,16}?(?:方案|计划|报告|名单|清单|总结))"
                       r"[,,]\s*$")
_OBJECT_AFTER = re.compile(r"(?:至|给|到)?(?P<x>[^,,。;;]{2,40})")
_OBJECT_END = re.compile(r"报送|上报|报|审核|审批")
_BODY_NAME = re.compile(r"[\u4e00-\u9fff()（）]{2,24}?(?:部|委|厅|局|办|处|室|院|司|组|会|府|中心|部门)$")
_NOT_A_RECEIVER = re.compile(r"(?:情况|进展|工作|信息|材料|制度|机制|有关|送)")
_RECEIVER_HINT = re.compile(r"[部委厅局办处室院司组会府中心]|我司|@")
_BULLETIN_NAME = re.compile(r"[\u4e00-\u9fff]{0,16}(?:简报|专报|快报)(?:、(?:简报|专报|快报))?")
_BULLETIN_VERB = re.compile(r"^(?:建立|编发|印发|编写)")
_RECURRING_HINT = re.compile(r"阶段性|定期|进展|进度")
_ITEM_MARK = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[.．、])")


@dataclass
class _Duty:
    kind: str  # report | meeting | notice
    what: str
    recurrence: str | None
    due_text: str | None
    to: str | None
    start: int
    end: int
    timing_explicit: bool


def _clauses(text: str) -> list[tuple[int, str]]:
    """Comma-delimited clauses of a sentence (brackets kept whole)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "(（《“":
            depth += 1
        elif ch in ")）》”":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in ",,;;":
            out.append((start, text[start:i + 1]))
            start = i + 1
    if start < len(text):
        out.append((start, text[start:]))
    if any(len(c) > _MAX_CLAUSE for _, c in out):  # run-on text: bounded pieces keep the work linear
        out = [(o + k, c[k:k + _MAX_CLAUSE]) for o, c in out for k in range(0, len(c), _MAX_CLAUSE)]
    return out


_MAX_CLAUSE = 300


def _single_bao(clause: str, before: str = "") -> int:
    """Position of a 报 used as a verb ('并于2015年1月30日前报我司', '将…报区民政局'), or -1.
    ``before``: the words before the clause (制定创建方案,报省卫生健康委备案)."""
    for i, ch in enumerate(clause):
        if ch != "报":
            continue
        prev = clause[i - 1] if i else ""
        nxt = clause[i + 1] if i + 1 < len(clause) else ""
        if prev in _BAO_NOT_AFTER or nxt in _BAO_NOT_BEFORE or not nxt:
            continue
        head = (before + clause[:i])[-40:] if i < 2 else clause[max(0, i - 40):i]
        if _HANDS_OVER.search(head) or _ENDS_WITH_BEFORE.search(head) or _BEFORE_WORD.search(head[-12:]) \
                or _REPORTABLE_NOUN.search(head[-16:]):
            return i
    return -1


def _triggers(clause: str, sentence: str = "", before: str = "") -> list[tuple[str, int, int]]:
    """(kind, start, end) of the duty words of a clause."""
    if NOT_A_DUTY.search(clause) and not _SUBMIT_VERB.search(NOT_A_DUTY.sub("", clause)):
        return []
    out = []
    masked = NOT_A_DUTY.sub(lambda m: "□" * len(m.group(0)), clause)
    masked = ATTRIBUTIVE.sub(lambda m: "□" * len(m.group(0)), masked)
    for m in REPORT_VERBS.finditer(masked):
        word = m.group(0)
        if word == "通报":
            out.append(("notice", m.start(), m.end()))
        elif word == "反映":
            if "向" in masked[:m.start()]:
                out.append(("report", m.start(), m.end()))
        elif word in ("印发", "编发"):
            if _BULLETIN_BEFORE.search(masked[:m.start()]) or (
                    _BULLETIN.search(sentence) and not _DOCUMENT_AFTER.search(masked[m.end():])):
                out.append(("report", m.start(), m.end()))
        elif word == "报告":
            before = masked[:m.start()]
            after = masked[m.end():m.end() + 3]
            verbish = _VERBAL_BEFORE.search(before[-8:]) or \
                after.startswith(("情况", "进展", "工作", "试点"))
            nounish = _NOUN_REPORT_BEFORE.search(before) \
                or after.startswith("制度")
            if verbish or nounish:
                out.append(("report", m.start(), m.end()))
        else:
            out.append(("report", m.start(), m.end()))
    k = _single_bao(masked, before)
    if k >= 0 and not any(s <= k < e for _, s, e in out):
        out.append(("report", k, k + 1))
    if not out:
        for m in REPORT_NOUNS.finditer(masked):
            noun = m.group(0)
            before = masked[:m.start()]
            if noun.endswith(("月报", "周报", "季报", "年报", "日报")) and _SYSTEM_AFTER.search(masked[m.end():m.end() + 3]):
                out.append(("report", m.start(), m.end()))
            elif NOUN_VERBS.search(before) and ("总结" in noun or "报告" in noun or noun in ("简报", "专报")):
                if "报告" in noun or "总结" in noun:
                    out.append(("report", m.start(), m.end()))
    if PERIODIC_MEETINGS.search(masked):
        m = PERIODIC_MEETINGS.search(masked)
        out.append(("meeting", m.start(), m.end()))
    else:
        cycle = bool(find_recurrences(masked) or _PERIODIC_WORD.search(masked))
        for m in MEETINGS.finditer(masked):
            name = _MEETING_NAME.search(masked, max(0, m.start() - 6), m.end())
            held = masked[m.start():m.end()]
            if not cycle or (ONE_OFF_MEETING.search(held) and not cycle):
                continue
            if name and ONE_OFF_MEETING.search(name.group(0)) and not cycle:
                continue
            out.append(("meeting", m.start(), m.end()))
            break
    return out


def _timing(clause_list: list[tuple[int, str]], idx: int, sentence: str, a: int = 0, b: int = 0
            ) -> tuple[str | None, str | None, bool]:
    """(recurrence, due_text, explicit) for the duty in clause ``idx``: cycle words attached to
    the duty word (月调度, 季通报), then its own clause, then the clauses before it."""
    _, own = clause_list[idx]
    for r in find_recurrences(own):
        if r.start <= b and r.end >= a - 1 and (r.end >= a or own[r.end:a] in ("", "一")):
            return r.kind, (r.text if r.end <= a else own[r.start:max(r.end, b)]), True
    order = [idx] + list(range(idx - 1, max(-1, idx - 4), -1))
    for k in order:
        _, clause = clause_list[k]
        cyc = cycle_limit(clause)
        recs = find_recurrences(clause)
        if recs:
            kinds = {r.kind for r in recs}
            kind = kinds.pop() if len(kinds) == 1 else None
            words = cyc[2] if cyc else _cycle_words(clause, recs)
            return kind, words, True
        limits = [e for e in find_times(clause) if e.role in ("limit", "cycle")]
        if limits:
            return "once", limits[-1].phrase, True
        ev = EVENT_AFTER.search(clause)
        if ev:
            return "once", ev.group(0).lstrip("在于待"), True
        within = WITHIN.search(clause) if k == idx else None
        if within:
            return None, within.group(0), True
        vague = VAGUE_TIMING.search(clause)
        if vague:
            return None, vague.group(0), True
        if k != idx and k < idx - 2:
            break
    return None, None, False


def _cycle_words(clause: str, recs) -> str:
    """The cycle words as the clerk copies them: 一月一调度, 每季度, 至少每3个月听取一次."""
    first, last = recs[0], recs[-1]
    start, end = first.start, last.end
    m = _ONCE_AFTER.match(clause[end:])
    words = clause[start:end]
    pre = clause[max(0, start - 2):start]
    if pre.endswith("至少"):
        words = "至少" + words
    if m and len(m.group(0)) <= 8:
        words += m.group(0)
    return words


def _what(kind: str, clause: str, pos: int, end: int, made_before: str = "") -> tuple[str, bool]:
    """(what is reported, whether the clause names it)."""
    text = clause.strip(" ,,;;。")
    if kind == "meeting":
        return _meeting_name(clause, pos, end), True
    word = clause[pos:end]
    # a report named as a noun: 平安建设报告制度, 工程进度月报制度, 形成专题总结报告
    if word in ("报告", "总结") or word.endswith(("报", "总结报告")) and word not in ("上报", "报送", "呈报", "汇报", "通报"):
        m = _REPORT_NOUN_PHRASE.search(clause[:pos])
        if m:
            return m.group("x") + word, True
    # 请示汇报机制, 信息报送制度
    if _SYSTEM_WORD.match(clause[end:]):
        m = _NOUN_TAIL.search(clause[:pos])
        return (m.group("x") if m else "") + word, True
    # 印发 a bulletin named earlier in the sentence
    if word in ("印发", "编发"):
        return "", False
    # 制定X方案,报…备案: the document made in the clause before
    if word == "报" and pos <= 1 and made_before:
        return made_before, True
    # 将X报…
    m = _HAND_OVER_OBJECT.search(clause)
    if m:
        return m.group("x"), True
    # X于…前上报
    m = _TOPIC_DUE.match(clause)
    if m and not _MODAL.search(m.group("x")) and not _looks_like_body(m.group("x").strip()):
        return m.group("x"), True
    # 报送X, 形成X, 提交X, 汇报X
    if word != "报":
        m = _OBJECT_AFTER.match(clause[end:])
        if m:
            x = _OBJECT_END.split(m.group("x"), maxsplit=1)[0].strip()
            if x and not _looks_like_body(x) and len(x) >= 2 and x[0] not in "(（《“" \
                    and not _COUNT_OBJECT.match(x):
                return x, True
    return text, False


_MEETING_VERB = re.compile(r"(?:召开|举行|举办|开展|建立|健全|落实|实行|实施|组织|坚持|推行|完善)")
_MEETING_COUNT = re.compile(r"^(?:[一二两三四五六七八九十\d]+次|至少|定期|每[年季月周]度?|一次|一[月季年周]一)+")
_LEAD_WORDS = re.compile(r"^(?:并|和|及|同时|要|应|将|建立|健全|落实)")
_MEETING_SUBJECT = re.compile(r"^[\u4e00-\u9fff]{2,10}?(?=每|定期|至少|要|应|将|召开|一[月季年周]一)")


def _meeting_name(clause: str, pos: int, end: int) -> str:
    """领导小组每年至少召开1次会议 → 领导小组会议; 建立定期例会制度 → 例会."""
    head = clause[max(0, pos - 16):pos]
    verbs = list(_MEETING_VERB.finditer(head))
    noun = head[verbs[-1].end():] if verbs else ""
    noun = _MEETING_COUNT.sub("", noun + clause[pos:end])
    if len(noun) <= 2:
        subject = _MEETING_SUBJECT.match(clause.lstrip())
        if subject and not _MEETING_VERB.search(subject.group(0)) and not _LEAD_WORDS.match(subject.group(0)):
            noun = subject.group(0) + noun
    return noun


def _looks_like_body(x: str) -> bool:
    return bool(_BODY_NAME.match(x)) or bool(_BODY_END.search(x)) or x.startswith(("我司", "我部"))


_COUNT_OBJECT = re.compile(r"[一二两三四五六七八九十\d]+次")
_BODY_END = re.compile(r"(?:街道|乡镇|镇|村|社区|各地|单位|学校|医院|县|区|市|省|政府|部门|局|委|办|组)$")


def _to(clause: str, pos: int, end: int) -> str | None:
    m = _TO_BEFORE.search(clause)
    if m:
        return m.group("to")
    m = _TO_AFTER.match(clause[end:])
    if m and not _NOT_A_RECEIVER.match(m.group("to")):
        to = m.group("to")
        if _RECEIVER_HINT.search(to):
            return to
    return None


def duties_in(s: Sentence) -> list[_Duty]:
    if _is_heading(s):
        return []
    text = s.text
    work = _without_heading(s, s.work or fold(text))
    clause_list = _clauses(work)
    found: list[_Duty] = []
    for idx, (off, clause) in enumerate(clause_list):
        lo, hi = max(0, off - _MAX_CLAUSE), off + len(clause) + _MAX_CLAUSE
        around = work[lo:hi]
        for kind, a, b in _triggers(clause, around, work[max(0, off - 40):off]):
            rec, due, explicit = _timing(clause_list, idx, work, a, b)
            made = _MADE_DOC.search(work[max(0, off - 30):off]) if idx else None
            what, named = _what(kind, clause, a, b, made.group("x") if made else "")
            if not what and kind == "report":
                bulletin = _BULLETIN_NAME.search(around)
                what, named = (bulletin.group(0), True) if bulletin else ("", False)
                what = _BULLETIN_VERB.sub("", what)
            to = _to(clause, a, b) if kind == "report" else None
            if kind == "report" and not named and not explicit:
                continue  # 并上报乡(镇)政府: a step of a procedure, nothing reported
            if kind == "report" and rec is None and not explicit:
                noun_scope = clause + "".join(c for _, c in clause_list[max(0, idx - 1):idx])
                if ONE_OFF.search(noun_scope) and not _RECURRING_HINT.search(noun_scope):
                    rec = "once"
            if kind == "report" and rec in (None, "once"):
                scope = clause[:b + 20]
                if CYCLE_WORDS.search(scope):
                    rec = "monthly"
                elif YEAR_WORDS.search(what) or YEAR_WORDS.search(clause[max(0, a - 4):b + 12]):
                    rec = "yearly"
                elif QUARTER_WORDS.search(scope):
                    rec = "quarterly"
            found.append(_Duty(kind=kind, what=_verbatim(text, work, what, lo, hi), recurrence=rec,
                               due_text=_verbatim(text, work, due, lo, hi) if due else None,
                               to=_verbatim(text, work, to, lo, hi) if to else None,
                               start=s.start + off + a, end=s.start + off + b, timing_explicit=explicit))
    return _merge(found)


_ITEM_HEAD = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[.．、](?!\d))"
                        r"[\u4e00-\u9fff]{2,12}?(?:制度|机制)(?![,,、和与及])")


def _without_heading(s: Sentence, work: str) -> str:
    """A heading such as (七)健全信息报告制度 names a topic, not a duty (it may run into its text
    when line breaks are lost)."""
    m = _ITEM_HEAD.match(work)
    if not m:
        return work
    return "□" * m.end() + work[m.end():]


def _verbatim(text: str, work: str, piece: str, lo: int = 0, hi: int | None = None) -> str:
    """``piece`` (found in the folded text) as the source writes it."""
    k = work.find(piece, lo, hi if hi is not None else len(work))
    return text[k:k + len(piece)] if k >= 0 else piece


def _merge(found: list[_Duty]) -> list[_Duty]:
    """One report described in several clauses of a sentence is one duty."""
    out: list[_Duty] = []
    for d in found:
        prev = out[-1] if out else None
        if prev is not None and prev.kind == d.kind == "report" and _compatible(prev, d):
            prev.to = prev.to or d.to
            if d.recurrence and not prev.recurrence:
                prev.recurrence = d.recurrence
            prev.due_text = prev.due_text or d.due_text
            if len(d.what) < len(prev.what) and d.what:
                prev.what = prev.what if prev.what and len(prev.what) <= 30 else d.what
            prev.end = d.end
            continue
        if prev is not None and prev.kind == d.kind == "meeting" and prev.recurrence == d.recurrence \
                and prev.due_text == d.due_text:
            continue
        out.append(d)
    return out


def _compatible(a: _Duty, b: _Duty) -> bool:
    if a.to and b.to and a.to != b.to:
        return False
    if a.recurrence and b.recurrence and a.recurrence != b.recurrence:
        return False
    if a.due_text and b.due_text and a.due_text != b.due_text \
            and not (a.recurrence and a.recurrence == b.recurrence):
        return False
    return True


_HEADING_BODY = re.compile(r"[,,;;:：]")


_MAY_HOLD_DUTY = re.compile(r"会议|会商|例会|议稳|调度|召开|举行|总结|反映|提交")


def _is_heading(s: Sentence) -> bool:
    """A heading line alone ((七)健全信息报告制度) names a topic; the duty is in its text."""
    text = s.text.strip()
    m = _ITEM_MARK.match(text)
    if not m:
        return False
    if not text.endswith(("。", ".", ";", "；")):
        return len(text) <= 30
    return len(text) - m.end() <= 12 and not _HEADING_BODY.search(text)  # (二)按时报送。


def extract_reporting(doc: Document, roots: list[OutlineNode], draft: PlanDraft,
                      sents: list[Sentence] | None = None) -> None:
    sents = sents if sents is not None else sentences(doc, roots)
    out: list[Reporting] = []
    for s in sents:
        if s.part_kind in ("guiding", "principles") or _is_heading(s):
            continue
        if "报" not in s.text and not _MAY_HOLD_DUTY.search(s.text):
            continue
        for d in duties_in(s):
            out.append(Reporting(what=d.what.strip(" ,,。;;"), recurrence=d.recurrence,
                                 due_text=d.due_text, to=d.to, span=(d.start, d.end)))
    draft.reporting = out
