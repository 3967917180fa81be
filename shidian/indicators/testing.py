"""Builders for tests of the indicators services and pages: a small real tree (泸州市 with
泸县 and 合江县, their townships and villages), the people who work in it, and a monthly data
set of counselling rooms, as seed plan 11 asks for."""
from __future__ import annotations

from dataclasses import dataclass

from shidian.orgs.models import Division, Role, User
from shidian.orgs.testing import make_divisions, make_user

from . import services
from .models import Aggregation, DataElement, DataSet, Indicator, PeriodType, ValueType

# Townships and villages added under the builders' tree (real names of 泸县 and 合江县).
EXTRA = [
    ("510521101", "福集镇", "510521"),
    ("510521101001", "福集村", "510521101"),
    ("510521101002", "龙华村", "510521101"),
    ("510521100002", "云龙社区", "510521100"),
    ("510522100", "合江镇", "510522"),
    ("510522100001", "笔架山社区", "510522100"),
]


@dataclass
class World:
    office: User          # 泸州市 plan office
    county: User          # 泸县 office
    clerk: User           # 玉蟾街道 clerk (township)
    other_clerk: User     # 合江镇 clerk
    leader: User
    data_set: DataSet
    rooms: DataElement
    villages: DataElement
    rate: Indicator


def build_tree() -> dict[str, Division]:
    made = make_divisions()
    for code, name, parent in EXTRA:
        made[code], _ = Division.objects.get_or_create(
            code=code, defaults={"name": name, "level": {9: 4, 12: 5}[len(code)],
                                 "parent_id": parent})
    return made




def make_world() -> World:
    """The tree, five users and the counselling-room data set with its 建成率 indicator."""
    build_tree()
    office = make_user("city-office", role=Role.OFFICE, division_code="5105")
    county = make_user("luxian-office", role=Role.OFFICE, division_code="510521")
    clerk = make_user("yuchan-clerk", role=Role.CASE_WORKER, division_code="510521100")
    other = make_user("hejiang-clerk", role=Role.CASE_WORKER, division_code="510522100")
    leader = make_user("city-leader", role=Role.LEADER, division_code="5105")
    rooms = services.data_element_create(
        user=office, code="rooms", name="已建成心理咨询室的村（社区）数",
        value_type=ValueType.INTEGER, aggregation=Aggregation.LAST, unit="个")
    villages = services.data_element_create(
        user=office, code="villages", name="村（社区）总数", value_type=ValueType.INTEGER,
        aggregation=Aggregation.LAST, unit="个")
    data_set = services.data_set_create(
        user=office, name="心理咨询室建设月报", period_type=PeriodType.MONTH,
        elements=[rooms, villages], division=Division.objects.get(code="5105"), level=4,
        due_days=5, expiry_days=60)
    services.validation_rule_create(
        user=office, data_set=data_set, left="#{rooms}", operator="<=", right="#{villages}",
        message="建成数不能超过村（社区）总数")
    rate = services.indicator_create(
        user=office, name="村（社区）心理咨询室建成率", numerator="#{rooms}",
        denominator="#{villages}", factor=100, decimals=1, unit="%")
    return World(office, county, clerk, other, leader, data_set, rooms, villages, rate)
