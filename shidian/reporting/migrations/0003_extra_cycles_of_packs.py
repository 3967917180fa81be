"""The further cycles of programmes created from packs before the reporting app knew them.

Every cycle of a pack was recorded with the programme (``catalogue.InstalledCycle``), but only
the plan's own cycle reached ``shidian.reporting``: the others (seed 14's weekly report) were
followed by nobody. Each becomes the plan's ``ExtraCycle`` unless the plan has a cycle of its
kind already. Safe to run twice; going back removes nothing.
"""
from django.db import migrations


def copy(apps, schema_editor):
    InstalledCycle = apps.get_model("catalogue", "InstalledCycle")
    ReportingCycle = apps.get_model("reporting", "ReportingCycle")
    ExtraCycle = apps.get_model("reporting", "ExtraCycle")
    for cycle in (InstalledCycle.objects.filter(is_plan_cycle=False,
                                                install__plan__isnull=False)
                  .select_related("install").order_by("pk")):
        plan_id = cycle.install.plan_id
        main = ReportingCycle.objects.filter(plan_id=plan_id).values_list("kind", flat=True)
        if (main.first() or "monthly") == cycle.kind:
            continue
        if ExtraCycle.objects.filter(plan_id=plan_id, kind=cycle.kind).exists():
            continue
        ExtraCycle.objects.get_or_create(plan_id=plan_id, key=cycle.key, defaults={
            "label": cycle.label, "kind": cycle.kind, "due_day": cycle.due_day,
            "grace_days": cycle.grace_days, "starts_on": cycle.starts_on})


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0002_extra_cycles"),
        ("catalogue", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy, migrations.RunPython.noop),
    ]
