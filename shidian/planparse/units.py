"""Responsible units of each task, and the index of unit names by canonical form.

Where the plan attaches an attribution to an item or a group, that alone gives the units:

    (区委宣传部、区卫健委牵头,区教育局、区文体旅局配合)        parenthetical roles
    (牵头单位:市委政法委,市卫生健康委;责任单位:市教育局…)     labelled parenthetical
    责任单位:县卫生健康局、县委宣传部(排名第一为牵头单位,下同)  a line, with the first-is-lead rule
    责任小组:涉农土地治理责任小组                              a group's line, inherited by its items
    (区卫健委负责)

Otherwise the doers are read from the prose: the subject of a clause (X要/应/将/负责…, 由X…,
请X…), the object of 会同, and 牵头 (X牵头, 由X牵头, X负责牵头…, X发挥牵头部门作用) for the lead.
Whether a phrase names a body is decided from data tables below: endings of body names (局, 委,
部门, 中心 …), collective subjects (各地, 各镇(街道), 试点地区 …), bare department names used in
lists (卫生健康、民政等部门) and verbs a body name never starts with.

``build_unit_index`` groups the names by canonical form: abbreviations are expanded from the
ABBREVIATIONS table (卫健委 → 卫生健康委), 委员会 → 委 and 中共X委宣传部 → X宣传部, so 区卫健委,
区卫生健康委 and 区卫生健康委员会 share one entry while 县卫生健康局 keeps its own.
"""
from __future__ import annotations

import functools
import re
import unicodedata

from .model import Document, PlanDraft, Task
from .textutil import fold, folded_text, split_top, squeeze

# --------------------------------------------------------------------------- vocabularies

# endings of body names, longest first where one contains another
UNIT_SUFFIXES = (
    "委员会", "领导小组办公室", "领导小组", "工作小组", "责任小组", "专项组", "工作组", "专班", "小组",
    "办公室", "办公厅", "人民政府", "政府", "党委", "党组", "党工委", "工委", "管委会", "居委会",
    "村委会", "两委", "委", "局", "厅", "部", "办", "处", "科室", "科", "所", "站", "中心", "医院",
    "卫生院", "学院", "院校", "高校", "中小学校", "学校", "中学", "小学", "幼儿园", "院", "机构",
    "机关", "部门", "单位", "团组织", "组织", "团委", "企业", "公司", "集团", "协会", "学会",
    "联合会", "总工会", "工会", "妇联", "残联", "科协", "侨联", "文联", "团中央", "财政", "医共体",
    "共同体", "银行", "法院", "检察院", "合作社", "社", "队", "馆", "台", "会",
)
# endings that look like a body name but are not one
BAD_ENDINGS = (
    "干部", "全部", "内部", "局部", "外部", "格局", "布局", "结局", "大局", "全局", "开局", "当局",
    "场所", "住所", "处所", "网站", "庭院", "举办", "开办", "承办", "创办", "督办", "代办", "交办",
    "兴办", "包办", "为中心", "重心", "好处", "之处", "到处", "会议", "机会", "社会", "大会",
    "例会", "座谈会", "交流会", "推进会", "现场会", "研讨会", "工作会", "协调会", "联席会", "专题会",
    "晚会", "委员", "队伍", "团队", "梯队", "平台", "舞台", "后台", "阵地", "基地", "结合部",
    "俱乐部", "总部", "本部", "书记处", "诊所", "医共体内", "体制", "融媒体", "顶部", "底部",
    "头部", "尾部", "中部", "东部", "西部", "南部", "北部", "背部",
)
BAD_EXACT = {"组织", "部门", "单位", "机构", "中心", "委", "局", "部", "办", "处", "所", "站",
             "院", "会", "队", "社", "馆", "台", "科", "企业单位", "有关单位", "相关单位"}
