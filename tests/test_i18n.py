"""The interface speaks Chinese: every message the code and templates use has a translation."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "shidian"
LOCALE = SOURCE / "locale"

PY_CALL = re.compile(
    r"""\b(?:_|gettext|gettext_lazy|gettext_noop)\(\s*(?P<q>["'])(?P<msg>(?:\\.|(?!(?P=q)).)+)(?P=q)\s*[,)]"""
)
TEMPLATE_TAG = re.compile(r"""\{%\s*(?:translate|trans)\s+(?P<q>["'])(?P<msg>.+?)(?P=q)""")
BLOCK_TAG = re.compile(
    r"\{%\s*blocktrans(?:late)?(?P<args>[^%]*)%\}(?P<msg>.*?)\{%\s*endblocktrans(?:late)?\s*%\}",
    re.S,
)
VARIABLE = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


def catalogs():
    for path in sorted(LOCALE.glob("*/zh_Hans/LC_MESSAGES/django.po")):
        with path.open("rb") as handle:
            yield path, read_po(handle)


def _translated(message) -> bool:
    """A translation, every form of it for a plural message (babel gives tuples)."""
    return all(message.string) if isinstance(message.string, tuple) else bool(message.string)


def translated_ids() -> set[str]:
    """Translated msgids; a plural message by its singular."""
    return {m.id[0] if isinstance(m.id, tuple) else m.id
            for _, cat in catalogs() for m in cat if m.id and _translated(m)}


def used_ids() -> dict[str, str]:
    """msgid -> first file using it, from Python sources and templates (planparse excluded)."""
    used: dict[str, str] = {}
    for path in SOURCE.rglob("*.py"):
        if "planparse" in path.parts or "migrations" in path.parts or "tests" in path.parts:
            continue
        for m in PY_CALL.finditer(path.read_text(encoding="utf-8")):
            msg = m.group("msg").encode().decode("unicode_escape").encode("latin-1").decode()
            used.setdefault(msg, str(path.relative_to(ROOT)))
    for path in SOURCE.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for m in TEMPLATE_TAG.finditer(text):
            used.setdefault(m.group("msg"), str(path.relative_to(ROOT)))
        for m in BLOCK_TAG.finditer(text):
            if "trimmed" in m.group("args"):
                msg = " ".join(line.strip() for line in m.group("msg").strip().splitlines())
            else:
                msg = m.group("msg")
            msg = re.split(r"\{%\s*plural\s*%\}", msg)[0]  # a plural message by its singular
            msg = VARIABLE.sub(lambda v: "%(" + v.group(1) + ")s", msg)
            used.setdefault(msg, str(path.relative_to(ROOT)))
    return used


def test_every_catalog_entry_is_translated():
    empty = [f"{path.parent.parent.parent.parent.name}: {m.id!r}"
             for path, cat in catalogs() for m in cat if m.id and (not _translated(m) or m.fuzzy)]
    assert not empty, "untranslated or fuzzy entries:\n" + "\n".join(empty)


def test_a_message_lives_in_one_catalog_only():
    counts = Counter(m.id for _, cat in catalogs() for m in cat if m.id)
    twice = sorted(msg for msg, n in counts.items() if n > 1)
    assert not twice, "messages in more than one catalog: " + ", ".join(twice)


def test_every_message_used_has_a_chinese_translation():
    known = translated_ids()
    missing = sorted(f"{where}: {msg!r}" for msg, where in used_ids().items() if msg not in known)
    assert not missing, "messages without a zh_Hans translation:\n" + "\n".join(missing)


def test_the_login_page_speaks_chinese(client):
    response = client.get("/login/")
    assert "登录" in response.content.decode()
