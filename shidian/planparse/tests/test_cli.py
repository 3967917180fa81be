"""`shidian parse FILE... [--out DIR] [--format json|xlsx|md]` as a clerk or a script uses it."""
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from shidian.planparse import parse_text
from shidian.planparse.cli import main

ROOT = Path(__file__).resolve().parents[3]


def copy_seed(seed_dir, tmp_path, stem):
    target = tmp_path / f"{stem}.txt"
    target.write_text((seed_dir / f"{stem}.txt").read_text(encoding="utf-8"), encoding="utf-8")
    return target


def test_json_for_each_file_and_one_error_line_per_unreadable_file(seed_dir, tmp_path, capsys):
    good = copy_seed(seed_dir, tmp_path, "05-luxian-hospice")
    other = copy_seed(seed_dir, tmp_path, "14-huxi-governance")
    binary = tmp_path / "scan.txt"
    binary.write_bytes(bytes(range(256)) * 8)
    out = tmp_path / "out"
    status = main([str(good), str(binary), str(tmp_path / "missing.docx"), str(other), "--out", str(out)])
    assert status == 1
    err = [line for line in capsys.readouterr().err.splitlines() if "无法读取" in line]
    assert len(err) == 2
    assert "scan.txt" in err[0] and "二进制" in err[0]
    assert "missing.docx" in err[1] and "文件不存在" in err[1]
    assert sorted(p.name for p in out.iterdir()) == ["05-luxian-hospice.json", "14-huxi-governance.json"]
    written = json.loads((out / "05-luxian-hospice.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(parse_text(good.read_text(encoding="utf-8"),
                                                       name="05-luxian-hospice").to_dict()))
    assert written["id"] == "05-luxian-hospice"


def test_all_files_readable_exits_zero(seed_dir, tmp_path):
    good = copy_seed(seed_dir, tmp_path, "12a-fengyang-psych-meeting")
    assert main([str(good), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "12a-fengyang-psych-meeting.json").exists()


def test_markdown_without_out_goes_to_standard_output(seed_dir, tmp_path, capsys):
    good = copy_seed(seed_dir, tmp_path, "07c-ningde-housing")
    assert main([str(good), "--format", "md"]) == 0
    printed = capsys.readouterr().out
    assert "## 任务分解表" in printed and "| 序号 | 任务 | 具体内容 | 牵头单位 | 责任单位 | 完成时限 |" in printed
    assert "领导小组办公室:市农办" in printed
    assert list(tmp_path.glob("*.md")) == []


def test_xlsx_into_a_new_folder(seed_dir, tmp_path):
    good = copy_seed(seed_dir, tmp_path, "15c-zhuhai-grassroots")
    out = tmp_path / "deep" / "folder"
    assert main([str(good), "--format", "xlsx", "--out", str(out)]) == 0
    book = openpyxl.load_workbook(out / "15c-zhuhai-grassroots.xlsx")
    assert book.sheetnames == ["任务分解表", "目标指标", "问题提示"]


def test_without_out_json_lands_in_the_current_folder(seed_dir, tmp_path, monkeypatch):
    good = copy_seed(seed_dir, tmp_path, "12d-national-psych")
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main([str(good)]) == 0
    assert (work / "12d-national-psych.json").exists()


def test_two_inputs_with_the_same_stem_do_not_overwrite_each_other(seed_dir, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = tmp_path / "a" / "plan.txt"
    second = tmp_path / "b" / "plan.txt"
    first.write_text((seed_dir / "05-luxian-hospice.txt").read_text(encoding="utf-8"), encoding="utf-8")
    second.write_text((seed_dir / "11-helinger-psych.txt").read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "out"
    assert main([str(first), str(second), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["plan-2.json", "plan.json"]


def test_bad_arguments_exit_2_with_a_chinese_message(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--format", "pdf", "x.txt"])
    assert caught.value.code == 2
    assert "参数错误" in capsys.readouterr().err


def test_the_shidian_command_routes_parse_to_the_parser(seed_dir, tmp_path):
    good = copy_seed(seed_dir, tmp_path, "12a-fengyang-psych-meeting")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    completed = subprocess.run(
        [sys.executable, "-c", "import sys; from shidian.cli import main; sys.exit(main())",
         "parse", str(good), str(empty), str(tmp_path / "gone.pdf"), "--out", str(tmp_path / "o")],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert completed.returncode == 1
    errors = [line for line in completed.stderr.splitlines() if line.startswith("shidian parse:")]
    assert errors == [f"shidian parse: {tmp_path / 'gone.pdf'}: 无法读取:文件不存在"]
    assert json.loads((tmp_path / "o" / "empty.json").read_text(encoding="utf-8"))["tasks"] == []
    assert (tmp_path / "o" / "12a-fengyang-psych-meeting.json").exists()