# generic bodies that only count as the subject of their own sentence, never after 由/会同
GENERIC = {"有关部门", "相关部门", "有关单位", "相关单位", "各有关方面", "有关方面"}
# names that are bodies by themselves
KNOWN_UNITS = {
    "各地", "当地", "本地", "各级", "我部", "我司", "我厅", "我委", "我局", "我院", "我校", "团中央",
    "医共体", "政府", "企业", "学校", "试点地区", "各试点地区", "试点县", "各试点县", "设区市",
    "省级", "市级", "县级", "乡级", "市(州)", "乡镇", "各乡镇", "各地区", "各部门", "各单位",
    "各成员单位", "成员单位", "牵头医院", "牵头单位", "组织部", "组织部门", "宣传部", "统战部",
    "教育局", "政法委", "文明办", "牵头医疗机构", "牵头机构", "牵头部门", "综治办", "信访办", "党群办", "人大办", "应急办", "老龄办",
}
# department names without an ending, used in lists (卫生健康、民政等部门)
BARE_DEPARTMENTS = {
    "卫生健康", "卫健", "卫生计生", "卫生", "民政", "公安", "司法", "司法行政", "信访", "教育",
    "教体", "财政", "人社", "人力资源社会保障", "人力资源和社会保障", "医保", "医疗保障",
    "发展改革", "发改", "住房城乡建设", "住建", "城乡建设", "自然资源", "国土", "国土资源",
    "生态环境", "环保", "农业农村", "农业", "水利", "林业", "交通运输", "交通", "文化", "旅游",
    "文旅", "文体旅", "文化旅游", "体育", "市场监管", "应急管理", "应急", "统计", "审计", "监察",
    "纪检监察", "税务", "宣传", "组织", "统战", "政法", "政法委", "编办", "机构编制", "网信",
    "工信", "工业和信息化", "经信", "商务", "科技", "残联", "妇联", "团委", "共青团", "工会",
    "科协", "文明办", "综治", "城管", "城市管理", "扶贫", "乡村振兴", "退役军人事务", "民族宗教",
    "民宗", "外事", "气象", "消防", "海关", "广电", "新闻出版", "国家安全", "保密", "档案",
    "大数据", "政务服务", "建设", "规划", "城建", "行政审批", "人防", "粮食", "供销", "金融", "银保监", "证监", "法院",
    "检察院", "人大", "政协", "安监", "市场监督管理", "食药监", "药监", "住房和城乡建设",
    "发展和改革", "老龄", "计生", "防疫", "疾控", "红十字会",
}
# a phrase that starts with one of these is an action, not a body
VERB_STARTS = (
    "鼓励", "引导", "推动", "支持", "依托", "委托", "促进", "探索", "推进", "加强", "建立", "组建",
    "发展", "培育", "整合", "明确", "成立", "设立", "开展", "实施", "落实", "完善", "健全", "发挥",
    "做好", "提供", "提高", "提升", "加快", "加大", "规范", "统筹", "指导", "督促", "利用", "借助",
    "召开", "举办", "开设", "制定", "制订", "配备", "选择", "遴选", "建成", "坚持", "围绕", "按照",
    "根据", "结合", "通过", "对", "向", "为", "把", "将", "在", "以", "从", "使", "让", "与", "和",
    "及", "要", "应", "须", "可", "依据", "依照", "参照", "立足", "针对", "注重", "强化", "深化",
    "创新", "构建", "打造", "优化", "拓展", "扩大", "增强", "确保", "保障", "保证", "实行", "推行",
    "执行", "严格", "认真", "切实", "积极", "进一步", "全面", "充分", "广泛", "深入", "大力", "着力",
    "努力", "逐步", "不断", "继续", "同时", "并", "而", "其中", "另外", "此外", "对于", "关于", "凡",
    "如", "若", "当", "即", "也", "还", "都", "均", "已", "正在", "需要", "需", "必须", "应当",
    "可以", "能够", "不", "严禁", "禁止", "加以", "予以", "给予", "确定", "审核", "审查", "接到",
    "负责", "牵头", "会同", "配合", "参与", "协助", "协调", "实现", "形成", "满足", "解决", "提出",
    "研究", "制作", "编印", "组成", "承担", "设置", "选派", "招募", "聘请", "安排", "调整", "核定",
    "核准", "登记", "签订", "填写", "报送", "上报", "汇报", "公示", "公开", "普及", "培训", "帮助",
    "动员", "组织开展", "组织", "倡导", "吸引", "邀请", "争取", "力争", "拓宽", "畅通", "建设",
    "增加", "减少", "防止", "杜绝", "坚决", "严厉", "打击", "开发", "推广", "总结", "评估", "考核",
    "检查", "监督", "督导", "宣传普及", "联合", "依法", "按", "据", "经", "于", "由", "请", "有",
    "是", "其", "此", "该", "本", "这", "那", "每", "各项", "各类人员", "所有", "全体", "一",
    "凡是", "具有", "符合", "属于", "涉及", "包括", "主要", "重点", "特别", "尤其", "着重",
    "资金", "经费", "补助", "当年", "今年", "明年", "立即", "抓好", "抓紧", "及时", "定期", "适时",
    "分析", "允许", "报", "移交", "协同", "抽调", "召集", "联系", "依靠", "带动", "部署", "比照",
    "调查", "摸清", "了解", "掌握", "收集", "汇总", "出台", "修订", "设计", "编写", "选取", "选定",
    "抽取", "择优", "筛选", "确认", "认定", "指定", "明确由",
)
# what may follow a body that is the subject of its clause
# what may follow a body that is the subject of its clause (modals and verbs)
TRIGGER_WORDS = (
    "要", "应", "须", "必须", "需", "将", "可", "能", "会同", "牵头", "负责", "配合", "参与", "协助",
    "协同", "协调", "统一", "统筹", "主动", "积极", "认真", "切实", "共同", "分别", "联合", "具体",
    "依法", "按照", "根据", "依据", "结合", "针对", "围绕", "对", "向", "在", "于", "从", "通过", "以",
    "把", "是", "作为", "也", "都", "均", "还", "已", "每", "定期", "及时", "进一步", "加强", "加快",
    "加大", "建立", "设立", "设置", "成立", "组建", "组织", "开展", "提供", "制定", "制订", "做好",
    "发挥", "落实", "完善", "推进", "推动", "推广", "确定", "审核", "审查", "接到", "实行", "实施",
    "承担", "履行", "召开", "举办", "开设", "安排", "选择", "招募", "配备", "研究", "抓好", "指导",
    "督促", "监督", "检查", "下达", "拨付", "上报", "报送", "给予", "整合", "利用", "依托", "探索",
    "培育", "支持", "引导", "鼓励", "健全", "强化", "深化", "建成", "形成", "确保", "优化", "创建",
    "打造", "构建", "提升", "提高", "增强", "扩大", "实现", "办理", "处理", "进行", "加入", "签订",
    "签署", "邀请", "采取", "制作", "编制", "会商", "组成", "保留", "管理", "预拨", "发放", "审批",
    "核查", "复查", "抽查", "验收", "继续", "不断", "全面", "广泛", "深入", "大力", "着力", "务必",
    "必要时", "重点", "提交", "专门", "直接", "适时", "逐步", "至少", "不得", "严禁", "要求", "请",
    "推荐", "全部", "参加", "申报", "接入", "上传", "每年", "每季度", "每月", "遴选", "选取",
)
_TRIGGER = re.compile(
    r"(?:之间|之中)?(?:(?:\d{4}年)?\d{1,2}月(?:\d{1,2}日)?(?:底|末|中旬|上旬|下旬)?(?:前|以前)?)?"
    r"(?!实施方案|工作方案|实施细则|方案|负责人|负责同志)(?:"
    + "|".join(sorted(map(re.escape, TRIGGER_WORDS), key=len, reverse=True)) + ")")
# trigger words that also begin body names: 区委|组织部 is one name, not 区委 + 组织
NOUN_TRIGGERS = ("组织部", "统筹办", "协调办", "协调小组", "管理局", "管理处", "管理办", "管理委",
                 "监督局")
_TRIGGER_FIRST = frozenset(w[0] for w in TRIGGER_WORDS) | frozenset("之0123456789")
_DENG = re.compile(r"等(?:有关|相关|其他)?(?:\d+|[一二三四五六七八九十]+)?个?(?:部门|单位|机构|方面)?$")
_JUR_BARE = re.compile(r"^(?:省|市|县|区|乡|镇|村|自治区|直辖市|地级市|县级市|自治州|自治县|旗|盟)$")
_JUR_COLLECTIVE = re.compile(
    r"^(?:各|地方各级|各级)(?:省|市|县|区|乡|镇|村|街道|社区|乡镇|地区|地|旗|州)(?:级)?$"
    r"|^(?:省级|市级|县级|区级|乡级|镇级|设区市|市\(州\)|乡镇|街道|当地|各地)$"
    r"|^各?设区的市$"
    # the places a pilot runs in, as the doers of its tasks (试点区要…, 各示范县…)
    r"|^(?:各|全部|所有)?(?:试点|示范|创建|项目)(?:省|市|县|区|县区|县\(市、区\)|地区|城市|乡镇|镇|街道|"
    r"社区|村|园区)$")
