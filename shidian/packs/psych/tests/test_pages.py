"""The psych pages a user reaches from 社会心理服务: the follow-up board with the missed visit
on top, recording a visit, the room registry with its rate, the training grid."""
import datetime as dt

import pytest

from shidian.cases import needtoknow
from shidian.cases import services as case_services
from shidian.cases.models import FollowUp
from shidian.packs.psych import services
from shidian.packs.psych.testing import patient_values


@pytest.mark.django_db
def test_the_doctor_sees_the_missed_visit_and_records_it(world, client):
    today = dt.date.today()
    case = case_services.case_create(user=world.grid, programme=world.patients,
                                     today=today - dt.timedelta(days=40),
                                     values=patient_values(registered_on=(
                                         today - dt.timedelta(days=40)).isoformat()))
    needtoknow.member_add(user=world.grid, case=case, member=world.doctor,
                          duty="psych_doctor", initial=True)
    client.force_login(world.doctor)
    page = client.get(f"/psych/p/{world.patients.pk}/followups/").content.decode()
    assert 'data-testid="missed"' in page and "李**" in page and "李建国" not in page
    response = client.post(f"/psych/patients/{case.pk}/visits/", {
        "visited_on": today.isoformat(), "risk_grade": "4", "medication": "regular",
        "guidance": "1", "visit_mode": "home", "note": "情绪激动"})
    assert response.status_code == 302
    assert FollowUp.objects.filter(case=case, done_on=today).exists()
    page = client.get(f"/psych/patients/{case.pk}/").content.decode()
    assert "紧急转诊" in page and "精神分裂症" in page and "情绪激动" in page

    client.force_login(world.office)
    page = client.get(f"/psych/p/{world.patients.pk}/followups/").content.decode()
    assert 'data-testid="followup-counts"' in page and "李" not in page.split(
        'data-testid="followup-counts"')[1]


@pytest.mark.django_db
def test_the_room_and_training_pages(world, client):
    services.rooms_register_villages(user=world.office, programme=world.rooms)
    client.force_login(world.office)
    page = client.get(f"/psych/p/{world.rooms.pk}/rooms/").content.decode()
    assert "0.0%" in page and "大田村" in page
    assert client.post(f"/psych/p/{world.rooms.pk}/rooms/",
                       {"action": "figures"}).status_code == 302
    from shidian.indicators.models import IndicatorValue
    from shidian.packs.psych.figures import indicator_by_key

    rate = indicator_by_key("room_rate")
    assert IndicatorValue.objects.get(indicator_id=rate.pk, code="510521",
                                      period=dt.date.today().strftime("%YM%m")).value == 0.0
    client.force_login(world.grid)
    assert client.post(f"/psych/p/{world.rooms.pk}/rooms/",
                       {"action": "figures"}).status_code == 302  # refused with a message
    client.force_login(world.office)
    assert client.get(f"/psych/p/{world.trainees.pk}/training/").status_code == 200
    assert client.get("/psych/").status_code == 200
    # A programme of another kind is not found under these pages.
    assert client.get(f"/psych/p/{world.rooms.pk}/training/").status_code == 404
    client.force_login(world.neighbour)
    assert client.get(f"/psych/p/{world.rooms.pk}/rooms/").status_code == 404


@pytest.mark.django_db
def test_the_generic_case_pages_serve_the_packs_programmes(world, client):
    case = case_services.case_create(user=world.grid, programme=world.patients,
                                     today=dt.date(2020, 6, 3),
                                     values=patient_values(registered_on="2020-06-03"))
    for user in (world.office, world.grid):
        client.force_login(user)
        for url in ["/cases/", f"/cases/p/{world.patients.pk}/", f"/cases/p/{world.rooms.pk}/",
                    f"/cases/p/{world.rooms.pk}/new/", f"/cases/p/{world.trainees.pk}/new/"]:
            assert client.get(url).status_code == 200, (user, url)
    client.force_login(world.office)
    assert "李建国" not in client.get(f"/cases/p/{world.patients.pk}/").content.decode()
    client.force_login(world.grid)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    # The generic record masks the name (张**) and the diagnosis; the full name is on the
    # patient's page only.
    assert "李**" in page and "李建国" not in page and "******" in page
    assert "精神分裂症</dd>" not in page
