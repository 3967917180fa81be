"""Strategies that turn real input (seed plans, the product's own templates) into hostile input.

Starting from real files matters: random bytes only exercise the "not a file" branch, while a
template with a few cells changed reaches the row checks, the lookups and the writes.
"""
from __future__ import annotations

import io
import os
import zipfile
from datetime import date, datetime
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
SEED_PLANS = sorted((ROOT / "shidian" / "demo" / "seed_plans").glob("*.txt"))

EXAMPLES = int(os.environ.get("SHIDIAN_FUZZ_EXAMPLES", "25"))
# The suite replays the same examples on every run (a red build is reproducible); bench/fuzz.py
# sets SHIDIAN_FUZZ_RANDOM=1 to explore new ones.
RANDOM = os.environ.get("SHIDIAN_FUZZ_RANDOM") == "1"
fuzz_settings = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM,
                         database=None, suppress_health_check=list(HealthCheck))


class Blob(bytes):
    """File content that hypothesis reports by size, not by its thousands of bytes."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes>"


def seed_text(index: int) -> str:
    return SEED_PLANS[index % len(SEED_PLANS)].read_text(encoding="utf-8")


# ---- text ---------------------------------------------------------------------------------

NASTY = ["", " ", "\u3000", "\ufeff", "\x00", "\r", "\r\n", "\t", "🙂", "𠀀", "‮", "\\", "'", '"',
         "%s", "{}", "{{x}}", "<script>", "=1/0", "=HYPERLINK(\"http://x\")", "+1", "-", "@SUM(A1)",
         "一、", "(一)", "1.", "——", "牵头单位:", "2021年", "12月底前", "80%", "9" * 40,
         "x" * 300, "51", "510521", "510521100001", "NaN", "inf", "-0", "1e308", "0.0000001"]


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    """A seed plan with lines deleted, duplicated, swapped, cut or sprinkled with nasty bits."""
    lines = seed_text(draw(st.integers(0, 1000))).splitlines()
    for _ in range(draw(st.integers(1, 12))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "dup", "swap", "cut", "insert", "join"]))
        if op == "delete":
            del lines[i]
        elif op == "dup":
            lines[i:i] = [lines[i]] * draw(st.integers(1, 30))
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "cut":
            line = lines[i]
            k = draw(st.integers(0, len(line)))
            lines[i] = line[:k]
        elif op == "insert":
            k = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:k] + draw(st.sampled_from(NASTY) | st.text(max_size=8)) \
                + lines[i][k:]
        else:
            lines[i:i + 2] = ["".join(lines[i:i + 2])]
    return "\n".join(lines)


# ---- bytes --------------------------------------------------------------------------------

@st.composite
def mutated_bytes(draw: st.DrawFn, original: bytes) -> bytes:
    """Flip, drop, duplicate or truncate bytes of a real file."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "drop", "dup", "truncate", "zero"]))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "drop":
            del data[i:i + draw(st.integers(1, 64))]
        elif op == "dup":
            data[i:i] = data[i:i + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[i:]
        else:
            data[i:i + 16] = bytes(min(16, len(data) - i))
    return Blob(data)


@st.composite
def mutated_zip_member(draw: st.DrawFn, original: bytes) -> bytes:
    """An Office file whose XML parts are damaged but whose zip is still valid: reaches the
    XML readers rather than stopping at the zip check."""
    source = zipfile.ZipFile(io.BytesIO(original))
    names = source.namelist()
    victim = draw(st.sampled_from(names))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in names:
            content = source.read(name)
            if name == victim:
                content = draw(mutated_bytes(content))
            if name != victim or draw(st.booleans()):
                target.writestr(name, content)
    return Blob(out.getvalue())


# ---- workbooks ----------------------------------------------------------------------------

cell_values = st.one_of(
    st.none(), st.sampled_from(NASTY), st.text(max_size=40),
    st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.dates(min_value=date(1900, 1, 2), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 1, 1)),
)


@st.composite
def mutated_workbook(draw: st.DrawFn, template: bytes, *, first_row: int = 2,
                     columns: int = 12) -> bytes:
    """The product's own template with cells overwritten, rows added, or header cells damaged."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import IllegalCharacterError

    book = load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    last = max(sheet.max_row, first_row) + draw(st.integers(0, 6))
    for _ in range(draw(st.integers(1, 25))):
        row = draw(st.integers(1, last))
        column = draw(st.integers(1, columns))
        value = draw(cell_values)
        try:
            sheet.cell(row=row, column=column).value = value
        except (ValueError, TypeError, AttributeError, IllegalCharacterError):
            continue  # a merged cell or a value openpyxl itself refuses to write
    if draw(st.integers(0, 9)) == 0:
        book.create_sheet("附表", 0)  # an extra sheet before the data
    out = io.BytesIO()
    try:
        book.save(out)
    except (ValueError, TypeError):
        return Blob(template)
    return Blob(out.getvalue())
