"""Give each sealed subject name (a patient's) the keyed hash of its pinyin.

Since 0008 a sensitive subject name left only its mask (李**) and an empty pinyin in the
subject's ``CasePerson`` row, so duplicate search compared masks: every two patients of one
village with the same surname, name length and close birth dates were proposed as the same
person, and 张三/章三 could not meet. Dedup now compares ``names.sealed_pinyin`` (``#`` + an
HMAC of the pinyin) for such rows; this fills it from the envelope for the cases there are.

Safe to run twice (a row already right is not written); going back leaves the hashes, which
the earlier code never reads as pinyin of a clear name (it never compared sealed rows right
anyway).
"""
from django.db import migrations


def _sealed_name_key(case_type: str) -> str:
    from shidian.cases.definitions import case_type_get

    try:
        definition = case_type_get(case_type)
    except Exception:  # noqa: BLE001 - a case type whose pack is gone: nothing to fill
        return ""
    name = definition.subject_name
    return name if name and definition.field(name).secret else ""


def fill(apps, schema_editor):
    from shidian.cases.names import sealed_pinyin
    from shidian.core import crypto

    Case = apps.get_model("cases", "Case")
    CasePerson = apps.get_model("cases", "CasePerson")
    for case_type in Case.objects.values_list("case_type", flat=True).distinct():
        key = _sealed_name_key(case_type)
        if not key:
            continue
        cases = Case.objects.filter(case_type=case_type).exclude(pii="").order_by("pk")
        for pk, pii in cases.values_list("pk", "pii").iterator():
            hashed = sealed_pinyin(str(crypto.decrypt_json(pii).get(key) or ""))
            CasePerson.objects.filter(case_id=pk, position=0).exclude(
                name_pinyin=hashed).update(name_pinyin=hashed)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0008_seal_sensitive_text"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
