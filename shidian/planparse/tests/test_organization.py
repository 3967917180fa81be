"""Leading-group rosters (组长/副组长/成员/办公室主任) and the office, from role lines and from prose."""
import json

import pytest

from shidian.planparse.model import Document, GroupMember, PlanDraft
from shidian.planparse.organization import extract_organization, split_name_post

SEEDS = ["01-yiyang-conference", "02-apprenticeship-moe", "03-gansu-hospice", "04-apprenticeship-selfcheck",
         "05-luxian-hospice", "06-sichuan-medical-community", "07a-shandong-housing", "07b-town-housing",
         "07c-ningde-housing", "08-hangzhou-hospice", "09-youth-league", "10-apprenticeship-college",
         "11-helinger-psych", "12a-fengyang-psych-meeting", "12b-wuzhong-psych-variant", "12c-psych-training",
         "12d-national-psych", "12e-wuzhong-psych", "12f-wuhan-psych", "13-county-governance-construction",
         "14-huxi-governance", "15a-changge-governance", "15b-pubei-governance", "15c-zhuhai-grassroots"]


def organize(text):
    draft = PlanDraft(id="t")
    extract_organization(Document.from_text("t", text), [], draft)
    return draft


def roster(draft):
    return [(m.role, m.name, m.post) for m in draft.leading_group]


@pytest.mark.parametrize("stem", SEEDS)
def test_seed_rosters_and_offices_match_the_gold(seed_dir, stem):
    text = (seed_dir / f"{stem}.txt").read_text(encoding="utf-8")
    gold = json.loads((seed_dir / f"{stem}.gold.json").read_text(encoding="utf-8"))["organization"]
    draft = organize(text)
    # the scorer's key: role with the person's name, or the post when there is no name
    assert sorted((m.role, m.name or m.post) for m in draft.leading_group) == \
        sorted((m["role"], m["name"] or m["post"]) for m in gold["leading_group"])
    assert draft.office == gold["office"]


def test_roster_lines_split_names_from_posts_run_together(seed_dir):
    draft = organize((seed_dir / "11-helinger-psych.txt").read_text(encoding="utf-8"))
    members = {m.name: m for m in draft.leading_group}
    assert members["图亚"] == GroupMember("组长", "图亚", "副县长")
    assert members["云楠"].post == "公安局政工监督室主任"
    assert members["马俊伟"].post == "城关镇党委副书记、镇长"
    assert members["云青"].post == "黑老夭乡党委副书记、乡长"
    # the office director is named without a post; the roster gives it
    assert draft.leading_group[-1] == GroupMember("办公室主任", "乔波", "卫生健康委员会主任")


def test_a_roster_run_into_one_line_of_ocr_text_is_still_read(seed_dir):
    text = (seed_dir / "11-helinger-psych.txt").read_text(encoding="utf-8")
    one_line = " ".join(line for line in text.split("\n") if line.strip())
    assert roster(organize(one_line)) == roster(organize(text))
    assert organize(one_line).office == "县卫健委"


def test_prose_roster_with_names_posts_and_office():
    draft = organize("(一)加强组织领导。成立以县长张伟为组长,分管副县长李明、县卫健局局长王芳为副组长,"
                     "县财政局、县民政局、县医保局主要负责人为成员的试点工作领导小组。"
                     "领导小组办公室设在县卫健局,由王芳同志兼任办公室主任。")
    assert roster(draft) == [("组长", "张伟", "县长"), ("副组长", "李明", "分管副县长"),
                             ("副组长", "王芳", "县卫健局局长"), ("成员", None, "县财政局"),
                             ("成员", None, "县民政局"), ("成员", None, "县医保局"),
                             ("办公室主任", "王芳", "县卫健局局长")]
    assert draft.office == "县卫健局"


def test_spaced_out_names_and_continuation_lines():
    draft = organize("成立××县安宁疗护试点工作领导小组,成员如下:\n"
                     "组  长:张  伟  县委副书记、县长\n"
                     "副组长:李  明  县政府副县长\n"
                     "        王  芳  县卫健局局长\n"
                     "成  员:赵  强  县财政局局长\n"
                     "        钱  敏  县民政局局长\n"
                     "领导小组下设办公室,办公室设在县卫健局,王芳同志兼任办公室主任。\n")
    assert roster(draft) == [("组长", "张伟", "县委副书记、县长"), ("副组长", "李明", "县政府副县长"),
                             ("副组长", "王芳", "县卫健局局长"), ("成员", "赵强", "县财政局局长"),
                             ("成员", "钱敏", "县民政局局长"), ("办公室主任", "王芳", "县卫健局局长")]
    assert draft.office == "县卫健局"


