"""A minimal second pack, written into a folder by the tests: a one-person allowance with a
public notice counted in working days. Tests break parts of it to see the checks fire."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

CASE_TYPE: dict[str, Any] = {
    "key": "allowance",
    "label": {"zh": "生活补贴", "en": "Allowance"},
    "subject": {"name": "name", "id_number": "id_number", "division": "village"},
    "create": {"roles": ["case_worker"], "levels": ["village"]},
    "reveal": {"roles": ["case_worker"], "levels": ["county"]},
    "fields": [
        {"key": "name", "type": "text", "label": "姓名", "required": True},
        {"key": "id_number", "type": "id_number", "label": "身份证号", "required": True},
        {"key": "village", "type": "division", "level": "village", "label": "村",
         "required": True},
        {"key": "age", "type": "integer", "label": "年龄", "min": 0, "max": 130},
    ],
    "documents": [{"key": "form", "label": "申请表"}],
    "rules": {
        "elderly": {"expr": "age >= min_age", "message": "须年满60周岁",
                    "examples": [{"given": {"age": 60, "min_age": 60}, "expect": True},
                                 {"given": {"age": 59, "min_age": 60}, "expect": False}]},
    },
    "stages": [
        {"key": "applied", "label": "申请", "documents": ["form"],
         "time_limit": {"days": 5, "kind": "working"}},
        {"key": "notice", "label": "公示",
         "notice": {"days": 5, "kind": "working", "place": "村务公开栏", "title": "补贴公示",
                    "on_objection": "applied"}},
        {"key": "granted", "label": "发放", "payments": True},
        {"key": "done", "label": "办结", "outcome": "completed"},
    ],
    "transitions": [
        {"key": "post", "from": "applied", "to": "notice", "guards": ["elderly"],
         "by": {"roles": ["case_worker"], "levels": ["village"]}},
        {"key": "grant", "from": "notice", "to": "granted", "fix_entitlement": True,
         "by": {"roles": ["case_worker"], "levels": ["village"]}},
        {"key": "close", "from": "granted", "to": "done",
         "by": {"roles": ["case_worker"], "levels": ["village"]}},
    ],
}
TABLE: dict[str, Any] = {
    "key": "flat", "label": "统一标准", "params": {"min_age": 60},
    "rows": [{"when": "true", "amount": 300, "label": "每人300元"}],
    "tranches": [{"key": "all", "label": "一次发放", "share": 1, "after_stage": "granted"}],
    "examples": [{"given": {"age": 70}, "expect": 300}],
}


def write_pack(folder: Path, *, case_type: dict[str, Any] | None = None,
               table: dict[str, Any] | None = None, rules_py: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text(yaml.safe_dump(
        {"key": "allowance", "label": "生活补贴"}, allow_unicode=True), encoding="utf-8")
    (folder / "case_type.yaml").write_text(yaml.safe_dump(
        case_type or copy.deepcopy(CASE_TYPE), allow_unicode=True), encoding="utf-8")
    (folder / "tables").mkdir(exist_ok=True)
    (folder / "tables" / "flat.yaml").write_text(yaml.safe_dump(
        table or copy.deepcopy(TABLE), allow_unicode=True), encoding="utf-8")
    if rules_py is not None:
        (folder / "rules.py").write_text(rules_py, encoding="utf-8")
    return folder
