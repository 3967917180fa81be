"""The ``shidian`` command.

    shidian parse FILE... [--out DIR] [--format json|xlsx|md]   (no Django, no database)
    shidian serve [--port N] [--host H]                          the web server
    shidian demo                                                 load the demo data
    shidian <django management command> ...                      migrate, createsuperuser, ...
"""
from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "parse":
        from shidian.planparse.cli import main as parse_main

        return parse_main(argv[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from shidian.core.i18n import compile_catalogs

    compile_catalogs()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["shidian", *argv] if argv else ["shidian", "help"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
