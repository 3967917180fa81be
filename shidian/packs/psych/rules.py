"""What the psych pack's expressions cannot say: the hours of the training modules (seed 12c).

The eight basic modules and their hours (基础知识4、科普宣教2、问题识别4、人际沟通与干预8、
生活压力与应激管理4、精神康复管理2、重点人群服务4、特殊人群服务4 = 32 学时) and the optional
风险评估与转诊 module (4 学时); the hours of an "other" optional module are entered per trainee.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

BASIC_HOURS = {"basics": 4, "education": 2, "recognition": 4, "communication": 8, "stress": 4,
               "rehabilitation": 2, "key_groups": 4, "special_groups": 4}
OPTIONAL_HOURS = {"risk_referral": 4}


def attended(modules: Any) -> set[str]:
    return {k for k, v in (modules or {}).items() if isinstance(v, dict) and v.get("ok")}


def training_hours(modules: Any, other_hours: Any = None) -> Decimal:
    """学时 of the modules attended (the "other" module counts the hours entered for it)."""
    done = attended(modules)
    hours = sum(h for k, h in {**BASIC_HOURS, **OPTIONAL_HOURS}.items() if k in done)
    if "other" in done and other_hours is not None:
        hours += int(other_hours)
    return Decimal(hours)


def basic_modules_done(modules: Any) -> bool:
    return set(BASIC_HOURS) <= attended(modules)


FUNCTIONS = {"training_hours": training_hours, "basic_modules_done": basic_modules_done}
