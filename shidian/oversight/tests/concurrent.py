"""Helpers run as separate processes by test_concurrency.py, on a SQLite database file
(``DATABASE_URL`` and ``SHIDIAN_VAR_DIR`` come from the environment):

    python -m shidian.oversight.tests.concurrent setup <robot base URL>
    python -m shidian.oversight.tests.concurrent issue <count>
"""
from __future__ import annotations

import os
import sys


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from shidian.core.i18n import compile_catalogs

    compile_catalogs()
    import django

    django.setup()


def setup(base: str) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from shidian.oversight import services
    from shidian.oversight.models import Channel
    from shidian.oversight.testing import DINGTALK_SECRET, make_oversight_world

    ow = make_oversight_world()
    services.webhook_add(user=ow.office, plan_id=ow.plan.pk, kind=Channel.DINGTALK,
                         name="钉钉工作群", url=f"{base}/robot/send?access_token=t",
                         secret=DINGTALK_SECRET)
    services.webhook_add(user=ow.office, plan_id=ow.plan.pk, kind=Channel.WECOM,
                         name="企业微信工作群", url=f"{base}/cgi-bin/webhook/send?key=k")
    print(ow.plan.pk)


def issue(count: int) -> None:
    from shidian.orgs.models import User
    from shidian.oversight import services
    from shidian.plans.models import Plan

    office = User.objects.get(username="lx_office")
    plan = Plan.objects.get(title="泸县安宁疗护试点工作实施方案")
    task = plan.tasks.order_by("order").first()
    agency = task.units.get(role="lead").agency
    numbers = []
    for _ in range(count):
        notice = services.notice_issue(user=office, plan_id=plan.pk, agency_id=agency.pk,
                                       task_ids=[task.pk], title="关于加快推进的督办通知",
                                       body="请加快推进。")
        numbers.append(notice.number)
    print(" ".join(str(n) for n in numbers))


if __name__ == "__main__":
    _django()
    if sys.argv[1] == "setup":
        setup(sys.argv[2])
    elif sys.argv[1] == "issue":
        issue(int(sys.argv[2]))