_LEVEL_BARE = re.compile(r"^(?:各|地方各级|各级|本级)?(?:省|市|县|区|乡|镇)(?:级)?(?:、[县区乡镇])?(.+)$")
_TWO_LEVELS = re.compile(r"^[省市县区乡镇]、[省市县区乡镇](?:两级|三级)$")
_LIST_JOIN = re.compile(r"(?<=[\u4e00-\u9fff)）])(?:及|和|与|或)(?=[\u4e00-\u9fff])")
# words a body name never contains (a phrase holding one is a clause, not a name)
_INNER_BAD = re.compile(
    r"要|应(?!急)|须|将|由|是|可(?!持续)|对(?!外|口)|向|把|根据|按照|依照|通过|允许|制定|分析|调整|"
    r"接到|负责|会同|牵头(?!医院|机构|医疗机构|单位)|纳入|鼓励|引导|支持|依托|委托|确定|探索|加强|"
    r"建立|开展|完善|提供|实施|落实|推进|推动|材料|方案|意见|之间|进行|做好|为|使|让|从|以|(?<!所)在(?!职)|"
    r"成立|明确|至少|审核|审批|统一|移交|提交|每|定期|及时|协调(?!小组|办|委)|"
    r"主要|负责人|同志|工作人员|领导(?!小组|机构|班子)|不得|不能|已|均|都|也|还|并|下设|较|规模|"
    r"立即|抓好|(?<!建|增|开|架|预|假|铺|陈|摆)设(?!区|施|计|备|立的)|遴选|选取|推荐|"
    r"\d+\s*(?:[-—~至]\s*\d+\s*)?[家个所名]")
# "经我部批准的试点单位" / "合作院校所在省…教育部门": the body named after the qualifier
_OWNER_PREFIX = re.compile(r"^(?:经[^,，。]{1,12}?(?:批准|同意|认定|确定)的|所在(?=[^地]))")
_REGION_PREFIX = ("试点地区", "各试点地区", "本地区", "当地")
_QUALIFIER_SAME = re.compile(r"[〈<(（][^〈〉<>()（）]*下同[^〈〉<>()（）]*[〉>)）]")
_LEAD_RULE = re.compile(r"(?:排名第一|排在第一|排第一位|列第一位|排在首位|排名首位|第一个单位|居首)"
                        r"[^。;；]{0,10}牵头")
# the note that states the rule, in brackets: (排名第一为牵头单位,下同)
_RULE_NOTE = re.compile(r"[(（〔【][^()（）〔〕【】]{0,30}?(?:排名第一|排在第一|排第一位|列第一位|排在首位|"
                        r"排名首位|第一个单位|居首)[^()（）〔〕【】]{0,30}[)）〕】]")


def first_is_lead_rule(text: str) -> bool:
    """True when the plan says, for all its lists, that the first unit listed leads: a sentence
    of its own (…排名第一的为牵头单位) or a note on one list that adds 下同 / 以下同. A note on one
    list without 下同 is that list's rule only (see ``parse_attribution``)."""
    text = text[:2_000_000]
    for m in _LEAD_RULE.finditer(text):
        note = None
        for n in _RULE_NOTE.finditer(text, max(0, m.start() - 31), min(len(text), m.end() + 31)):
            if n.start() <= m.start() and n.end() >= m.end():
                note = n
                break
        if note is None or "同" in note.group(0):
            return True
    return False


def _ends_with_suffix(s: str) -> bool:
    if s in BAD_EXACT or len(s) < 2:
        return False
    if s.endswith("组织") and len(s) > 3 and _ends_with_suffix(s[:-2]):
        return False  # 领导小组组织(验收): 组织 is the verb
    if s.endswith(BAD_ENDINGS):
        return False
    core = re.sub(r"[(（〈][^()（）〈〉]{0,14}[)）〉]$", "", s) or s
    if core != s and core.endswith(UNIT_SUFFIXES) and not core.endswith(BAD_ENDINGS):
        return len(core) >= 2 and core not in BAD_EXACT
    return s.endswith(UNIT_SUFFIXES)


def _strip_bracket(s: str) -> str:
    """``省级(含中央财政)`` -> ``省级``: a trailing bracket does not change what a name is."""
    if s.endswith((")", "）", "〉")):
        m = re.search(r"[(（〈][^()（）〈〉]{0,16}[)）〉]$", s)
        if m and m.start() > 0:
            return s[:m.start()]
    return s


def element_kind(s: str) -> str:
    """'full' (a body name), 'jur' (a bare place level), 'bare' (a department word) or ''."""
    if not s:
        return ""
    base = _strip_bracket(s)
    if s in KNOWN_UNITS or base in KNOWN_UNITS or s in GENERIC:
        return "full"
    if _JUR_BARE.match(base):
        return "jur"
    if _JUR_COLLECTIVE.match(base) or _JUR_COLLECTIVE.match(s):
        return "full"
    if base.startswith(VERB_STARTS) and base not in BARE_DEPARTMENTS:
        stem = re.sub(r"(?:部门|局|委|厅|办|处|科)$", "", base)
        if stem == base or stem not in BARE_DEPARTMENTS:
            return ""
    if _ends_with_suffix(base):
        return "full"
    if base in BARE_DEPARTMENTS:
        return "bare"
    m = _LEVEL_BARE.match(base)
    if m and m.group(1) in BARE_DEPARTMENTS:
        return "bare"
    return ""


def _is_place(s: str) -> bool:
    """A name that is only a place level (市, 各区, 县(市)): it can share the ending that follows."""
    base = _strip_bracket(s)
    return bool(_JUR_BARE.match(base) or re.match(r"^(?:各|地方各级|各级)?[省市县区乡镇]$", base))


def parse_unit_phrase(p: str, mode: str = "subject") -> list[str] | None:
    got = _parse_unit_phrase(p, mode)
    return list(got) if got is not None else None


@functools.lru_cache(maxsize=8192)
def _parse_unit_phrase(p: str, mode: str) -> tuple[str, ...] | None:
    got = _parse_unit_phrase_uncached(p, mode)
    return tuple(got) if got is not None else None


