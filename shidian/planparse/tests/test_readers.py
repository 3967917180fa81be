"""Readers: the same plan arrives as GBK text, a Word file, a scraped web page or a PDF, and the
parser must see the same text each time; unreadable files give one Chinese line naming the reason."""
import html
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from shidian.planparse import parse_file, parse_text
from shidian.planparse.readers import ReadError, read_bytes, read_file
from shidian.planparse.readers.normalize import clean_text, squeeze_cjk_spaces

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def seed_text(seed_dir, stem):
    return (seed_dir / f"{stem}.txt").read_text(encoding="utf-8")


def lines_of(text):
    return [line.strip() for line in text.split("\n") if line.strip()]


# ------------------------------------------------------------------ plain text


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-16"])
def test_a_plan_saved_in_a_chinese_or_unicode_encoding_reads_as_the_same_text(seed_dir, tmp_path, encoding):
    text = seed_text(seed_dir, "11-helinger-psych")
    path = tmp_path / "plan.txt"
    path.write_bytes(text.encode(encoding))
    assert read_file(path) == text


def test_gb18030_characters_outside_gbk_survive(tmp_path):
    text = "成立䶮镇试点工作领导小组,组长:𠀾某某。\n"
    path = tmp_path / "rare.txt"
    path.write_bytes(text.encode("gb18030"))
    assert read_file(path) == text


def test_windows_line_ends_become_newlines(seed_dir, tmp_path):
    text = seed_text(seed_dir, "05-luxian-hospice")
    path = tmp_path / "crlf.txt"
    path.write_bytes(text.replace("\n", "\r\n").encode("gbk"))
    assert read_file(path) == text


def test_an_empty_file_is_an_empty_plan_not_an_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert read_file(path) == ""
    draft = parse_text(read_file(path), name="empty")
    assert draft.tasks == [] and draft.leading_group == []


def test_binary_data_named_txt_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ReadError) as caught:
        read_file(path)
    assert "二进制" in caught.value.reason or "编码" in caught.value.reason
    assert "image.txt" in str(caught.value)


@pytest.mark.parametrize("name,words", [("old.doc", "另存为 .docx"), ("sheet.xlsx", "表格"), ("plan.wps", "WPS")])
def test_unsupported_formats_say_what_to_do(tmp_path, name, words):
    path = tmp_path / name
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    with pytest.raises(ReadError) as caught:
        read_file(path)
    assert words in caught.value.reason
    assert "\n" not in str(caught.value)


def test_missing_file_and_folder_are_read_errors(tmp_path):
    with pytest.raises(ReadError, match="文件不存在"):
        read_file(tmp_path / "nope.txt")
    with pytest.raises(ReadError, match="文件夹"):
        read_file(tmp_path)


def test_pdf_radicals_and_spaces_are_repaired():
    # Noto CJK text layers map some glyphs to radicals; pdfplumber spaces out digits
    assert clean_text("⼈⺠医院") == "人民医院"
    assert squeeze_cjk_spaces("2019 年 8-11 月 确定试点 , 达到 80 % 以上") == "2019年8-11月确定试点,达到80%以上"
    assert squeeze_cjk_spaces("Word 2016 版") == "Word 2016版"


# ------------------------------------------------------------------ Word


