"""The leading group (领导小组): its roster and where its office sits.

Two layouts occur in plans:

* roster lines — ``组长:图亚副县长`` / ``成  员:李四  县财政局局长`` / ``组长<TAB>张三<TAB>县长``,
  with members continued on the following lines, names and posts often run together;
* prose — ``成立以分管领导为组长,市农办、住房和城乡建设局主要负责人任副组长的……领导小组,
  市财政局……等单位领导为成员``, ``由X牵头,会同Y、Z等部门成立……领导小组``,
  ``办公室设在县卫健委,办公室主任由乔波兼任``.

Rosters of the leading group win over rosters of other bodies (工作小组, 专家组 …), which are only
used when the plan names no leading group roster; of several leading-group rosters the fullest one
is kept (a passing "成立乡党委主要领导任组长的领导小组" loses to the full roster). Roles are 组长,
副组长 (第一/常务/执行副组长 included), 成员 and 办公室主任.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .model import Document, GroupMember, OutlineNode, PlanDraft

# ---------------------------------------------------------------- person names and posts

_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古"
    "吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫"
    "寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻"
    "位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦"
    "戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但"
    "尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由图")
_COMPOUND_SURNAMES = {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
                      "宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "呼延"}
# characters that are common in given names (used to choose between a 2- and a 3-character name)
_GIVEN = set(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉力永林峰宇鹏飞俊斌波宁晓东海燕雪"
    "梅琳丹云凤春荣新龙江志成金德庆福生祥瑞瑜婷颖倩晶琴慧佳欣怡悦蕾薇莉莹菲璐洁琪琦璇婧媛嘉馨彤涵萌阳"
    "浩然博宏毅健彬帅凯鑫鸿锋亮坤旭昊晨天泽睿哲轩宸铭翔辰远航楠楷源清青河山川岩石松柏树森兵武卫民安全"
    "仁义礼智信忠孝廉正治学书诚朝昌盛兴发贵富有财宝珍珠琼瑶珊娥妹姣娇妮婉秋冬夏月星光照灿炜烨煜焕炳耀"
    "增广乐欢喜良善和顺利立美香芬芝莲菊荷蓉雨露霜冰玲瑛环双根友长贤彦豪雄才奇峻岭崇巍嵩泉洪淼湖润洲"
    "方宙银铁钢锦锐钊邦家庭宗祖大少曦昕昀晖暄璟琨瑾璞玮玥珏琛祺禧祯禄寿旺隆达通畅勤俭恒坚克胜捷迅勃"
    "升栋贺育君宾斐芸茜茹蕊丰登魁斗杨桐柳枫楠梓榕杉桦彪虎豹鹤鸣凰麟胤懿頔崴崧晟曜熙燊炯焱琰璋瑄瑶"
    "红茂蓬萱苇芃莎蔚蓓菁萃蓝薇露霖震霆雷电宵霄泓沛涵淳渊溪滨澄澜潇瀚汉沁汀沐沫浦涌润洋玄素纯绍继"
    "续维纲纪经纬绪缘敬谦诺谊谨议训誉豫毓钧铎铖镇锴锟锋镭钰铄颂颉顺颢颖飒馥骏骁骐鹏鹰鸿")
# first characters of posts and units (the part after a name)
_POST_WORDS = sorted(set("""
副 正 常务 党政 县 市 区 省 州 盟 旗 乡 镇 街道 村 社区 党 政府 政法 政协 人大 纪委 监委 组织部 宣传部 统战部
编办 发改 发展 教育 教体 科技 科学 工业 工信 经信 经济 商务 公安 民政 司法 财政 人力 人社 自然资源 国土
生态 环保 环境 住建 住房 城建 城管 城乡 城市 交通 运输 水利 水务 农业 农村 农牧 农办 林业 林草 畜牧 文化
文旅 文体 文广 文明 旅游 体育 卫生 卫健 健康 疾控 医保 医疗 医院 中医 退役 应急 审计 国资 市场 监管 统计
信访 扶贫 乡村振兴 供销 税务 金融 银行 人民 法院 检察 总工会 工会 团 共青团 妇联 残联 科协 侨联 红十字
老龄 慈善 关工委 机关 办公室 综治 网信 网格 融媒体 广电 电视台 报社 气象 消防 武装部 人武部 军分区 邮政
电力 供电 学校 学院 大学 中学 小学 职业 党校 研究 管委会 开发区 园区 高新区 经开区 局长 书记 部长 院长
校长 理事长 主席 秘书长 委员 科员 干部 调研员 专员 经理 董事 分管 主要 负责 专职 兼职 一级 二级 三级
四级 党组 党委 党工委 支部 主任 处长 科长 所长 站长 队长 行长 会长 社长 台长 馆长 组长 总 首席
""".split()), key=len, reverse=True)
_PLACE_RE = re.compile(r"^[\u4e00-\u9fff]{2,5}?(?:镇|乡|街道|苏木|嘎查|村|社区|开发区|园区|新区)"
                       r"(?=党|政|人民|办|管委|居委|村委|镇长|乡长|主任|书记|$)")
# characters that do not end a given name but start many posts
_POST_START = set("副县市区乡镇省党政局委办正常总")
_NOT_NAME_START = set("省市县区乡镇村街各全其有相主分副常第该本我此由以等及与和")
_UNIT_CHARS = set("局委办部厅院会处科室中心站所队联协社团府署")
_PLACEHOLDER_NAME = re.compile(r"^(?:[xX×＊*]{2,4}|[A-Za-z]{1,3}某某?|[\u4e00-\u9fff]某某?|某某|[xX]{3})$")
_POST_SUFFIX_RE = re.compile(r"(?:长|书记|主任|委员|员|领导|同志|负责人|局|委|办|部|厅|院|会|处|科|室|"
                             r"中心|站|所|队|联|协|团|府|\*+)$")


_POST_WORD_RE = re.compile("|".join(re.escape(w) for w in _POST_WORDS))  # longest words first


def _post_score(rest: str) -> int:
    """3 if `rest` starts like a post or unit (县卫健局, 副县长), 2 for a weaker start, else 0."""
    if len(rest) < 2:
        return 0
    match = _POST_WORD_RE.match(rest)
    if match:
        return 3 if len(match.group(0)) >= 2 else 2
    if _PLACE_RE.match(rest):
        return 2
    return 0


def _looks_like_name(text: str) -> bool:
    if _PLACEHOLDER_NAME.match(text):
        return True
    if not 2 <= len(text) <= 4 or not all("\u4e00" <= ch <= "\u9fff" for ch in text):
        return False
    if text[0] in _NOT_NAME_START or any(ch in _UNIT_CHARS for ch in text[1:]):
        return False
    if _post_score(text) >= 3 or _POST_SUFFIX_RE.search(text):
        return False
    if len(text) == 4:
        return text[:2] in _COMPOUND_SURNAMES
    return text[0] in _SURNAMES or text[:2] in _COMPOUND_SURNAMES


_POST_THEN_NAME_RE = re.compile(r"^(.{1,30}?(?:长|书记|主任|委员|领导|负责人|专员|秘书长|主席|科员|干部))"
                                r"([\u4e00-\u9fff]{2,4}?)(?:同志)?$")


def _post_then_name(text: str) -> tuple[str, str] | None:
    """`县长张三` / `县卫健局局长王芳同志` → (name, post), or None."""
    match = _POST_THEN_NAME_RE.match(text)
    if match and _looks_like_name(match.group(2)):
        return match.group(2), match.group(1)
    return None


def split_name_post(text: str) -> tuple[str | None, str | None]:
    """`图亚副县长` → (图亚, 副县长); `xxx 院长` → (xxx, 院长); `市财政局` → (None, 市财政局)."""
    text = text.strip(" \t\u3000,，;；。")
    text = re.sub(r"\s*[(（](?:兼|组长|副组长|常务)?[)）]\s*$", "", text)
    if not text:
        return None, None
    tokens = [t for t in re.split(r"[\s\u3000]+", text) if t]
    if len(tokens) >= 2:
        first, rest = tokens[0], "".join(tokens[1:])
        if _looks_like_name(first.removesuffix("同志")):
            if re.fullmatch(r"[(（][^()（）]+[)）]", rest):
                rest = rest[1:-1]  # 张伟 （镇党委书记）
            return first.removesuffix("同志"), rest
        last, head = tokens[-1], "".join(tokens[:-1])
        if _looks_like_name(last.removesuffix("同志")):
            return last.removesuffix("同志"), head
        text = "".join(tokens)
    m = re.match(r"^(.{2,4}?)同志$", text)
    if m and _looks_like_name(m.group(1)):
        return m.group(1), None
    m = re.match(r"^(.{2,4})[(（](.+)[)）]$", text)
    if m and _looks_like_name(m.group(1)):
        return m.group(1), m.group(2)
    if _looks_like_name(text) and not _post_score(text):
        return text, None
    if text[0] in _NOT_NAME_START or len(text) < 4 or _post_score(text) >= 3:
        return _post_then_name(text) or (None, text)
    options = []
    lengths = (3, 4) if text[:2] in _COMPOUND_SURNAMES else (2, 3)
    for k in lengths:
        name, rest = text[:k], text[k:]
        if not all("\u4e00" <= ch <= "\u9fff" for ch in name):
            continue
        score = _post_score(rest)
        if any(ch in _UNIT_CHARS for ch in name[1:]) and (score < 3 or name[0] not in _SURNAMES):
            continue
        if score:
            options.append((k, score))
    if not options:
        return _post_then_name(text) or (None, text)
    if len(options) == 1:
        k = options[0][0]
    else:
        short, long_ = options[0][0], options[1][0]
        third = text[long_ - 1]  # the character a longer name would end with
        k = long_ if third in _GIVEN and third not in _POST_START else short
        if options[0][1] > options[1][1] and third not in _GIVEN:
            k = short
    return text[:k], text[k:]


# ---------------------------------------------------------------- roster structures

# Bounds on the work done on odd input (a real roster has tens of lines; a plan a few hundred
# lines that mention groups): time stays linear and small whatever the text.
MAX_ROSTER_ENTRIES = 2000
MAX_GROUP_SENTENCES = 5000

_ROLE_NAMES = {"组长": "组长", "副组长": "副组长", "第一副组长": "副组长", "常务副组长": "副组长",
               "执行副组长": "副组长", "成员": "成员", "成员单位": "成员", "办公室主任": "办公室主任",
               "第一组长": "组长", "总指挥": "组长", "指挥长": "组长", "副总指挥": "副组长",
               "副指挥长": "副组长", "常务副总指挥": "副组长", "常务副指挥长": "副组长"}
# a 指挥部 has 指挥长/总指挥 where a 领导小组 has 组长
_ROLE_WORDS = r"副组长|组长|副总指挥|总指挥|副指挥长|指挥长"
_ROLE_ORDER = {"组长": 0, "副组长": 1, "成员": 2, "办公室主任": 3}
_GROUP_RE = re.compile(r"领导小组|指挥部|领导机构|工作委员会|专项小组|工作小组|工作专班|专班|专家组|专项组|"
                       r"专家委员会|小组|联席会议")
_LEADING_GROUPS = {"领导小组", "指挥部", "领导机构"}
_WORK_GROUPS = {"工作小组", "工作专班", "专班", "工作委员会"}
_ROLE_LINE_RE = re.compile(
    r"^\s*(?:[(（]?[一二三四五六七八九十\d]{1,3}[)）、.．]\s*)?"
    r"(组\s*长|副\s*组\s*长|第一副组长|常务副组长|执行副组长|第一组长|成\s*员(?:\s*单\s*位)?|"
    r"办\s*公\s*室\s*主\s*任|(?:常务)?副?总指挥|(?:常务)?副?指挥长)"
    r"\s*(?:[:：]|\t|\s{2,}|$)\s*(.*)$")
# a "post" with these words is a piece of the surrounding sentence, not a member
_NOT_MEMBER_RE = re.compile(r"领导小组|工作小组|专项组|专家组|专班|指挥部|联席会议|下设|设在|设于|挂靠|兼任|负责(?!同志|人)|提供|。")
_OUTLINE_START_RE = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|"
                               r"\d{1,2}[、.．](?!\d)|第[一二三四五六七八九十]+[章条])")


@dataclass
class _Roster:
    kind: str  # "leading" or "other"
    members: list[GroupMember] = field(default_factory=list)
    position: int = 0


def _group_kind(text: str) -> str | None:
    """The kind of body a sentence sets up or talks about, from its first group noun:
    "leading" (领导小组, 指挥部), "work" (工作小组, 专班) or "other" (专家组, 联席会议 …)."""
    if "组" not in text and "指挥部" not in text and "专班" not in text and "机构" not in text \
            and "联席" not in text and "委员会" not in text:
        return None
    for match in _GROUP_RE.finditer(text):
        tail = text[match.end(): match.end() + 5]
        if tail.startswith("办公室") and "设" not in text[match.end(): match.end() + 12]:
            # "领导小组办公室主任任组长": a reference to the office, not the body being set up
            continue
        noun = match.group(0)
        if noun in _LEADING_GROUPS:
            return "leading"
        return "work" if noun in _WORK_GROUPS else "other"
    return None


def _tokens(piece: str) -> list[str]:
    """Whitespace tokens of a roster piece, with spaced-out names (`张  伟`) put back together."""
    raw = [t for t in re.split(r"[\s\u3000]+", piece) if t]
    tokens: list[str] = []
    for token in raw:
        previous = tokens[-1] if tokens else ""
        if (len(previous) == 1 and previous in _SURNAMES and len(token) >= 3
                and _is_han(token[0]) and token[1] in "(（"):
            tokens[-1] += token[0]  # 张  伟（镇党委书记）: the name's last character, then the post
            tokens.append(token[1:])
            continue
        if (len(token) == 1 and 0 < len(previous) <= 2 and _is_han(token) and _is_han(previous)
                and (len(previous) == 1 or previous[0] in _SURNAMES)):
            tokens[-1] += token
        else:
            tokens.append(token)
    return tokens


def _is_han(text: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in text)


def _roster_piece(piece: str) -> list[tuple[str | None, str | None]]:
    """Entries of one roster piece: `张伟 县长`, `县长 张伟`, `图亚副县长`, `县财政局、县民政局`,
    `马俊伟城关镇党委副书记、镇长`, or several of them separated by spaces (single-line OCR text)."""
    tokens = _tokens(piece)
    if len(tokens) == 2 and "、" not in piece and any(_looks_like_name(t) for t in tokens):
        return [split_name_post(" ".join(tokens))]
    flat: list[tuple[str, bool]] = []  # (token, came after 、)
    for token in tokens:
        for k, sub in enumerate(token.split("、")):
            if sub:
                flat.append((sub, k > 0))
    if (len(flat) >= 2 and not _looks_like_name(flat[0][0]) and _looks_like_name(flat[-1][0])
            and not any(_looks_like_name(t) and n is not None and _looks_like_name(n[0])
                        for (t, _), n in zip(flat, flat[1:] + [None]))):
        return _post_first(flat)
    entries: list[tuple[str | None, str | None]] = []
    i = 0
    while i < len(flat):
        token, after_comma = flat[i]
        nxt = flat[i + 1] if i + 1 < len(flat) else None
        pairs_with_next = nxt is not None and not _looks_like_name(nxt[0]) and not nxt[1]
        if pairs_with_next and _looks_like_name(token):
            entries.append((token, nxt[0]))
            i += 2
            continue
        name, post = split_name_post(token)
        if name is None and entries and entries[-1][0] and post:
            prev_name, prev_post = entries[-1]
            if prev_post is None:
                entries[-1] = (prev_name, post)
            elif after_comma and len(post) <= 8:
                entries[-1] = (prev_name, f"{prev_post}、{post}")
            else:
                entries.append((None, post))
        else:
            entries.append((name, post))
        i += 1
    return [(name, _unwrap(post)) for name, post in entries]


def _unwrap(post: str | None) -> str | None:
    """`（镇党委副书记、镇长）` → `镇党委副书记、镇长`: a post printed in brackets after the name."""
    if post and re.fullmatch(r"[(（][^()（）]+[)）]", post):
        return post[1:-1]
    return post


def _post_first(flat: list[tuple[str, bool]]) -> list[tuple[str | None, str | None]]:
    """`县委副书记、县长 张三 副县长 李四`: each name follows its posts."""
    entries: list[tuple[str | None, str | None]] = []
    posts: list[str] = []
    for token, _ in flat:
        if _looks_like_name(token):
            entries.append((token, "、".join(posts) or None))
            posts = []
        else:
            posts.append(token)
    entries.extend((None, post) for post in posts)
    return entries


def _entries_from_text(text: str, *, prose: bool) -> list[tuple[str | None, str | None]]:
    """Members named in one roster cell or one prose list."""
    text = re.sub(r"[(（](?:名单|具体名单|人员名单)[^)）]*[)）]", "", text)
    text = text.strip(" \t\u3000,，;；。:：")
    if not text:
        return []
    if prose:
        pieces = [p for p in re.split(r"[、,，;；]|以及|及(?![时早])|(?<=[长记任员委])和(?=[省市县区镇乡])", text)
                  if p.strip()]
        pieces = _join_ranks(text, pieces)
        return [e for e in (_prose_entry(p) for p in pieces) if e[0] or e[1]]
    entries: list[tuple[str | None, str | None]] = []
    for piece in re.split(r"[,，;；]", text):
        entries.extend(_roster_piece(piece.strip()))
    return [e for e in entries if e[0] or e[1]]


_LEADER_SUFFIX_RE = re.compile(r"^(?P<unit>.*?)(?P<etc>等(?:有关|相关)?(?:部门|单位)?)?"
                               r"(?P<suffix>主要负责同志|分管负责同志|主要负责人|分管负责人|负责同志|负责人|"
                               r"主要领导|分管领导|领导同志|领导)?$")


_RANK_END = re.compile(r"常委|党组成员|委员$")
_POST_END = re.compile(r"(?:长|书记|主任|主席|专员)$")


def _join_ranks(text: str, pieces: list[str]) -> list[str]:
    """`县委常委、宣传部部长` is one person: a rank (常委, 委员) joined by 、 to the post that
    follows it stays one piece."""
    out: list[str] = []
    for piece in pieces:
        if out and _RANK_END.search(out[-1]) and _POST_END.search(piece) \
                and (out[-1] + "、" + piece) in text:
            out[-1] = out[-1] + "、" + piece
        else:
            out.append(piece)
    return out


def _prose_entry(piece: str) -> tuple[str | None, str | None]:
    piece = piece.strip(" \t\u3000")
    piece = re.sub(r"^(?:由|以|和|与)", "", piece)
    m = re.match(r"^(.{2,4}?)同志$", piece)
    if m and _looks_like_name(m.group(1)):
        return m.group(1), None
    # "分管副县长李明" / "县卫健局局长王芳同志": a post followed by the person's name
    named = _post_then_name(piece)
    if named:
        return named
    m = _LEADER_SUFFIX_RE.match(piece)
    if m:
        unit, etc, suffix = m.group("unit"), m.group("etc"), m.group("suffix")
        if etc and unit:
            return None, unit
        if suffix and unit and unit[-1] in _UNIT_CHARS:
            return None, unit
    piece = re.sub(r"等$", "", piece)
    return (None, piece) if piece else (None, None)


_ROLE_AFTER_RE = re.compile(r"(担任|兼任|任|为)(第一|常务|执行)?(" + _ROLE_WORDS + r"|成员(?!单位))")
_ROLE_BEFORE_RE = re.compile(r"(第一|常务|执行)?(" + _ROLE_WORDS + r"|成员单位|成员)(?:由|为|是|包括|:|：)"
                             r"([^,，;；。]+)")
_SUBORDINATE_RE = re.compile(r"各[\u4e00-\u9fff()（）、]{0,12}?(?:要|应|须|均|都|也)?(?:相应|参照)?(?:成立|建立|组建)"
                             r"|相应(?:地)?(?:成立|建立|组建)|(?:成立|建立|组建)(?:相应|相适应)")
_CUT_WORDS_RE = re.compile(r"由|以|成立|组建|设立")
_OFFICE_DIRECTOR_RE = re.compile(r"(?:办公室)?主任由([^,，;；。]{2,30}?)(?:同志)?(?:兼任|担任)|"
                                 r"([^,，;；。]{2,30}?)(?:同志)?(?:兼任|担任|任)(?:领导小组)?办公室主任")
_COOPERATE_RE = re.compile(r"由?([^,，;；。]{2,40}?)牵头[,，]?\s*(?:会同|联合|协调)([^。;；]{2,200}?)"
                           r"(?:等(?:有关|相关)?(?:部门|单位))?(?:共同)?(?:成立|组建|组成)")
_COMPOSED_RE = re.compile(r"(?:成立|组建)由([^。;；]{2,200}?)(?:等(?:有关|相关)?(?:部门|单位))?"
                          r"(?:主要负责同志|负责同志|主要负责人|负责人|领导)?(?:组成|参加)的")
_OFFICE_RE = re.compile(r"办公室(?:设在|设于|挂靠在|挂靠于|挂靠|设(?![立置计定]))"
                        r"\s*([^,，。;；、(（\s]{2,20})")


def _split_sentences(text: str) -> list[tuple[int, str]]:
    out, start = [], 0
    for match in re.finditer(r"[。;；!?！？]", text):
        out.append((start, text[start: match.end()]))
        start = match.end()
    if start < len(text):
        out.append((start, text[start:]))
    return out


def _prose_rosters(sentence: str, kind: str, position: int) -> list[_Roster]:
    members: list[GroupMember] = []
    previous_end = 0
    for match in _ROLE_AFTER_RE.finditer(sentence):
        span = sentence[previous_end: match.start()]
        cut = max((m.end() for m in re.finditer(r"[,，:：]", span)), default=0)
        span = span[cut:]
        words = list(_CUT_WORDS_RE.finditer(span))
        if words:
            span = span[words[-1].end():]
        previous_end = match.end()
        role = _ROLE_NAMES[match.group(3)]
        for name, post in _entries_from_text(span.lstrip("、及和"), prose=True):
            if post and (_NOT_MEMBER_RE.search(post) or len(post) > 40):
                continue
            members.append(GroupMember(role=role, name=name, post=post))
    for match in _ROLE_BEFORE_RE.finditer(sentence):
        role = _ROLE_NAMES[match.group(2)]
        body = re.sub(r"(?:同志)?(?:担任|兼任|组成)$", "", match.group(3))
        for name, post in _entries_from_text(body, prose=True):
            if post and (_NOT_MEMBER_RE.search(post) or len(post) > 40):
                continue
            members.append(GroupMember(role=role, name=name, post=post))
    for regex, needed in ((_COOPERATE_RE, "牵头"), (_COMPOSED_RE, "的")):
        worth_trying = needed in sentence and ("组" in sentence or "指挥部" in sentence)
        match = regex.search(sentence) if worth_trying else None
        if match and _group_kind(sentence[match.end():]):
            lists = [g for g in match.groups() if g]
            if any(re.search(r"任|牵头|参加|负责|协调", chunk) for chunk in lists[-1:]):
                continue
            for chunk in lists:
                for name, post in _entries_from_text(chunk, prose=True):
                    if post and not _NOT_MEMBER_RE.search(post) and len(post) <= 40:
                        members.append(GroupMember(role="成员", name=name, post=post))
            break
    return [_Roster(kind=kind, members=members, position=position)] if members else []


_INLINE_ROLE_RE = re.compile(r"(?:第一|常务|执行)?副\s*组\s*长\s*[:：]|(?<![副一])组\s*长\s*[:：]|"
                             r"第一组长\s*[:：]|(?:常务)?副?(?:总指挥|指挥长)\s*[:：]|"
                             r"成\s*员(?:\s*单\s*位)?\s*[:：]|办\s*公\s*室\s*主\s*任\s*[:：]")


def _virtual_lines(doc: Document) -> list[tuple[str, int]]:
    """The document's lines, with rosters run into one line (OCR text) cut at their role labels."""
    out: list[tuple[str, int]] = []
    for line in doc.lines:
        text = line.text
        starts = []
        if ("组" in text or "员" in text) and (":" in text or "：" in text):
            starts = [m.start() for m in _INLINE_ROLE_RE.finditer(text)]
        if len(starts) < 2 and (len(starts) == 0 or len(text) <= 200):
            out.append((text, line.start))
            continue
        cuts = [0, *starts, len(text)]
        for a, b in zip(cuts, cuts[1:]):
            piece = text[a:b]
            if not piece.strip():
                continue
            if a == starts[-1]:
                # the last entry runs on into ordinary text: end it at the first sentence break
                stop = re.search(r"。|[,，;；]?\S*(?:领导小组|办公室设|下设)", piece)
                if stop:
                    out.append((piece[: stop.start()], line.start + a))
                    out.append((piece[stop.start():], line.start + a + stop.start()))
                    continue
            out.append((piece, line.start + a))
    return out