def _parse_unit_phrase_uncached(p: str, mode: str = "subject") -> list[str] | None:
    """The body names a phrase lists, or None if it is not a list of bodies.

    ``mode`` 'subject' splits lists of bare department names (卫生健康、民政等部门 → 卫生健康,
    民政) unless a level prefix is shared (市住房城乡建设、财政等部门 stays whole); 'object'
    (after 会同) keeps a bare list whole.
    """
    p = p.strip(" ,，、")
    if len(p) < 2 or len(p) > 48 or re.search(r"[《》“”\"。;；:：!?！？\s]", p):
        return None
    m = _OWNER_PREFIX.match(p)
    if m and len(p) > m.end() + 1:
        p = p[m.end():]
    if _INNER_BAD.search(p):
        return None
    first = split_top(_split_joins(p)[0][0], "、")
    if p.startswith(VERB_STARTS) and p not in KNOWN_UNITS and element_kind(p) != "full" and \
            (not first or element_kind(first[0]) == ""):
        return None
    for pre in _REGION_PREFIX:
        if p.startswith(pre) and len(p) > len(pre) + 1 and p[len(pre)] not in "、等要应将":
            rest = _parse_unit_phrase_uncached(p[len(pre):], mode)
            if rest:
                return rest
    # A及B / A和B / A或B: each side a list of its own (住房和城乡建设局 stays one name)
    parts = _split_joins(p)
    if len(parts) > 1:
        out: list[str] = []
        failed = False
        for part, joiner in parts:
            got = _parse_list(part, mode)
            if got is None:
                failed = True
                if joiner == "和":  # 住房和城乡建设局: 和 inside a name
                    out = []
                    break
                continue
            out.extend(got)
        if out:
            return _drop_generic(out)
        if failed and any(j != "和" for _, j in parts[1:]):
            return None
    return _drop_generic(_parse_list(p, mode))


def _drop_generic(names: list[str] | None) -> list[str] | None:
    if names and len(names) > 1:
        kept = [n for n in names if n not in GENERIC]
        return kept or None
    return names


_JOIN_CHARS = re.compile(r"[(（〈)）〉及和与或]")


def _split_joins(p: str) -> list[tuple[str, str]]:
    """(part, joiner before it) for A及B / A和B / A与B / A或B outside brackets."""
    out, depth, cur, joiner = [], 0, 0, ""
    for m in _JOIN_CHARS.finditer(p):
        i, ch = m.start(), m.group(0)
        if ch in "(（〈":
            depth += 1
        elif ch in ")）〉":
            if depth:
                depth -= 1
        elif depth == 0 and 0 < i < len(p) - 1 and p[i - 1:i + 1] != "以及":
            if p[cur:i]:
                out.append((p[cur:i], joiner))
            cur, joiner = i + 1, ch
    if p[cur:]:
        out.append((p[cur:], joiner))
    # 市级或县级团委: a place level before the join shares the ending after it
    if len(out) > 1 and re.search(r"(?:^|所在|^各)[省市县区乡镇]级?$", out[0][0]) and \
            re.match(r"^[省市县区乡镇]", out[1][0]):
        return [(p, "")]
    return out


def _parse_list(p: str, mode: str) -> list[str] | None:
    if _TWO_LEVELS.match(p):
        return [p]
    deng = _DENG.search(p)
    has_deng = bool(deng) and deng.start() > 0
    core = p[:deng.start()] if has_deng else p
    if not core:
        return None
    elements = split_top(core, "、")
    kinds = [element_kind(e) for e in elements]
    if len(elements) == 1:
        k = kinds[0]
        if k in ("full", "bare") and has_deng and re.search(r"相关|有关", deng.group(0)):
            return [p]  # 财政等相关部门
        if k == "full":
            return [elements[0]]
        if k == "bare" and has_deng:
            return [elements[0]]
        if k == "jur" and _strip_bracket(elements[0]) != elements[0] and not has_deng:
            return [elements[0]]  # 县(市、区)
        return None
    if all(k == "jur" for k in kinds) or elements[0] in ("各级", "各类", "各级各类"):
        return [p]
    if _is_place(elements[0]) and "bare" in kinds:
        return [p]  # 各市、县住房城乡建设、财政等部门
    # 各区、县(市)卫生健康局 / 省、自治区、直辖市教育厅: places sharing the ending of the last name
    if _is_place(elements[0]) and kinds[-1] == "full" and re.match(r"^[省市县区乡镇自直]", elements[-1]):
        return [p]
    if "" in kinds:
        if has_deng and kinds[0] != "" and all(len(e) <= 10 for e in elements):
            return [p]
        return None
    if mode == "object" and elements[-1].endswith(("部门", "单位")) and \
            elements[-1][:-2] in BARE_DEPARTMENTS and \
            all(e in BARE_DEPARTMENTS for e in elements[:-1]):
        return [p]  # 会同财政、发展改革部门: the ending is shared, the list stays one string
    if all(k == "full" for k in kinds):
        return elements
    if kinds[-1] == "full" and all(k in ("jur", "bare") for k in kinds[:-1]) and not has_deng:
        return [p]
    # lists of bare department names (卫生健康、民政、公安等部门)
    if mode == "object" or "jur" in kinds:
        return [p]
    if kinds[0] == "bare" and _LEVEL_BARE.match(elements[0]) and \
            _LEVEL_BARE.match(elements[0]).group(1) != elements[0]:
        return [p]  # 市住房城乡建设、财政等部门: the level prefix is shared
    return elements


def _ends_known(p: str) -> bool:
    return any(p.endswith(k) and p[:-len(k)] == "" for k in KNOWN_UNITS)


# --------------------------------------------------------------------------- attributions

# an attribution label: a role (牵头, 责任, 配合 …) and the kind of body (单位, 部门, 科室 …), or a
# person/time label of the same block (牵头领导, 完成时限 …)
_ROLE_WORDS = r"(?:牵头|主责|主办|主管|责任|配合|协办|协助|参与|实施|承办)"
_BODY_WORDS = r"(?:单位|部门|科室|处室|股室|机构|领导)"
_ATTR_LABEL = (r"(?:" + _ROLE_WORDS + _BODY_WORDS + r"|责任主体|责任小组单位|责任小组|分管领导|"
               r"责任人|完成时限|完成时间|时间节点|时限要求|进度要求|工作时限)")
