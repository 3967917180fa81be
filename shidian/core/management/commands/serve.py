"""Serve Shidian with waitress: a production-grade WSGI server that needs no compiler."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Serve the web application (static files included) on HOST:PORT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, port: int, host: str, threads: int, **options: Any) -> None:
        from waitress import serve

        from config.wsgi import application
        from shidian.demo.logins import demo_logins

        logins = demo_logins()
        if logins:
            self.stdout.write(_("Demo logins (user name / password / role):"))
            for username, password, role in logins:
                self.stdout.write(f"  {username:<24} {password:<16} {role}")
        self.stdout.write(_("Shidian is serving on http://%(host)s:%(port)s/")
                          % {"host": host, "port": port})
        from shidian.oversight.scheduler import start_in_process  # hook: the embedded tick

        start_in_process(self.stdout)
        from shidian.ops.worker import start_in_process as start_jobs  # hook: embedded jobs

        start_jobs(self.stdout)
        serve(application, host=host, port=port, threads=threads, ident="shidian")