def make_docx(text, *, table_rows=None):
    import docx

    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    if table_rows:
        table = document.add_table(rows=len(table_rows), cols=len(table_rows[0]))
        for r, row in enumerate(table_rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_word_file_made_from_a_seed_reads_as_the_seed_text(seed_dir, tmp_path):
    text = seed_text(seed_dir, "12f-wuhan-psych")
    path = tmp_path / "12f-wuhan-psych.docx"
    path.write_bytes(make_docx(text))
    assert read_file(path) == text
    assert parse_file(path).to_dict() == parse_text(text, name="12f-wuhan-psych").to_dict()


def test_word_tables_come_out_in_place_as_tab_separated_rows(tmp_path):
    rows = [["省级团委", "国有企业", "非公企业"], ["北京", "1", "5"], ["天津", "2", "4"], ["合计", "3", "9"]]
    path = tmp_path / "alloc.docx"
    path.write_bytes(make_docx("附件:试点单位分配表", table_rows=rows))
    assert read_file(path).split("\n") == ["附件:试点单位分配表", "省级团委\t国有企业\t非公企业",
                                           "北京\t1\t5", "天津\t2\t4", "合计\t3\t9"]


def test_word_automatic_numbering_is_shown_like_the_printed_page(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("主要任务")
    document.add_paragraph("加强宣传教育", style="List Number")
    document.add_paragraph("开展基线调查", style="List Number")
    buffer = io.BytesIO()
    document.save(buffer)
    path = tmp_path / "numbered.docx"
    path.write_bytes(buffer.getvalue())
    assert read_file(path).split("\n") == ["主要任务", "1.加强宣传教育", "2.开展基线调查"]


def test_an_old_word_file_renamed_docx_says_to_save_it_as_docx(tmp_path):
    path = tmp_path / "renamed.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(ReadError, match="另存为 .docx"):
        read_file(path)


def test_a_word_file_saved_with_a_txt_name_is_still_read(seed_dir, tmp_path):
    text = seed_text(seed_dir, "12a-fengyang-psych-meeting")
    path = tmp_path / "misnamed.txt"
    path.write_bytes(make_docx(text))
    assert read_file(path) == text


def test_a_damaged_word_file_is_a_read_error(tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with pytest.raises(ReadError) as caught:
        read_file(path)
    assert "Word" in caught.value.reason


# ------------------------------------------------------------------ web pages


def page_around(text, *, charset="utf-8"):
    links = "".join(f'<li><a href="/c{i}">栏目导航{i}</a></li>' for i in range(12))
    body = "".join(f"<p>{html.escape(line)}</p>\n" for line in text.split("\n") if line.strip())
    return (f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>通知公告</title>'
            f'<script>var tracker = 1;</script></head><body>'
            f'<div id="header"><div class="logo">某某县人民政府门户网站</div><ul class="nav">{links}</ul></div>'
            f'<div class="banner-ad"><a href="http://ad.example.com">广告:点击领取优惠大礼包</a></div>'
            f'<div class="breadcrumb">当前位置:首页 &gt; 政务公开 &gt; 通知公告</div>'
            f'<div class="main"><div class="article">{body}</div>'
            f'<div class="sidebar"><h3>相关链接</h3><ul>{links}</ul></div></div>'
            f'<div id="footer">版权所有 某某县人民政府 备案号:某ICP备12345678号</div></body></html>')


@pytest.mark.parametrize("stem", ["07c-ningde-housing", "14-huxi-governance"])
def test_a_scraped_page_yields_the_plan_without_navigation_or_ads(seed_dir, tmp_path, stem):
    text = seed_text(seed_dir, stem)
    path = tmp_path / f"{stem}.html"
    path.write_text(page_around(text), encoding="utf-8")
    got = read_file(path)
    assert lines_of(got) == lines_of(text)
    for furniture in ("栏目导航", "广告", "版权所有", "当前位置", "tracker"):
        assert furniture not in got


def test_a_gbk_page_is_decoded_from_its_meta_charset(seed_dir, tmp_path):
    text = seed_text(seed_dir, "05-luxian-hospice")
    path = tmp_path / "gbk.htm"
    path.write_bytes(page_around(text, charset="gb2312").encode("gbk"))
    assert lines_of(read_file(path)) == lines_of(text)


def test_a_table_on_a_web_page_keeps_its_rows(tmp_path):
    text = "\n".join(f"第{i}段:这里是方案正文的一个段落,用来让正文足够长以便识别为主要内容。" for i in range(12))
    page = page_around(text).replace(
        '</div><div class="sidebar">',
        "<table><tr><td>序号</td><td>任务</td><td>牵头单位</td></tr>"
        "<tr><td>1</td><td>建立工作机制</td><td>县卫健局</td></tr></table></div><div class=\"sidebar\">")
    got = read_bytes(page.encode("utf-8"), "page.html")
    assert "序号\t任务\t牵头单位" in got.split("\n")
    assert "1\t建立工作机制\t县卫健局" in got.split("\n")


# ------------------------------------------------------------------ PDF


def print_pdf(html_text, path: Path, tmp_path: Path):
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium (installed by `python3 dev.py test`) is needed to make a PDF")
    source = tmp_path / "print.html"
    source.write_text(html_text, encoding="utf-8")
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    "--disable-background-networking", "--disable-component-update", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={path}", source.as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert path.exists()


def printable(text):
    body = "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line.strip())
    return ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>'
            'body{font-family:"Noto Serif CJK SC","Noto Sans CJK SC";font-size:15px;margin:0}'
            'p{margin:0 0 6px 0;text-indent:2em}</style></head>'
            f"<body>{body}</body></html>")


def test_a_pdf_made_from_a_seed_reads_as_its_paragraphs(seed_dir, tmp_path):
    text = seed_text(seed_dir, "03-gansu-hospice")
    pdf = tmp_path / "03-gansu-hospice.pdf"
    print_pdf(printable(text), pdf, tmp_path)
    got = read_file(pdf)
    expected, found = lines_of(text), lines_of(got)
    assert len(found) == len(expected)
    same = sum(a == b for a, b in zip(expected, found))
    assert same >= 0.95 * len(expected)
    assert "(2019年8月-10月)" in got  # no spaces between digits and Chinese
    draft = parse_file(pdf)
    reference = parse_text(text, name="03-gansu-hospice")
    assert [t.path for t in draft.tasks] == [t.path for t in reference.tasks]
    assert [(p.start, p.end) for p in draft.phases] == [(p.start, p.end) for p in reference.phases]


def test_a_pdf_roster_gives_the_same_leading_group(seed_dir, tmp_path):
    text = seed_text(seed_dir, "11-helinger-psych")
    pdf = tmp_path / "11.pdf"
    print_pdf(printable(text), pdf, tmp_path)
    draft = parse_file(pdf)
    reference = parse_text(text, name="11")
    assert draft.leading_group == reference.leading_group
    assert draft.office == reference.office == "县卫健委"


def test_a_pdf_table_comes_out_as_tab_rows_and_is_checked(tmp_path):
    cells = [["省份", "国有企业", "非公企业"], ["北京", "3", "5"], ["天津", "2", "4"], ["河北", "3", "3"],
             ["合计", "9", "12"]]
    table = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells)
    page = printable("三、试点的选取\n国有企业8家,非公企业12家。\n附件:试点单位分配表").replace(
        "</body>", '<table style="border-collapse:collapse">' + table.replace(
            "<td>", '<td style="border:1px solid #000;padding:4px">') + "</table><p>以上请遵照执行。</p></body>")
    pdf = tmp_path / "table.pdf"
    print_pdf(page, pdf, tmp_path)
    lines = read_file(pdf).split("\n")
    assert lines[3:8] == ["\t".join(row) for row in cells]
    assert lines[-1] == "以上请遵照执行。"
    kinds = [f.kind for f in parse_file(pdf).findings]
    assert "allocation_sum" in kinds and "allocation_text" in kinds


def test_a_pdf_without_a_text_layer_asks_for_ocr(tmp_path):
    pdf = tmp_path / "scan.pdf"
    print_pdf('<html><body><div style="width:300px;height:200px;background:#333"></div></body></html>',
              pdf, tmp_path)
    with pytest.raises(ReadError, match="OCR"):
        read_file(pdf)


def test_a_file_named_pdf_that_is_not_one_is_a_read_error(tmp_path):
    path = tmp_path / "fake.pdf"
    path.write_bytes(b"%PDF-1.7\n this file was cut off")
    with pytest.raises(ReadError) as caught:
        read_file(path)
    assert "PDF" in caught.value.reason and "fake.pdf" in str(caught.value)