# labels that name persons or times, not bodies
_NOT_UNIT_LABEL = re.compile(r"领导|责任人|时限|时间|节点|进度")
_ATTR_LINE = re.compile(r"^[\s\u3000]*[(（〔【\[]?" + _ATTR_LABEL + r"\s*[:：]")
_ATTR_WORDS = re.compile(r"牵头|配合|负责|责任(?:单位|部门|科室|处室|股室|小组|主体)|参与|协助|协办")
_RULE_WORDS = re.compile(r"排名|第一位|首位|排在第一|排第一")
_ROLE_TAIL = re.compile(r"(?:按职责(?:分工)?|共同|分别|具体|负责|牵头|抓好)*"
                        r"(?:牵头|配合|参与|协助|协办|落实|实施|负责)$")
_LEAD_TAG = re.compile(r"[(（]\s*牵头\s*[)）]$")
_LEAD_NOTE = re.compile(r"[(（]\s*([^()（）]{2,40}?)\s*(?:为|作为|负责)?牵头(?:单位)?\s*[)）]$")
_LABEL_SPLIT = re.compile(_ATTR_LABEL + r"\s*[:：]")


def clean_unit(u: str) -> str:
    u = _QUALIFIER_SAME.sub("", u)
    u = u.strip(" \t\u3000,，、;；:：。.〔〕【】[]")
    u = re.sub(r"^(?:和|及|与|以及)", "", u)
    while u and u[-1] in ")）〉" and _depth(u) < 0:
        u = u[:-1].rstrip()  # the close of the bracket around the whole list: (…;配合单位:X)
    return u


def _depth(s: str) -> int:
    return sum(1 for ch in s if ch in "(（〈") - sum(1 for ch in s if ch in ")）〉")


def clean_title_text(t: str) -> str:
    return t.strip(" \t\u3000。.;；:：")


def split_unit_list(s: str) -> list[str]:
    """Units of an attribution list, split at 、 , ; / and outside brackets."""
    s = _QUALIFIER_SAME.sub("", s or "")
    out = []
    for piece in split_top(s, "、,，;；/"):
        u = clean_unit(piece)
        if u and len(u) <= 40 and not _RULE_WORDS.search(u):
            out.append(u)
    return out


def parse_attribution(content: str) -> tuple[list[str], list[str], list[str]] | None:
    """(leads, units, duty) from the words of an attribution; ``duty`` is a 责任单位 list with no
    lead of its own (its first unit leads under a 排名第一 rule). A rule note inside the
    attribution itself ((列第一位的为牵头单位)) applies to it whatever the rest of the plan says."""
    content = _QUALIFIER_SAME.sub("", content)
    local_rule = bool(_LEAD_RULE.search(content))
    leads: list[str] = []
    units: list[str] = []
    duty: list[str] = []
    found = False
    # labelled sections 牵头单位:…;责任单位:…
    if _LABEL_SPLIT.search(content):
        pieces = []
        marks = list(_LABEL_SPLIT.finditer(content))
        for i, m in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(content)
            pieces.append((m.group(0), content[m.end():end]))
        for label, body in pieces:
            if _NOT_UNIT_LABEL.search(label):
                continue
            body = _RULE_BRACKET.sub("", body)
            body = _NOTE_AFTER.split(body, 1)[0]  # …按职责分工负责。具体任务均涉及…,下同
            if "牵头" in label or "主责" in label or "主办" in label:
                target = leads
            elif label.startswith(("责任单位", "责任部门", "责任主体", "责任科室", "责任处室",
                                   "责任股室", "责任机构")):
                target = duty
            else:
                target = units
            roles = _role_sections(body)
            if roles is not None:  # 责任单位:X牵头,Y配合 / 责任单位:X、Y按职责分工负责
                found = True
                for names, is_lead in roles:
                    (leads if is_lead else target).extend(names)
                continue
            names = split_unit_list(body)
            if not names:
                continue
            found = True
            note = _LEAD_NOTE.search(names[-1])
            if note:  # 责任单位:X、Y(X牵头): the note names the lead among the listed units
                named = split_unit_list(note.group(1))
                names[-1] = names[-1][:note.start()].strip()
                leads.extend(n for n in named if n not in leads)
                names = [n for n in names if n and n not in named]
            tagged = [n for n in names if _LEAD_TAG.search(n)]  # 责任单位:X(牵头)、Y
            if tagged:
                leads.extend(_LEAD_TAG.sub("", n) for n in tagged)
                names = [n for n in names if n not in tagged]
            target.extend(names)
    else:
        # role words: A、B牵头,C、D配合 / A负责
        roles = _role_sections(_NOTE_AFTER.split(content, 1)[0])
        if roles is not None:
            found = True
            for names, is_lead in roles:
                (leads if is_lead else units).extend(names)
    if not found:
        return None
    if local_rule and duty and not leads:
        leads, units = duty[:1], duty[1:] + units
        duty = []
    return leads, units, duty


_RULE_BRACKET = re.compile(r"[(（〔【][^()（）〔〕【】]*(?:排名|第一位|首位|下同)[^()（）〔〕【】]*[)）〕】]")
# a sentence end closes the list; what follows is a note (具体任务均涉及…,不再列出,下同)
_NOTE_AFTER = re.compile(r"[。](?=.)")


def _role_sections(content: str) -> list[tuple[list[str], bool]] | None:
    """[(names, is_lead)] of the clauses of ``content`` that end in a role word (牵头, 配合,
    负责 …); None when no clause does."""
    out = []
    for sec in split_top(content, ",，;；。"):
        m = _ROLE_TAIL.search(sec)
        if not m:
            continue
        names = split_unit_list(sec[:m.start()])
        if not names:
            continue
        if not all(element_kind(n) in ("full", "jur", "bare") or len(n) <= 20 for n in names):
            continue
        out.append((names, "牵头" in m.group(0)))
    return out or None