def test_spaced_out_names_before_bracketed_posts_under_a_group_set_up_in_the_heading():
    draft = organize("（一）成立工作专班。成立花桥镇人居环境整治工作领导小组：\n"
                     "组  长：张  伟（镇党委书记）\n"
                     "副组长：李  娜（镇党委副书记、镇长）\n"
                     "成  员：陈  波（镇党委委员、副镇长）\n"
                     "领导小组下设办公室，办公室设在镇农业办，陈波同志兼任办公室主任。\n")
    assert roster(draft) == [("组长", "张伟", "镇党委书记"), ("副组长", "李娜", "镇党委副书记、镇长"),
                             ("成员", "陈波", "镇党委委员、副镇长"),
                             ("办公室主任", "陈波", "镇党委委员、副镇长")]


def test_posts_joined_by_he_and_a_rank_joined_to_its_post():
    draft = organize("成立县创建工作指挥部，由县委书记任指挥长，县委副书记和县委常委、宣传部部长任副指挥长。")
    assert roster(draft) == [("组长", None, "县委书记"), ("副组长", None, "县委副书记"),
                             ("副组长", None, "县委常委、宣传部部长")]


def test_a_roster_table_with_tab_separated_cells():
    draft = organize("成立工作领导小组\n组长\t张伟\t县委书记\n副组长\t李明\t县长\n"
                     "成员\t赵强\t县财政局局长\n\t钱敏\t县民政局局长\n办公室主任\t孙丽\t县卫健局副局长\n")
    assert roster(draft) == [("组长", "张伟", "县委书记"), ("副组长", "李明", "县长"),
                             ("成员", "赵强", "县财政局局长"), ("成员", "钱敏", "县民政局局长"),
                             ("办公室主任", "孙丽", "县卫健局副局长")]


def test_posts_printed_before_names():
    draft = organize("成立工作领导小组。\n组  长:县委副书记、县长  张三\n副组长:县长 李四  副县长 王五\n"
                     "成  员:县财政局局长 赵六\n")
    assert roster(draft) == [("组长", "张三", "县委副书记、县长"), ("副组长", "李四", "县长"),
                             ("副组长", "王五", "副县长"), ("成员", "赵六", "县财政局局长")]


def test_posts_in_brackets_and_run_together_after_the_post():
    draft = organize("成立领导小组。\n组长:县长张三\n副组长:李四(县政府副县长)\n"
                     "成员:王五(县财政局局长)、赵六(县民政局局长)\n")
    assert roster(draft) == [("组长", "张三", "县长"), ("副组长", "李四", "县政府副县长"),
                             ("成员", "王五", "县财政局局长"), ("成员", "赵六", "县民政局局长")]


def test_member_units_listed_after_a_label_in_prose():
    draft = organize("成立领导小组。领导小组成员单位:县委办、县政府办、县财政局。")
    assert roster(draft) == [("成员", None, "县委办"), ("成员", None, "县政府办"), ("成员", None, "县财政局")]


def test_roles_stated_first_and_members_composed_of_units():
    draft = organize("领导小组组长由县委书记担任,副组长由县长担任,"
                     "成员由县委办、县政府办、县发改局、县财政局等单位主要负责人组成。")
    assert roster(draft) == [("组长", None, "县委书记"), ("副组长", None, "县长"), ("成员", None, "县委办"),
                             ("成员", None, "县政府办"), ("成员", None, "县发改局"), ("成员", None, "县财政局")]


def test_a_leading_group_formed_by_a_lead_department_and_its_partners():
    draft = organize("由市卫生健康委牵头,会同市财政局、市医保局等部门成立本市试点工作领导小组,负责组织协调。")
    assert roster(draft) == [("成员", None, "市卫生健康委"), ("成员", None, "市财政局"), ("成员", None, "市医保局")]


