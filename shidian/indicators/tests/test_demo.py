"""The demo figures load through the services, and loading twice adds nothing."""
import json

from shidian.indicators import selectors
from shidian.indicators.demo import indicators_demo_load
from shidian.indicators.models import DataValue, Target, TargetStatus
from shidian.plans.testing import make_plan


def test_demo_figures_give_a_board_with_every_township(world, seed_dir):
    gold = json.loads((seed_dir / "11-helinger-psych.gold.json").read_text(encoding="utf-8"))
    plan = make_plan("和林格尔县社会心理服务体系建设试点工作实施方案", "510521")
    plan.source_name = "11-helinger-psych.txt"
    plan.parsed = {"indicators": gold["indicators"]}
    plan.save()
    indicators_demo_load(actor=world.office, log=lambda line: None)
    count = DataValue.objects.count()
    assert count > 0
    assert indicators_demo_load(actor=world.office, log=lambda line: None) == "already loaded"
    assert DataValue.objects.count() == count
    target = Target.objects.get(plan=plan, source_key="demo:rooms")
    board = selectors.target_board(target=target)
    assert {r.code for r in board.rows} == {"510521100", "510521101"}
    assert all(r.current is not None for r in board.rows)
    assert Target.objects.filter(plan=plan, status=TargetStatus.DRAFT).exists()
