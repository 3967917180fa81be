"""Builders for oversight tests: the reporting world (泸县 and 合江县, a published plan with a
monthly cycle) with the people the ladder speaks to, and a fake robot server.

``FakeRobotServer`` is a real HTTP server on 127.0.0.1 that answers like DingTalk and WeCom
(``{"errcode": 0, "errmsg": "ok"}``) and records each request, so tests check the payloads and
signatures that really went over the wire.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from shidian.orgs.models import Role, User
from shidian.orgs.testing import make_agency, make_user
from shidian.reporting.testing import World, make_world

DINGTALK_SECRET = "SECa1b2c3d4e5f6-test-secret"


@dataclass
class OversightWorld:
    world: World
    leader_health: User     # 泸县卫生健康局's 分管领导
    leader_civil: User      # 泸县民政局's
    inspector: User         # an expert on the 泸县 inspection team
    other_inspector: User   # an expert of 合江县

    def __getattr__(self, name: str):
        return getattr(self.world, name)


def make_oversight_world() -> OversightWorld:
    """``make_world()`` with e-mail addresses and mobiles for its liaisons, a leader for two
    of its units and two inspectors."""
    world = make_world()
    for user, phone in ((world.liaison_health, "13800000001"),
                        (world.liaison_civil, "13800000002"),
                        (world.liaison_finance, "13800000003"),
                        (world.liaison_other, "13800000009"),
                        (world.office, "13800000010")):
        user.email = f"{user.username}@luxian.gov.cn"
        user.phone = phone
        user.save(update_fields=["email", "phone"])
    leader_health = make_user("lx_wjj_leader", role=Role.LEADER, division_code="510521",
                              agencies=(world.health,))
    leader_health.email, leader_health.phone = "lx_wjj_leader@luxian.gov.cn", "13900000001"
    leader_health.save(update_fields=["email", "phone"])
    leader_civil = make_user("lx_mzj_leader", role=Role.LEADER, division_code="510521",
                             agencies=(world.civil,))
    inspector = make_user("lx_expert", role=Role.EXPERT, division_code="510521")
    other_inspector = make_user("hj_expert", role=Role.EXPERT, division_code="510522")
    return OversightWorld(world=world, leader_health=leader_health, leader_civil=leader_civil,
                          inspector=inspector, other_inspector=other_inspector)


def make_pilot_site(name: str, division_code: str = "510521"):
    from shidian.orgs.models import AgencyKind

    return make_agency(name, division_code, kind=AgencyKind.PILOT_SITE)


# -- a fake robot server --------------------------------------------------------------------
@dataclass
class Received:
    path: str
    query: dict[str, str]
    body: dict
    at: float


@dataclass
class FakeRobotServer:
    """``answer`` is what the server replies (change it to make deliveries fail); ``delay``
    holds each answer back that many seconds (to make two ticks overlap)."""

    answer: dict = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                owner.received.append(Received(
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    body=json.loads(raw.decode("utf-8")), at=time.time()))
                if owner.delay:
                    time.sleep(owner.delay)
                answer = json.dumps(owner.answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def dingtalk_url(self, token: str = "dt-token") -> str:
        return f"{self.base}/robot/send?access_token={token}"

    def wecom_url(self, key: str = "wc-key") -> str:
        return f"{self.base}/cgi-bin/webhook/send?key={key}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
