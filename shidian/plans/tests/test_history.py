"""A task's history: every change of the task and its units, with who, when and from where."""
import pytest

from shidian.plans import services
from shidian.plans.models import UnitRole
from shidian.plans.selectors import task_history

pytestmark = pytest.mark.django_db


def test_history_lists_field_changes_and_removed_units_newest_first(wuhan_plan, office):
    task = wuhan_plan.tasks.get(path="(一)/2")
    services.task_update(user=office, task=task, data={"deadline_text": "2021年底前"})
    services.task_units_set(user=office, task=task, role=UnitRole.RESPONSIBLE,
                            names=["市公安局"])
    history = task_history(task=task)
    assert all(item.entry.actor == office for item in history)
    newest = history[0]
    assert "市公安局" in newest.what
    removed = [item for item in history if item.entry.action == 2]  # deletions
    assert {item.entry.object_repr for item in removed} == {"市卫生健康委", "各区人民政府"}
    deadline = [c for item in history for c in item.changes if c[2] == "2021年底前"]
    assert deadline and deadline[0][1] == ""
    # the unit's agency shows by name, not by id
    created = [c for item in history for c in item.changes if c[2] == "武汉市公安局"]
    assert created
