"""Delivery channels: the in-app inbox, e-mail through Django's mail backend (SMTP in
production), and the group robots of DingTalk and WeCom (企业微信).

The robots' formats, as their documentation gives them:

* **DingTalk** (钉钉自定义机器人): ``POST <webhook>&timestamp=<ms>&sign=<sign>`` with
  ``{"msgtype": "markdown", "markdown": {"title", "text"}, "at": {"atMobiles", "isAtAll"}}``.
  A robot with 加签 signs ``"<timestamp>\\n<secret>"`` by HMAC-SHA256 under the secret, in
  Base64, URL-encoded. Mentions need the ``@<mobile>`` in the text as well as in ``at``.
* **WeCom** (企业微信群机器人): ``POST <webhook>`` (the ``key`` is in the address) with
  ``{"msgtype": "markdown", "markdown": {"content"}}``; it does not sign.

Both answer ``{"errcode": 0, "errmsg": "ok"}``; anything else is a failed delivery, retried by
the next tick. Nothing here touches the database.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage

TIMEOUT_SECONDS = 10
# Group robots take at most ~4,000 characters of markdown; a message is cut well before.
MAX_TEXT = 3000


class DeliveryError(Exception):
    """A message could not be delivered; the text says why (kept on the message row)."""


@dataclass(frozen=True)
class Outgoing:
    subject: str
    body: str
    link: str = ""
    mentions: tuple[str, ...] = ()  # mobile numbers to @ in a group


def absolute(link: str) -> str:
    """The link as a full address when the deployment says where it lives."""
    base = getattr(settings, "SHIDIAN_BASE_URL", "") or os.environ.get("SHIDIAN_BASE_URL", "")
    if not link or link.startswith(("http://", "https://")) or not base:
        return link
    return base.rstrip("/") + link


# -- e-mail ---------------------------------------------------------------------------------
def send_email(message: Outgoing, address: str) -> None:
    body = message.body
    if message.link:
        body += "\n\n" + absolute(message.link)
    email = EmailMessage(subject=message.subject, body=body, to=[address],
                         from_email=settings.DEFAULT_FROM_EMAIL)
    try:
        sent = email.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"smtp: {error}") from error
    if sent != 1:
        raise DeliveryError("smtp: the message was not accepted")


# -- group robots ---------------------------------------------------------------------------
def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: Base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")), URL-encoded."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def dingtalk_url(url: str, secret: str, timestamp_ms: int) -> str:
    if not secret:
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def _markdown(message: Outgoing) -> str:
    text = f"### {message.subject}\n\n{message.body}"
    link = absolute(message.link)
    if link.startswith(("http://", "https://")):
        text += f"\n\n[{link}]({link})"
    return text[:MAX_TEXT]


def dingtalk_payload(message: Outgoing) -> dict:
    text = _markdown(message)
    if message.mentions:
        text += "\n\n" + " ".join(f"@{m}" for m in message.mentions)
    return {"msgtype": "markdown",
            "markdown": {"title": message.subject[:60], "text": text},
            "at": {"atMobiles": list(message.mentions), "isAtAll": False}}


def wecom_payload(message: Outgoing) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": _markdown(message)}}


def check_robot_url(url: str) -> None:
    """A robot's address must be an http(s) URL (file: or ftp: addresses are refused)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DeliveryError("the robot's address is not an http(s) URL")


def post_json(url: str, payload: dict) -> dict:
    check_robot_url(url)
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8"})
    try:
        # The scheme is checked above: only http(s) is opened.
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            raw = response.read(65536)
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"http {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(f"network: {getattr(error, 'reason', error)}") from error
    try:
        answer = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DeliveryError("the robot did not answer in JSON") from error
    if not isinstance(answer, dict) or answer.get("errcode", 0) != 0:
        code = answer.get("errcode") if isinstance(answer, dict) else "?"
        text = answer.get("errmsg", "") if isinstance(answer, dict) else ""
        raise DeliveryError(f"robot error {code}: {text}")
    return answer


def send_dingtalk(message: Outgoing, url: str, secret: str, *, now_ms: int | None = None) -> None:
    timestamp = now_ms if now_ms is not None else int(time.time() * 1000)
    post_json(dingtalk_url(url, secret, timestamp), dingtalk_payload(message))


def send_wecom(message: Outgoing, url: str) -> None:
    post_json(url, wecom_payload(message))