def find_attributions(text: str, start: int, end: int
                      ) -> list[tuple[list[str], list[str], list[str]]]:
    """Attribution lines and parentheticals inside ``text[start:end]``."""
    out = []
    seg = text[start:end]
    for line in seg.split("\n"):
        if not _ATTR_WORDS.search(line):
            continue
        if _ATTR_LINE.match(line):
            parsed = parse_attribution(_strip_wrapping(line))
            if parsed:
                out.append(parsed)
            continue
        for m in _ATTR_MID.finditer(line):
            # single-line text: "…基层治理 责任单位:党群办、各村(居)委会 进一步强化…"
            words = _mid_attribution_words(line, m.start())
            parsed = parse_attribution(words)
            if parsed:
                out.append(tuple(_trim_tail(x) for x in parsed))
        for (s, e) in _paren_groups(line):
            inner = line[s + 1:e - 1]
            if not _ATTR_WORDS.search(inner) or (_RULE_WORDS.search(inner) and "下同" in inner
                                                 and ":" not in inner and "：" not in inner):
                continue
            after = line[e:e + 2].strip()
            if after and after[0] not in "。.;；,，" and e < len(line.rstrip()) and \
                    not line[e].isspace():  # one-line text: a space ends the paragraph
                continue  # a bracket inside a sentence, not an attribution
            parsed = parse_attribution(inner)
            if parsed and (parsed[0] or parsed[1] or parsed[2]):
                out.append(parsed)
    return out


_ATTR_MID = re.compile(r"(?<=.)(?:(?:牵头|责任|配合|协办|参与)(?:单位|部门|科室|处室)|责任小组)\s*[:：]")


def _mid_attribution_words(line: str, start: int) -> str:
    """The attribution words from ``start`` to the sentence end or a run of spaces."""
    depth = 0
    limit = min(len(line), start + 200)
    label_end = line.find(":", start, limit)
    label_end2 = line.find("：", start, limit)
    i = max(label_end, label_end2) + 1 if max(label_end, label_end2) >= 0 else start
    while i < limit:
        ch = line[i]
        if ch in "(（〈":
            depth += 1
        elif ch in ")）〉" and depth:
            depth -= 1
        elif depth == 0 and (ch in "。!?！？" or ch in " \t\u3000"):
            break
        i += 1
    return line[start:i]


def _trim_tail(names: list[str]) -> list[str]:
    """A list read from running text may run into the next words: the list ends at the first
    piece that is not a body name, keeping the name that piece starts with (…委会进一步… -> …委会)."""
    out = []
    for name in names:
        if parse_unit_phrase(name) == [name]:
            out.append(name)  # a whole name (区委组织部), not a name running into a verb
            continue
        hit = _subject_at(fold(name), 0)  # a body name followed by the verb of the next sentence
        if hit is not None and hit[0] < len(name):
            out.append(name[:hit[0]])
            break
        if element_kind(name):
            out.append(name)
            continue
        break
    return out


_OPEN_ATTR = "(（〔【["
_CLOSE_ATTR = ")）〕】]"


def _strip_wrapping(line: str) -> str:
    """An attribution line without the bracket that wraps it (【责任单位:…】, (责任单位:…))."""
    t = line.strip(" \t\u3000")
    if t[:1] in _OPEN_ATTR:
        t = t[1:]
        if t[-1:] in _CLOSE_ATTR and not _balanced_tail(t):
            t = t[:-1]
    return t.strip()


def _balanced_tail(t: str) -> bool:
    """True when the closing bracket at the end of ``t`` closes a bracket opened inside it."""
    depth = 0
    for ch in t:
        if ch in _OPEN_ATTR:
            depth += 1
        elif ch in _CLOSE_ATTR:
            depth -= 1
    return depth >= 0


_BRACKET_CHARS = re.compile("[" + re.escape(_OPEN_ATTR + _CLOSE_ATTR) + "]")


def _paren_groups(s: str) -> list[tuple[int, int]]:
    """Outermost bracket groups of a line: (…) （…） 〔…〕 【…】 […]."""
    spans, depth, begin = [], 0, 0
    for m in _BRACKET_CHARS.finditer(s):
        i, ch = m.start(), m.group(0)
        if ch in _OPEN_ATTR:
            if depth == 0:
                begin = i
            depth += 1
        elif ch in _CLOSE_ATTR and depth:
            depth -= 1
            if depth == 0:
                spans.append((begin, i + 1))
    return spans


# --------------------------------------------------------------------------- prose subjects

_CLAUSE_SPLIT = re.compile(r"[。！？!?；;，,：:\n]")
_SENT_SPLIT = re.compile(r"[。！？!?；;\n]")
_PREFIX = re.compile(
    r"^(?:(?:同时|并且?|另外|此外|对此|为此|今后|目前|届时|原则上|试点期间|期间|最后|首先|其次|然后"
    r"|汛期|汛前|汛后|节假日|[\u4e00-\u9fff]{1,4}期间)"
    r"[,，]?)?"
    r"(?:(?:到|至|在|从|自)?(?:\d{4}|[*×]{2,4})年(?:\d{1,2}月(?:\d{1,2}日)?)?(?:底|末|前|起|以来|内|初)?"
    r"[,，]?)?(?:(?:\d{1,2}|[*×]{1,4})月(?:(?:\d{1,2}|[*×]{1,4})[日号])?(?:底|末|前|中旬|上旬|下旬)?"
    r"[,，]?)?(?P<intro>由|请)?")
_END_CHARS = frozenset("".join(s[-1] for s in UNIT_SUFFIXES)) | frozenset("门位地级县市区乡镇村道州旗)）〉等面")
_BY = re.compile(r"(?<![理自缘经来])由(?![于此此])")
_JOINT = re.compile(r"会同")
_LEAD_WORD = re.compile(r"(?<![为、])牵头(?!医院|机构|医疗机构|单位|的|、|作用|者)")
_LEAD_WORD2 = re.compile(r"牵头部门作用|牵头作用")
# 由A牵头、B参与的…: A leads, B takes part
_BY_LEAD_PAIR = re.compile(r"由(?P<a>[^,，。;；:：由]{2,40}?)牵头[、,，和及](?P<b>[^,，。;；:：]{2,60}?)"
                           r"(?:共同)?(?:参与|参加|配合|协助|协同)")


def _subject_at(c: str, pos: int, mode: str = "subject") -> tuple[int, list[str]] | None:
    """The longest body-name phrase starting at ``c[pos]`` and followed by a verb or modal."""
    limit = min(len(c), pos + 48)
    n = len(c)
    for e in range(limit, pos + 1, -1):
        if c[e - 1] not in _END_CHARS:
            continue
        if e < n and (c[e] not in _TRIGGER_FIRST or not _TRIGGER.match(c, e)
                      or c.startswith(NOUN_TRIGGERS, e)):
            continue
        if c[e - 1] == "所" and c[e:e + 1] == "在":
            continue
        if e == len(c) and mode != "object":
            continue
        names = parse_unit_phrase(c[pos:e], mode)
        if names:
            return e, names
    return None


