"""The API enters and reads figures with the same scope as the pages."""
from datetime import timedelta

from django.utils import timezone

from shidian.core.periods import PeriodKind, period_containing
from shidian.indicators.models import DataValue

BASE = "/api/indicators"


def last_month():
    return period_containing(timezone.localdate(), PeriodKind.MONTH).previous()


def test_a_clerk_enters_its_townships_values_through_the_api(client, world):
    client.force_login(world.clerk)
    url = f"{BASE}/data-sets/{world.data_set.pk}/values/"
    response = client.post(url, {"division": "510521100", "period": last_month().id,
                                 "values": {"rooms": "3", "villages": "10"}},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["changed"] == 2
    read = client.get(url, {"division": "510521100", "period": last_month().id}).json()
    assert read["values"] == {"rooms": "3", "villages": "10"} and read["reported"]


def test_another_township_or_a_blocked_rule_changes_nothing(client, world):
    client.force_login(world.clerk)
    url = f"{BASE}/data-sets/{world.data_set.pk}/values/"
    response = client.post(url, {"division": "510522100", "period": last_month().id,
                                 "values": {"rooms": "3"}}, content_type="application/json")
    assert response.status_code == 404
    response = client.post(url, {"division": "510521100", "period": last_month().id,
                                 "values": {"rooms": "30", "villages": "10"}},
                           content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert not DataValue.objects.exists()


def test_a_county_reads_its_subtree_only(client, world):
    client.force_login(world.clerk)
    client.post(f"{BASE}/data-sets/{world.data_set.pk}/values/",
                {"division": "510521100", "period": last_month().id,
                 "values": {"rooms": "4", "villages": "10"}}, content_type="application/json")
    client.force_login(world.county)
    url = f"{BASE}/indicators/{world.rate.pk}/values/"
    rows = client.get(url, {"period": last_month().id}).json()
    assert rows[0]["code"] == "510521" and rows[0]["value"] == 40.0
    assert client.get(url, {"area": "510522", "period": last_month().id}).status_code == 404
    grid = client.get(f"{BASE}/data-sets/{world.data_set.pk}/completeness/",
                      {"period": last_month().id}).json()
    assert grid[-1] == {"code": "510521", "name": "泸县", "expected": 2, "actual": 1,
                        "on_time": 1 if timezone.localdate() <= last_month().end + timedelta(
                            days=5) else 0}
