"""A national plan (no division) exports like any other."""
from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook

from shidian.orgs.models import Role
from shidian.orgs.testing import make_user
from shidian.plans.testing import make_plan, make_programme

pytestmark = pytest.mark.django_db


def test_exports_of_a_national_plan_open(client):
    plan = make_plan("现代学徒制试点工作实施方案", "51",
                     programme=make_programme("现代学徒制试点", division_code=None),
                     tasks=[{"title": "完善招生招工一体化"}])
    plan.division = None
    plan.save(update_fields=["division"])
    client.force_login(make_user("ministry", role=Role.OFFICE))
    for name in ("export_decomposition", "export_progress", "export_bulletin"):
        response = client.get(f"/reporting/plans/{plan.pk}/" + {
            "export_decomposition": "decomposition.xlsx", "export_progress": "progress.xlsx",
            "export_bulletin": "bulletin.docx"}[name])
        assert response.status_code == 200, name
        content = b"".join(response) if response.streaming else response.content
        if name == "export_bulletin":
            text = "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)
            assert "全国" in text or plan.title in text
        else:
            load_workbook(io.BytesIO(content))