def prose_units(text: str, start: int, end: int, folded_doc: str | None = None
                ) -> tuple[list[str], list[str]]:
    """(leads, units) read from the sentences of ``text[start:end]``."""
    leads: list[str] = []
    units: list[str] = []
    folded = folded_doc[start:end] if folded_doc is not None else fold(text[start:end])
    orig = text[start:end]
    sent_start = 0
    for sm in list(_SENT_SPLIT.finditer(folded)) + [None]:
        sent_end = sm.start() if sm else len(folded)
        sent = folded[sent_start:sent_end]
        osent = orig[sent_start:sent_end]
        found: list[tuple[int, int, list[str], bool]] = []  # (pos, end, names, via_by)
        objects: list[tuple[int, list[str]]] = []  # bodies named after 会同
        pair_leads: set[str] = set()
        cpos = 0
        for cm in list(_CLAUSE_SPLIT.finditer(sent)) + [None]:
            cend = cm.start() if cm else len(sent)
            clause = sent[cpos:cend]
            pm = _PREFIX.match(clause)
            p0 = pm.end() if pm else 0
            intro = pm.group("intro") if pm else None
            hit = _subject_at(clause, p0)
            if hit is None and cm is not None and cm.group(0) in ",，" and \
                    _TRIGGER.match(sent, cend + 1) and len(clause) - p0 <= 40:
                whole = parse_unit_phrase(clause[p0:])  # 政法委、卫健委等有关部门,要…
                if whole:
                    hit = (len(clause), whole)
            if hit and not (intro and any(n in GENERIC for n in hit[1])):
                names = [osent[cpos + p0:cpos + hit[0]]] if hit[1] == [clause[p0:hit[0]]] else \
                    hit[1]
                found.append((cpos + p0, cpos + hit[0], names, bool(intro)))
            for bm in _BY.finditer(clause, p0 + 1):
                h = _subject_at(clause, bm.end())
                if h and not any(n in GENERIC for n in h[1]):
                    found.append((cpos + bm.end(), cpos + h[0], h[1], True))
            for jm in _JOINT.finditer(clause):
                h = _object_at(clause, jm.end())
                if h:
                    objects.append((cpos + jm.end(), [n for n in h if n not in GENERIC]))
            cpos = cend + 1
        if "牵头" in sent:
            for pm2 in _BY_LEAD_PAIR.finditer(sent):  # 由A牵头、B参与的… / 由A牵头,B…参加的
                a = parse_unit_phrase(pm2.group("a"))
                bb = parse_unit_phrase(pm2.group("b"))
                if a and bb:
                    found.append((pm2.start("a"), pm2.end("a"), a, True))
                    pair_leads.update(a)
                    objects.append((pm2.start("b"), bb))
        found.sort()
        ordered: list[tuple[int, list[str], bool]] = []
        for i, (p, e, names, _via) in enumerate(found):
            nxt = found[i + 1][0] if i + 1 < len(found) else len(sent)
            tail = sent[e:nxt]
            is_lead = bool(_LEAD_WORD.search(tail) or _LEAD_WORD2.search(tail)
                           or any(n in pair_leads for n in names))
            ordered.append((p, names, is_lead))
        ordered.extend((p, names, False) for p, names in objects)
        for _p, names, is_lead in sorted(ordered, key=lambda x: x[0]):
            (leads if is_lead else units).extend(names)
        sent_start = sent_end + 1
    return _dedupe(leads), [u for u in _dedupe(units) if u not in leads]


def _object_at(c: str, pos: int) -> list[str] | None:
    """Bodies named after 会同 (up to the verb that follows them)."""
    out = []
    seg_end = len(c)
    obj = c[pos:seg_end]
    for piece in re.split(r"(?<=[门位局委])及", obj):
        hit = _subject_at(piece, 0, "object")
        if hit is None:
            piece2 = re.sub(r"代表.*$", "", piece)
            hit = _subject_at(piece2, 0, "object") if piece2 != piece else None
        if hit is None:
            break
        out.extend(hit[1])
    return out or None


def _dedupe(xs: list[str]) -> list[str]:
    seen, out = set(), []
    for x in xs:
        x = clean_unit(x)
        if x and x not in seen:
            seen.add(x)
            out.append(x)
    return out


# --------------------------------------------------------------------------- per task

def assign_units(doc: Document, tasks: list[Task], lead_rule: bool,
                 roots: list | None = None) -> None:
    """Fill lead_units and units of each task from attributions, else from the prose."""
    text = doc.text
    attr_of: dict[int, tuple[list[str], list[str]]] = {}

    def node_attr(node) -> tuple[list[str], list[str]] | None:
        key = id(node)
        if key in attr_of:
            return attr_of[key]
        end = node.end
        if node.children and not node.children[-1].meta.get("line_start", True) and \
                node.children[-1].style in ("cn是", "di"):
            # an attribution closing the paragraph of an item whose list is inline
            # (…。一是…;二是…。(X负责)) belongs to the item; its list items inherit it
            last = node.children[-1]
            while last.children:
                last = last.children[-1]
            line_end = text.find("\n", last.start, last.end + 1)
            end = max(end, last.end if line_end < 0 else line_end)
        found = find_attributions(text, node.start, end)
        block = node.meta.get("attr_block")
        if block:  # the attribution lines after the item's children (see outline)
            found = found + find_attributions(text, block[0], block[1])
        result = None
        if found:
            leads, units, duty = [], [], []
            for l, u, d in found:
                leads += l
                units += u
                duty += d
            if duty and lead_rule and not leads:
                leads, units = duty[:1], duty[1:] + units
            else:
                units = duty + units
            result = (_dedupe(leads), [u for u in _dedupe(units) if u not in leads])
        attr_of[key] = result
        return result

    lead_in_cache: dict[tuple[int, int], list[str]] = {}
    ftext = folded_text(doc)
    run_first: dict[tuple[int, str, int], object] = {}
    for task in tasks:
        node = task.node
        if node is None:
            continue
        attr = node_attr(node)
        anc = node.parent
        while attr is None and anc is not None:
            attr = node_attr(anc)
            anc = anc.parent
        if attr is not None:
            task.lead_units, task.units = list(attr[0]), list(attr[1])
            continue
        body_start = node.meta.get("body_start", node.start)
        title = node.title or ""
        if not node.meta.get("inline") and node.meta.get("seg") and len(title) <= 15 and \
                "," not in title and "，" not in title:
            body_start = max(body_start, node.meta["seg"][1])  # a heading line names no doer
        leads, units = prose_units(text, body_start, node.end, ftext)
        if not leads and not units:
            lead_in = _run_lead_in(node, run_first, roots or [])
            if lead_in:
                if lead_in not in lead_in_cache:
                    l2, u2 = prose_units(text, lead_in[0], lead_in[1], ftext)
                    lead_in_cache[lead_in] = _dedupe(l2 + u2)
                units = list(lead_in_cache[lead_in])
        task.lead_units, task.units = leads, units


