"""Move the clear values of sensitive text fields into the encrypted envelope.

A pack that marks a text field ``sensitive: true`` after cases were registered (the psych
pack's patient names, guardians' names and phones) left those values in clear in ``data``,
``subject_name`` and the subject's ``CasePerson`` row. This moves each into the case's ``pii``
envelope, leaves its mask (张** for the subject's name, ****** for other text) and writes the
keyed hash of the subject's name for search by the exact name.

Safe to run twice: a value already in the envelope is left alone, and a row that needs nothing
is not written. Going back leaves the rows sealed (the earlier code shows the masks).
Timelines and the audit log are hash-chained and read-only: their history is not rewritten.
"""
from django.db import migrations

SENSITIVE_MASK = "******"


def _definition(case_type: str):
    from shidian.cases.definitions import case_type_get

    try:
        return case_type_get(case_type)
    except Exception:  # noqa: BLE001 - a case type whose pack is gone has nothing to seal
        return None


def seal(apps, schema_editor):
    from shidian.core import crypto

    Case = apps.get_model("cases", "Case")
    CasePerson = apps.get_model("cases", "CasePerson")
    for case_type in Case.objects.values_list("case_type", flat=True).distinct():
        definition = _definition(case_type)
        if definition is None:
            continue
        keys = [f.key for f in definition.fields if f.sensitive and f.type == "text"]
        if not keys:
            continue
        name_key = definition.subject_name if definition.subject_name in keys else ""
        for case in Case.objects.filter(case_type=case_type).order_by("pk").iterator():
            secrets = crypto.decrypt_json(case.pii) if case.pii else {}
            data = dict(case.data or {})
            sealed = False
            for key in keys:
                value = data.get(key)
                if key in secrets or value in (None, ""):
                    continue
                secrets[key] = value
                data[key] = crypto.mask_name(value) if key == name_key else SENSITIVE_MASK
                sealed = True
            fields = []
            if sealed:
                case.data, case.pii = data, crypto.encrypt_json(secrets)
                fields += ["data", "pii"]
            if name_key and secrets.get(name_key):
                name = crypto.mask_name(secrets[name_key])
                hashed = crypto.name_hash(secrets[name_key])
                if (case.subject_name, case.subject_name_hash) != (name, hashed):
                    case.subject_name, case.subject_name_hash = name, hashed
                    fields += ["subject_name", "subject_name_hash"]
                CasePerson.objects.filter(case_id=case.pk, position=0).exclude(
                    name=name, name_pinyin="").update(name=name, name_pinyin="")
            if fields:
                case.save(update_fields=fields)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0007_subject_name_hash"),
    ]

    operations = [
        migrations.RunPython(seal, migrations.RunPython.noop),
    ]
