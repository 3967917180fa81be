"""The 8+x training (seed 12c): hours of the modules attended, the eight basic modules and the
questionnaire required for the certificate of hours, which prints as Word."""
import io

import pytest
from docx import Document

from shidian.cases import services as case_services
from shidian.core.errors import ShidianError
from shidian.packs.psych import selectors, services
from shidian.packs.psych.rules import BASIC_HOURS, training_hours
from shidian.packs.psych.testing import VILLAGES

BASIC = {k: {"ok": True, "date": "2021-04-1" + str(i % 9)} for i, k in enumerate(BASIC_HOURS)}


def test_the_basic_modules_are_32_hours_and_options_add_theirs():
    # seed 12c: 4 + 2 + 4 + 8 + 4 + 2 + 4 + 4 class hours; 风险评估与转诊 4 more.
    assert training_hours(BASIC) == 32
    assert training_hours({**BASIC, "risk_referral": {"ok": True}}) == 36
    assert training_hours({**BASIC, "other": {"ok": True}}, 6) == 38
    assert training_hours({**BASIC, "communication": {"ok": False}}) == 24


@pytest.mark.django_db
def test_a_certificate_needs_the_eight_modules_and_the_questionnaire(world):
    trainee = case_services.case_create(user=world.township, programme=world.trainees, values={
        "trainee_name": "张丽", "village": VILLAGES[0], "unit": "玉蟾街道社区卫生服务中心",
        "category": "medical"})
    case_services.case_update(user=world.township, case_id=trainee.pk, values={
        "modules": {**BASIC, "special_groups": {"ok": False}, "risk_referral": {"ok": True}}})
    with pytest.raises(ShidianError) as err:
        case_services.case_transition(user=world.township, case_id=trainee.pk,
                                      transition="certify")
    assert "8个基本模块" in str(err.value.extra) + err.value.message
    case_services.case_update(user=world.township, case_id=trainee.pk, values={
        "modules": {**BASIC, "risk_referral": {"ok": True}}})
    with pytest.raises(ShidianError) as err:
        case_services.case_transition(user=world.township, case_id=trainee.pk,
                                      transition="certify")
    assert "问卷" in str(err.value.extra) + err.value.message
    with pytest.raises(ShidianError):
        services.certificate_docx(user=world.township, case_id=trainee.pk)
    case_services.case_update(user=world.township, case_id=trainee.pk, values={
        "questionnaire_opinion": "希望增加案例演练", "questionnaire_case": "邻里纠纷疏导一例",
        "questionnaire_reflection": "学会了倾听与共情"})
    case_services.case_transition(user=world.township, case_id=trainee.pk, transition="certify")

    grid = selectors.training_grid(user=world.township, programme=world.trainees)
    row = grid["rows"][0]
    assert row["hours"] == 36 and row["questionnaire"] and row["certified"]
    assert grid["attended"]["communication"] == 1 and grid["attended"]["other"] == 0

    name, content = services.certificate_docx(user=world.township, case_id=trainee.pk)
    assert name.endswith(".docx") and "张丽" in name
    text = "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)
    assert "培训学时证明" in text and "张丽" in text and "36" in text
    assert "风险评估与转诊培训模块（4学时，附加）：4学时" in text
    # Outside the scope: not found.
    with pytest.raises(ShidianError) as err:
        services.certificate_docx(user=world.neighbour, case_id=trainee.pk)
    assert err.value.extra["reason"] == "not_found"