def _run_lead_in(node, run_first: dict, roots: list) -> tuple[int, int] | None:
    """The lead-in sentence of the run the node belongs to (stored on the run's first item)."""
    parent = node.parent
    key = (id(parent), node.style, node.meta.get("run", 0))
    first = run_first.get(key)
    if first is None:
        siblings = parent.children if parent is not None else roots
        for sib in siblings:
            k = (id(parent), sib.style, sib.meta.get("run", 0))
            run_first.setdefault(k, sib)
        first = run_first.get(key, node)
    li = first.meta.get("lead_in")
    return li if li and li[1] > li[0] else None


# --------------------------------------------------------------------------- unit index

# abbreviation -> full form (as data: extend freely). Applied to the name after 委员会 → 委.
ABBREVIATIONS: dict[str, str] = {
    "卫健委": "卫生健康委", "卫健局": "卫生健康局", "卫计委": "卫生计生委", "卫计局": "卫生计生局",
    "发改委": "发展改革委", "发改局": "发展改革局", "发展和改革委": "发展改革委",
    "发展和改革局": "发展改革局", "人社局": "人力资源社会保障局", "人社厅": "人力资源社会保障厅",
    "人力资源和社会保障局": "人力资源社会保障局", "人力资源和社会保障厅": "人力资源社会保障厅",
    "住建局": "住房城乡建设局", "住建厅": "住房城乡建设厅", "住房和城乡建设局": "住房城乡建设局",
    "住房和城乡建设厅": "住房城乡建设厅", "住房和城乡建设部": "住房城乡建设部",
    "市场监管局": "市场监督管理局", "市监局": "市场监督管理局", "医保局": "医疗保障局",
    "教体局": "教育体育局", "文体旅局": "文化体育旅游局", "文旅局": "文化旅游局",
    "文广旅局": "文化广电旅游局", "文广新局": "文化广电新闻出版局", "工信局": "工业和信息化局",
    "工信厅": "工业和信息化厅", "经信局": "经济和信息化局", "应急局": "应急管理局",
    "城管局": "城市管理局", "综合执法局": "综合行政执法局", "农业农村局": "农业农村局",
    "农委": "农业委", "交通局": "交通运输局", "自然资源和规划局": "自然资源规划局",
    "资规局": "自然资源规划局", "生态环境局": "生态环境局", "环保局": "环境保护局",
    "统计局": "统计局", "民宗局": "民族宗教事务局", "民宗委": "民族宗教事务委",
    "退役军人局": "退役军人事务局", "残联": "残疾人联合会", "妇联": "妇女联合会",
    "科协": "科学技术协会", "侨联": "归国华侨联合会", "文联": "文学艺术界联合会",
    "工商联": "工商业联合会", "政法委": "政法委", "编办": "机构编制委办公室",
    "网信办": "网络安全和信息化委办公室", "文明办": "精神文明建设委办公室",
    "综治办": "社会治安综合治理委办公室", "老龄办": "老龄工作委办公室",
    "政府办": "人民政府办公室", "政府办公室": "人民政府办公室", "疾控中心": "疾病预防控制中心",
    "妇计中心": "妇幼保健计划生育服务中心", "乡镇卫生院": "乡镇卫生院",
}
_PARTY_ORGANS = ("宣传部", "组织部", "统战部", "政法委", "编办", "网信办", "文明办", "政研室",
                 "党校", "农办")
_ABBR_RE = re.compile("|".join(sorted(map(re.escape, ABBREVIATIONS), key=len, reverse=True)))
_TUAN = re.compile(r"^团([省市区县])委$")


_PARTY_PREFIX = re.compile(
    r"^(.{0,8}?[省市区县镇乡])委(?=" + "|".join(
        sorted({re.escape(o) for organ in _PARTY_ORGANS
                for o in (organ, ABBREVIATIONS.get(organ, organ))},
               key=len, reverse=True)) + ")")


@functools.lru_cache(maxsize=4096)
def canonical_unit(name: str) -> str:
    """Canonical form of a unit name: abbreviations expanded, 委员会 → 委, brackets folded."""
    s = unicodedata.normalize("NFKC", squeeze(name or ""))
    s = s.replace("（", "(").replace("）", ")")
    s = re.sub(r"^中共", "", s)
    s = re.sub(r"^中国共产党", "", s)
    s = s.replace("委员会", "委")
    s = s.replace("共青团", "团")
    m = _TUAN.match(s)
    if m:  # 团区委 = 共青团区委 = 区团委
        s = m.group(1) + "团委"
    s = _ABBR_RE.sub(lambda m: ABBREVIATIONS[m.group(0)], s)
    # 区委宣传部 = 区宣传部 (the party committee's department of that level)
    s = _PARTY_PREFIX.sub(r"\1", s)
    return s


def build_unit_index(doc: Document, draft: PlanDraft) -> dict[str, list[str]]:
    names: list[str] = []
    for task in draft.tasks:
        names.extend(task.lead_units)
        names.extend(task.units)
    for rep in getattr(draft, "reporting", []) or []:
        if rep.to:
            names.append(rep.to)
    if draft.office:
        names.append(draft.office)
    index: dict[str, list[str]] = {}
    for n in names:
        n = (n or "").strip()
        if not n or len(n) > 60:
            continue
        key = canonical_unit(n)
        if not key:
            continue
        bucket = index.setdefault(key, [])
        if n not in bucket:
            bucket.append(n)
    return index
