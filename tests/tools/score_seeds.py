"""Parse every seed plan into OUT_DIR and score it against the gold files.

    .venv/bin/python tests/tools/score_seeds.py [OUT_DIR] [--per-doc] [--json]
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "shidian" / "demo" / "seed_plans"
SCORER = Path(__file__).resolve().parent / "score_plans.py"


def write_predictions(out_dir: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from shidian.planparse import parse_file

    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(SEEDS.glob("*.txt")):
        data = parse_file(path).to_dict()
        (out_dir / f"{path.stem}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1),
                                                   encoding="utf-8")


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    flags = [a for a in argv if a.startswith("--")]
    out_dir = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="planparse-"))
    write_predictions(out_dir)
    return subprocess.run([sys.executable, str(SCORER), str(SEEDS), str(out_dir), *flags]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