def _line_rosters(doc: Document) -> list[_Roster]:
    rosters: list[_Roster] = []
    lines = _virtual_lines(doc)
    index = 0
    entries = 0
    while index < len(lines) and entries < MAX_ROSTER_ENTRIES:
        line = lines[index][0]
        match = _ROLE_LINE_RE.match(line) if len(line) <= 2000 else None
        if not match or "。" in (match.group(2) or "")[:-1]:
            index += 1
            continue
        # a roster under "成立……领导小组", or with no body named before it, is the leading group's
        context = _line_context(lines, index)
        roster = _Roster(kind=context or "leading", position=lines[index][1])
        role = None
        while index < len(lines):
            text = lines[index][0]
            match = _ROLE_LINE_RE.match(text) if len(text) <= 2000 else None
            if match:
                role = _ROLE_NAMES.get(re.sub(r"\s", "", match.group(1)), "成员")
                body = match.group(2) or ""
                if "。" in body[:-1] and role != "成员":
                    break
            elif not text.strip():
                index += 1
                continue
            elif role is not None and _is_roster_continuation(text):
                body = text
            else:
                break
            for name, post in _entries_from_text(body.replace("\t", " "), prose=False):
                if post and _NOT_MEMBER_RE.search(post):
                    continue
                roster.members.append(GroupMember(role=role, name=name, post=post))
            entries += 1
            index += 1
            if entries >= MAX_ROSTER_ENTRIES:
                break
        if roster.members:
            rosters.append(roster)
        else:
            index += 1
    return rosters


