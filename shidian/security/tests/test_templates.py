"""Every page template obeys the Content-Security-Policy: no inline script, no inline event
handler, no style attribute or element (the CSP would refuse them in the browser)."""
from __future__ import annotations

import re
from pathlib import Path

import shidian

SOURCE = Path(shidian.__file__).resolve().parent
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.I)


def test_no_template_has_inline_scripts_handlers_or_styles():
    found = []
    for path in sorted(SOURCE.rglob("templates/**/*.html")):
        text = path.read_text(encoding="utf-8")
        for name, pattern in (("inline script", INLINE_SCRIPT), ("event handler", HANDLER),
                              ("style attribute", STYLE_ATTRIBUTE),
                              ("style element", STYLE_ELEMENT)):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(SOURCE)}:{line}: {name}")
    assert not found, "the CSP would refuse:\n" + "\n".join(found)