def test_other_bodies_are_not_the_leading_group():
    text = ("成立县试点工作领导小组,县长任组长,县卫健局局长任副组长。\n"
            "成立试点工作小组,领导小组办公室主任任组长,有关部门科室负责人为成员。\n"
            "成立专家组,组长:王教授。\n"
            "各乡镇要成立相应的领导小组。\n")
    assert roster(organize(text)) == [("组长", None, "县长"), ("副组长", None, "县卫健局局长")]


def test_a_working_group_counts_when_the_plan_names_no_leading_group():
    draft = organize("成立由主要领导任组长的创建工作小组,工作小组办公室设在局办公室。")
    assert roster(draft) == [("组长", None, "主要领导")]
    assert draft.office == "局办公室"


def test_the_fuller_of_two_mentions_of_the_leading_group_wins():
    draft = organize("成立乡党委主要领导任组长的试点领导小组。\n"
                     "乡党委成立由乡党委书记任组长、乡长任第一副组长,乡党委副书记任常务副组长,"
                     "其他班子成员等为成员的试点领导小组。领导小组下设办公室,办公室设在乡综治办公室。")
    assert roster(draft) == [("组长", None, "乡党委书记"), ("副组长", None, "乡长"),
                             ("副组长", None, "乡党委副书记"), ("成员", None, "其他班子成员")]
    assert draft.office == "乡综治办公室"


def test_text_without_a_roster_gives_nothing():
    draft = organize("各地要高度重视,加强组织领导,明确责任分工。\n组建以县级医疗机构为牵头、"
                     "其他机构为成员单位的医共体。\n")
    assert draft.leading_group == [] and draft.office is None


@pytest.mark.parametrize("text,expected", [
    ("图亚副县长", ("图亚", "副县长")),
    ("乔波卫生健康委员会主任", ("乔波", "卫生健康委员会主任")),
    ("马志斌人力资源和社会保障局局长", ("马志斌", "人力资源和社会保障局局长")),
    ("白皓盛乐镇党委副书记", ("白皓", "盛乐镇党委副书记")),
    ("张晓旭新店子镇党委书记", ("张晓旭", "新店子镇党委书记")),
    ("欧阳明华县委书记", ("欧阳明华", "县委书记")),
    ("xxx 院长", ("xxx", "院长")),
    ("县委书记 张三", ("张三", "县委书记")),
    ("张三(县委副书记)", ("张三", "县委副书记")),
    ("市财政局", (None, "市财政局")),
    ("卫生健康委员会主任", (None, "卫生健康委员会主任")),
    ("高新区管委会主任", (None, "高新区管委会主任")),
    ("党政负责同志", (None, "党政负责同志")),
    ("县长张三", ("张三", "县长")),
    ("县卫健局局长", (None, "县卫健局局长")),
])
def test_names_and_posts(text, expected):
    assert split_name_post(text) == expected


def test_a_headquarters_roster_maps_its_commanders_to_the_leading_roles():
    draft = organize("成立县农村危房改造工作指挥部。\n总指挥:张三 县长\n常务副总指挥:李四 常务副县长\n"
                     "副总指挥:王五 副县长\n成员:县住建局、县财政局\n指挥部下设办公室,办公室设在县住建局。")
    assert roster(draft) == [("组长", "张三", "县长"), ("副组长", "李四", "常务副县长"), ("副组长", "王五", "副县长"),
                             ("成员", None, "县住建局"), ("成员", None, "县财政局")]
    assert draft.office == "县住建局"
    prose = organize("成立以县长为指挥长、分管副县长为副指挥长的工作指挥部。")
    assert roster(prose) == [("组长", None, "县长"), ("副组长", None, "分管副县长")]


def test_groups_that_lower_levels_are_told_to_set_up_are_not_the_plans_own():
    draft = organize("由市卫生健康委牵头,会同市财政局、市医保局等部门成立本市试点工作领导小组。"
                     "各区要成立以区长为组长的领导小组,办公室设在区卫健局。")
    assert roster(draft) == [("成员", None, "市卫生健康委"), ("成员", None, "市财政局"), ("成员", None, "市医保局")]
    assert draft.office is None
    own_office = organize("成立县试点工作领导小组,领导小组办公室设在县卫健局,各成员单位要建立联络员制度。")
    assert own_office.office == "县卫健局"
