"""``shidian parse FILE... [--out DIR] [--format json|xlsx|md]``

Parses each plan file (.txt .docx .html/.htm .pdf) and writes DIR/<stem>.json (or .xlsx / .md);
DIR defaults to the current directory, except that Markdown without --out is printed to standard
output. A file that cannot be read gets one line on standard error naming it and the reason; the
other files are still parsed and the exit status is 1.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .output import FORMATS, SUFFIX, render_markdown, write
from .parse import parse_text
from .readers import ReadError, read_file

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, in Chinese, exit status 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"shidian parse: 参数错误:{message}\n")


def _arguments() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="shidian parse",
        description="把实施方案(.txt/.docx/.html/.pdf)解析为任务分解表(JSON、Excel 或 Markdown)。",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="方案文件,可以有多个")
    parser.add_argument("--out", metavar="DIR", help="输出目录(不存在时自动创建)")
    parser.add_argument("--format", choices=FORMATS, default="json", help="输出格式,默认 json")
    return parser


def _unique_target(out_dir: Path, stem: str, suffix: str, used: set[Path]) -> Path:
    target = out_dir / f"{stem}{suffix}"
    counter = 2
    while target in used:
        target = out_dir / f"{stem}-{counter}{suffix}"
        counter += 1
    used.add(target)
    return target


def main(argv: list[str] | None = None) -> int:
    args = _arguments().parse_args(sys.argv[1:] if argv is None else argv)
    out_dir = Path(args.out) if args.out else None
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"shidian parse: 无法创建输出目录 {out_dir}:{exc.strerror or exc}", file=sys.stderr)
            return EXIT_FAILED
    failed = 0
    used: set[Path] = set()
    for name in args.files:
        path = Path(name)
        try:
            text = read_file(path)
        except ReadError as exc:
            print(f"shidian parse: {path}: 无法读取:{exc.reason}", file=sys.stderr)
            failed += 1
            continue
        try:
            draft = parse_text(text, name=path.stem)
        except Exception as exc:  # a parser bug must not stop the other files
            print(f"shidian parse: {path}: 解析失败(内部错误 {type(exc).__name__}),请把该文件反馈给开发人员",
                  file=sys.stderr)
            failed += 1
            continue
        try:
            if out_dir is None and args.format == "md":
                sys.stdout.write(render_markdown(draft))
                sys.stdout.flush()
                continue
            target = _unique_target(out_dir or Path.cwd(), path.stem, SUFFIX[args.format], used)
            write(draft, target, args.format)
            print(f"{path} → {target}", file=sys.stderr)
        except OSError as exc:
            print(f"shidian parse: {path}: 无法写出结果:{exc.strerror or exc}", file=sys.stderr)
            failed += 1
    return EXIT_FAILED if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
