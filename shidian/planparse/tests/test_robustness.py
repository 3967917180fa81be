"""The parser never crashes: any text gives a plan (maybe empty), any file gives text or a clean
ReadError with a one-line Chinese reason. (Linear time is measured by bench/parse.py, not here.)"""
import io
import json
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shidian.planparse import parse_text
from shidian.planparse.cli import main as cli_main
from shidian.planparse.output import render_json, render_markdown, write_xlsx
from shidian.planparse.readers import ReadError, read_bytes, read_file

# fragments of real plans, so that generated texts reach the parser's patterns, not only its
# "nothing here" paths
FRAGMENTS = [
    "一、", "二、", "(一)", "(二)", "(三)", "1.", "2、", "(1)", "①", "——", "一是", "第三章", "\n", "\n\n", "\t",
    "。", ",", "、", ":", ";", "(", ")", "组长:", "副组长:", "成员:", "办公室主任", "领导小组", "工作小组",
    "办公室设在", "任组长", "为成员", "牵头", "配合", "负责", "责任单位:", "牵头单位:", "排名第一为牵头单位",
    "县卫健局", "县民政局", "区卫生健康委员会", "张伟", "图亚副县长", "2019年8-11月", "2020年10月-2021年12月",
    "年底前", "每月月底前", "每年11月底前", "上半年", "达到80%以上", "不少于1:4000", "人均13平方米以上",
    "每年不少于两次", "万元", "公示期不少于3天", "合计", "3", "40", "国有企业30家", "实施步骤", "工作目标",
    "保障措施", "启动阶段", "(2021年1月-2021年5月)", "2022年6月底前", "\u3000", "\ufeff", "\x00", "🙂",
]
plan_like = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=120).map("".join)


def check_draft(text):
    draft = parse_text(text, name="h")
    data = json.loads(render_json(draft))
    assert data["id"] == "h"
    for finding in draft.findings:
        assert finding.message
        if finding.start is not None:
            assert 0 <= finding.start <= finding.end <= len(text)
            assert 1 <= finding.line <= text.count("\n") + 1
    render_markdown(draft)
    return draft


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=3000))
def test_any_unicode_text_parses(text):
    check_draft(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_like)
def test_any_mixture_of_plan_fragments_parses(text):
    check_draft(text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_like)
def test_any_parsed_plan_can_be_written_as_a_workbook(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("xlsx") / "plan.xlsx"
    write_xlsx(parse_text(text, name="h"), path)
    assert path.stat().st_size > 0


def read_or_refuse(data, name):
    try:
        text = read_bytes(data, name)
    except ReadError as exc:
        assert exc.reason and "\n" not in str(exc)
        return None
    assert isinstance(text, str)
    check_draft(text)
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000), st.sampled_from(["a.txt", "a.docx", "a.pdf", "a.html", "a.htm", "noext"]))
def test_binary_garbage_is_text_or_a_clean_error(data, name):
    read_or_refuse(data, name)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_garbage_behind_real_magic_numbers_is_a_clean_error(data):
    for head, name in ((b"%PDF-1.4\n", "x.pdf"), (b"PK\x03\x04", "x.docx"), (b"<html><body>", "x.html")):
        read_or_refuse(head + data, name)


def test_a_zip_that_is_not_a_word_document(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "不是 Word 文件")
    path = tmp_path / "fake.docx"
    path.write_bytes(buffer.getvalue())
    try:
        read_file(path)
    except ReadError as exc:
        assert "Word" in exc.reason
    else:
        raise AssertionError("a zip without a document part was read as a Word file")


def test_a_word_document_cut_in_half(seed_dir, tmp_path):
    import docx

    document = docx.Document()
    for line in (seed_dir / "05-luxian-hospice.txt").read_text(encoding="utf-8").split("\n"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    data = buffer.getvalue()
    assert read_or_refuse(data[: len(data) // 2], "half.docx") is None


def test_empty_files_of_every_kind(tmp_path):
    results = {}
    for name in ("empty.txt", "empty.html", "empty.docx", "empty.pdf", "empty"):
        path = tmp_path / name
        path.write_bytes(b"")
        try:
            results[name] = read_file(path)
        except ReadError as exc:
            results[name] = exc
    assert results["empty.txt"] == "" and results["empty.html"] == "" and results["empty"] == ""
    assert isinstance(results["empty.docx"], ReadError) and isinstance(results["empty.pdf"], ReadError)
    assert parse_text("", name="e").to_dict()["tasks"] == []


def test_deeply_nested_html_is_read_or_refused_cleanly():
    page = b"<html><body>" + b"<div>" * 5000 + "一、主要任务".encode() + b"</div>" * 5000 + b"</body></html>"
    read_or_refuse(page, "deep.html")


def test_a_10_mb_plan_is_parsed(seed_dir, tmp_path):
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in sorted(seed_dir.glob("*.txt")))
    repeats = 10 * 1024 * 1024 // len(corpus.encode("utf-8")) + 1
    path = tmp_path / "big.txt"
    path.write_text(corpus * repeats, encoding="utf-8")
    assert path.stat().st_size >= 10 * 1024 * 1024
    draft = parse_text(read_file(path), name="big")
    assert draft.tasks and draft.leading_group
    json.dumps(draft.to_dict(), ensure_ascii=False)


def test_10_mb_of_binary_garbage_is_refused(tmp_path):
    import random

    rng = random.Random(7)
    path = tmp_path / "garbage.txt"
    path.write_bytes(bytes(rng.getrandbits(8) for _ in range(10 * 1024 * 1024)))
    assert cli_main([str(path), "--out", str(tmp_path / "out")]) == 1
    assert not (tmp_path / "out" / "garbage.json").exists()
