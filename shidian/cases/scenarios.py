"""Run a pack's scenarios (``scenarios/*.yaml``): households with their expected outcome.

Two kinds, told apart by their keys:

* **rules** (``household`` + ``expect`` with ``eligible``/``subsidy``/``checks``): the pure
  engine — rules and the decision table of ``table`` — on one household, no database;
* **workflow** (``steps``): a household carried through the services by clerks at each level
  (``as: village|township|county|office|neighbour|liaison``), each step an action and,
  optionally, what must happen (``fails: <reason>``) or hold afterwards (``expect``).

Step keys: ``register`` (household overrides), ``upload`` (document kinds), ``set`` (fields),
``do`` (transition, with ``reason``), ``notice`` (``starts``), ``object`` and ``decide`` (the
last notice's objection), ``pay`` (every planned tranche), ``reveal`` (a secret field), and
``on: YYYY-MM-DD`` to date the step. A pack's ``tests.py`` calls ``run_rules_scenario`` and
``run_workflow_scenario``; they raise ``AssertionError`` naming the step that went wrong.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from shidian.core.errors import ShidianError

from . import engine
from .definitions import CaseTypeDef


def load_scenarios(pack_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    scenarios = []
    for path in sorted((Path(pack_dir) / "scenarios").glob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            document = yaml.safe_load(handle) or {}
        for i, scenario in enumerate(document.get("scenarios") or []):
            scenarios.append((f"{path.stem}[{i}] {scenario.get('name', '')}", scenario))
    return scenarios


def is_workflow(scenario: dict[str, Any]) -> bool:
    return "steps" in scenario


def run_rules_scenario(case_type: CaseTypeDef, scenario: dict[str, Any]) -> None:
    table = case_type.table(scenario["table"])
    params = scenario.get("params") or {}
    values = engine.example_values(case_type, scenario["household"])
    env = engine.rule_env(case_type, values, params=params, table=table)
    expect = scenario["expect"]
    if "eligible" in expect:
        result = engine.rule_check(case_type, case_type.rule("eligible"), env)
        assert result.ok is expect["eligible"], f"eligible: {result}"
    for rule, wanted in (expect.get("checks") or {}).items():
        result = engine.rule_check(case_type, case_type.rule(rule), env)
        assert result.ok is wanted, f"{rule}: expected {wanted}, got {result}"
    if "subsidy" in expect:
        entitlement = engine.entitlement_compute(case_type, table, values, params=params)
        assert entitlement.total == Decimal(str(expect["subsidy"])), (
            f"subsidy: expected {expect['subsidy']}, got {entitlement.total} "
            f"({[(line.label, line.amount) for line in entitlement.lines]})")


def run_workflow_scenario(case_type: CaseTypeDef, scenario: dict[str, Any]) -> Any:
    """Carry one household through the steps; returns the case at the end."""
    from . import services, testing
    from .models import Case, NoticeObjection, Payment, PaymentStatus, PublicNotice

    workers = testing.make_workers()
    programme = testing.make_programme(table=scenario.get("table", "shandong-2016"),
                                       year=int(scenario.get("year", 2025)),
                                       params=scenario.get("params"))
    today = _date(scenario.get("today")) or dt.date(2025, 9, 1)
    case = None
    for number, step in enumerate(scenario["steps"], start=1):
        today = _date(step.get("date")) or today
        user = workers[step.get("as", "village")]
        where = f"step {number} {step}"
        try:
            if "register" in step:
                values = testing.household(**(step["register"] or {}))
                case = services.case_create(user=user, programme=programme, values=values,
                                            today=today)
            elif "upload" in step:
                for kind in step["upload"]:
                    services.document_add(user=user, case_id=case.pk, kind=kind,
                                          name=f"{kind}.png", content=testing.PNG)
            elif "set" in step:
                services.case_update(user=user, case_id=case.pk, values=step["set"],
                                     today=today)
            elif "do" in step:
                services.case_transition(user=user, case_id=case.pk, transition=step["do"],
                                         reason=step.get("reason", ""), today=today)
            elif "notice" in step:
                case.refresh_from_db()
                services.notice_publish(user=user, programme=programme, stage=case.stage,
                                        case_ids=[case.pk],
                                        starts_on=_date(step["notice"]["starts"]), today=today)
            elif "object" in step:
                notice = PublicNotice.objects.filter(entries__case=case).latest("created_at")
                services.objection_record(user=user, notice_id=notice.pk, case_id=case.pk,
                                          received_on=today, content=step["object"],
                                          today=today)
            elif "decide" in step:
                objection = NoticeObjection.objects.filter(case=case).latest("id")
                services.objection_decide(user=user, objection_id=objection.pk,
                                          upheld=bool(step["decide"]["upheld"]),
                                          decision=step["decide"]["decision"], today=today)
            elif "pay" in step:
                for payment in Payment.objects.filter(case=case, status=PaymentStatus.PLANNED):
                    services.payment_record(user=user, payment_id=payment.pk, paid_on=today,
                                            reference="BANK-0001", voucher_name="voucher.png",
                                            voucher_content=testing.PNG, today=today)
            elif "reveal" in step:
                value = services.case_reveal(user=user, case_id=case.pk,
                                             field_key=step["reveal"])
                assert value and "*" not in value, f"{where}: revealed {value!r}"
            elif "expect" not in step:
                raise AssertionError(f"{where}: unknown step")
        except ShidianError as exc:
            if step.get("fails") != exc.extra.get("reason"):
                raise AssertionError(f"{where}: refused with {exc.extra.get('reason')}: "
                                     f"{exc.message}") from exc
        else:
            assert "fails" not in step, f"{where}: expected a refusal ({step['fails']})"
        if "expect" in step and case is not None:
            case = Case.objects.get(pk=case.pk)
            _expect(case, step["expect"], where)
    return case


def _expect(case: Any, expect: dict[str, Any], where: str) -> None:
    for key, wanted in expect.items():
        if key == "entitlement":
            got: Any = case.entitlement
            assert got == Decimal(str(wanted)), f"{where}: entitlement {got} != {wanted}"
        elif key == "due_on":
            assert case.due_on == _date(wanted), f"{where}: due_on {case.due_on} != {wanted}"
        else:
            got = getattr(case, key)
            assert got == wanted, f"{where}: {key} is {got!r}, expected {wanted!r}"


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