def _is_roster_continuation(text: str) -> bool:
    stripped = text.strip()
    if not stripped or len(stripped) > 60 or "。" in stripped or _OUTLINE_START_RE.match(stripped):
        return False
    if _GROUP_RE.search(stripped) and not stripped.endswith(("组长", "主任")):
        return False
    entries = _entries_from_text(stripped.replace("\t", " "), prose=False)
    if not entries:
        return False
    return all(name or (post and (_POST_SUFFIX_RE.search(post) or _post_score(post)))
               for name, post in entries)


def _line_context(lines: list[tuple[str, int]], index: int) -> str | None:
    seen = 0
    for back in range(index - 1, max(-1, index - 12), -1):
        text = lines[back][0].strip()
        if not text:
            continue
        if _ROLE_LINE_RE.match(text):
            continue
        # the sentence that introduces the roster names its body (成立工作专班。成立…领导小组:)
        last = re.split(r"[。！？!?]", text[-300:].rstrip("。"))[-1]
        kind = _group_kind(last) or _group_kind(text[-300:])
        if kind:
            return kind
        seen += 1
        if seen >= 3:
            break
    return None


def extract_organization(doc: Document, roots: list[OutlineNode], draft: PlanDraft) -> None:
    """Fill draft.leading_group and draft.office (roots are not needed: rosters are found by
    their wording wherever they stand)."""
    rosters = _line_rosters(doc)
    directors: list[tuple[str, GroupMember]] = []
    offices: list[tuple[str, str]] = []
    sentences_read = 0
    for line in doc.lines:
        if not line.text.strip() or ("组" not in line.text and "办公室" not in line.text
                                     and "领导" not in line.text and "指挥部" not in line.text):
            continue
        if sentences_read > MAX_GROUP_SENTENCES:
            break
        context: str | None = None
        for offset, sentence in _split_sentences(line.text):
            sentences_read += 1
            if sentences_read > MAX_GROUP_SENTENCES:
                break
            kind = _group_kind(sentence)
            if kind:
                context = kind
            if context is None:
                continue
            lower = _SUBORDINATE_RE.search(sentence)
            if lower:
                # "各乡镇要成立以乡镇长为组长的领导小组": from here on their groups, not the plan's
                sentence = sentence[: lower.start()]
            if not _ROLE_LINE_RE.match(sentence):
                rosters.extend(_prose_rosters(sentence, context, line.start + offset))
            for match in (_OFFICE_DIRECTOR_RE.finditer(sentence) if "主任" in sentence else ()):
                who = re.sub(r"^(?:并|由|请)", "", (match.group(1) or match.group(2) or "").strip())
                name, post = (who, None) if _looks_like_name(who) else _prose_entry(who)
                if name or post:
                    directors.append((context, GroupMember(role="办公室主任", name=name, post=post)))
            for match in (_OFFICE_RE.finditer(sentence) if "办公室" in sentence else ()):
                place = re.sub(r"(?:内|里)$", "", match.group(1))
                if place and not place.startswith(("负责", "具体")):
                    offices.append((context, place))
    leading = [r for r in rosters if r.kind == "leading"]
    chosen_pool = leading or [r for r in rosters if r.kind == "work"]
    members: list[GroupMember] = []
    if chosen_pool:
        best = max(chosen_pool, key=lambda r: (len(r.members), r.position))
        members = list(best.members)
        # role lines split over a roster (组长 line, then 成员 lines) belong to the same roster;
        # prose rosters of other sentences naming the same body add missing roles
        for roster in chosen_pool:
            if roster is best:
                continue
            roles = {m.role for m in members}
            if all(m.role not in roles for m in roster.members):
                members.extend(roster.members)
    kinds = {"leading"} if leading or not chosen_pool else {"work"}
    has_director = any(m.role == "办公室主任" for m in members)
    for kind, member in directors:
        if kind in kinds and not has_director:
            if member.name and not member.post:
                same = next((m for m in members if m.name == member.name and m.post), None)
                if same is not None:
                    member = GroupMember(role=member.role, name=member.name, post=same.post)
            members.append(member)
            break
    office = next((place for kind, place in offices if kind in kinds), None)
    if office is None:
        office = next((place for kind, place in offices if kind in ("leading", "work")), None)
    seen: set[tuple[str, str | None, str | None]] = set()
    unique: list[GroupMember] = []
    for member in members:
        key = (member.role, member.name, member.post)
        if key not in seen:
            seen.add(key)
            unique.append(member)
    unique.sort(key=lambda m: _ROLE_ORDER.get(m.role, 9))
    draft.leading_group = unique
    draft.office = office
