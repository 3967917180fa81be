"""Personal information at rest (PIPL): encryption, keyed search hashes, masking, ID numbers.

* **Encryption.** Fernet tokens (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a
  ``MultiFernet``: the first key encrypts, every key decrypts, so keys rotate by putting a new
  key first and re-encrypting (``rotate_token``) at leisure. Keys come from the environment
  variable ``SHIDIAN_FIELD_KEYS`` (comma-separated, newest first). The embedded default, which
  has no environment, keeps a generated key file ``field_keys`` in ``settings.VAR_DIR``.
* **Search.** A value is found by its keyed hash (HMAC-SHA256 under ``SHIDIAN_FIELD_HASH_KEY``,
  or the ``field_hash_key`` file), never by decrypting rows. The hash key is separate from the
  encryption keys, so rotating those does not change any stored hash. Production that sets
  ``SHIDIAN_FIELD_KEYS`` must set the hash key too: two app servers with different fallback
  files would silently stop finding each other's rows.
* **Masking.** ``110***********1234`` for ID numbers, ``6222********1234`` for accounts,
  ``张**`` for names kept in the envelope (``mask_name``).
* **ID numbers** (GB 11643, 18 characters): check digit by ``stdnum.cn.ric``, birth date
  plausible. The birthplace digits are not checked against a code table: people keep the
  numbers issued by counties that have since been renamed or merged.

Keys are read on first use, never at import time; ``reset_keys()`` forgets them (tests).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from stdnum.cn import ric

from shidian.core.errors import ErrorCode, ShidianError

ENV_KEYS = "SHIDIAN_FIELD_KEYS"
ENV_HASH_KEY = "SHIDIAN_FIELD_HASH_KEY"
KEY_FILE = "field_keys"
HASH_KEY_FILE = "field_hash_key"
HASH_CHARS = 32  # 128 bits of the HMAC, as hex: unique enough, half the index size

# Reasons an ID number is refused (callers and tests branch on these, not on the text).
ID_EMPTY = "id_empty"
ID_LENGTH = "id_length"
ID_FORMAT = "id_format"
ID_CHECKSUM = "id_checksum"
ID_BIRTH_DATE = "id_birth_date"

_FULLWIDTH = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789XX")


# --- keys -------------------------------------------------------------------------------------

def _key_file(name: str, make: Any) -> str:
    path = Path(settings.VAR_DIR) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make() + "\n")
    return path.read_text().strip()


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    raw = os.environ.get(ENV_KEYS, "").strip()
    if not raw:
        raw = _key_file(KEY_FILE, lambda: Fernet.generate_key().decode())
    keys = [k.strip() for k in raw.replace("\n", ",").split(",") if k.strip()]
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"{ENV_KEYS} must be comma-separated Fernet keys (urlsafe base64 of 32 bytes)"
        ) from exc


@lru_cache(maxsize=1)
def _hash_key() -> bytes:
    raw = os.environ.get(ENV_HASH_KEY, "").strip()
    if not raw:
        if os.environ.get(ENV_KEYS, "").strip():
            raise ImproperlyConfigured(
                f"{ENV_KEYS} is set but {ENV_HASH_KEY} is not: set both, the same on every "
                "app server, or search by ID number breaks")
        raw = _key_file(HASH_KEY_FILE, lambda: secrets.token_urlsafe(32))
    if len(raw) < 16:
        raise ImproperlyConfigured(f"{ENV_HASH_KEY} must have at least 16 characters")
    return raw.encode()


def reset_keys() -> None:
    """Forget the cached keys (after the environment changed)."""
    _fernet.cache_clear()
    _hash_key.cache_clear()


def generate_key() -> str:
    """A new Fernet key, for ``SHIDIAN_FIELD_KEYS``."""
    return Fernet.generate_key().decode()


# --- encryption -------------------------------------------------------------------------------

def encrypt_text(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "a stored value cannot be decrypted with the configured field keys "
            f"({ENV_KEYS}): was a key removed before its tokens were rotated?") from exc


def encrypt_json(value: Any) -> str:
    return encrypt_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def decrypt_json(token: str) -> Any:
    return json.loads(decrypt_text(token))


def rotate_token(token: str) -> str:
    """The same plaintext under the newest key (``MultiFernet.rotate``)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("a stored value cannot be decrypted for rotation") from exc


# --- search hashes ----------------------------------------------------------------------------

def search_hash(value: str, *, purpose: str = "id") -> str:
    """Keyed hash of a normalised value; ``purpose`` keeps ID and account hashes apart."""
    message = f"{purpose}:{value.strip().upper()}".encode()
    return hmac.new(_hash_key(), message, hashlib.sha256).hexdigest()[:HASH_CHARS]


def name_hash(value: str) -> str:
    """The keyed hash of a person's name kept in the envelope, for search by the exact name
    (spaces typed inside the name do not count)."""
    return search_hash("".join(str(value or "").split()), purpose="name")


# --- masking ----------------------------------------------------------------------------------

def mask_middle(value: str, *, keep_start: int, keep_end: int, char: str = "*") -> str:
    value = value or ""
    if len(value) <= keep_start + keep_end:
        return char * len(value)
    return value[:keep_start] + char * (len(value) - keep_start - keep_end) + value[-keep_end:]


def mask_id_number(value: str) -> str:
    """``110101199003071234`` → ``110***********1234``."""
    return mask_middle(value, keep_start=3, keep_end=4)


def mask_account(value: str) -> str:
    """``6222021234567891234`` → ``6222***********1234``."""
    return mask_middle(value, keep_start=4, keep_end=4)


def mask_name(value: str) -> str:
    """``张三丰`` → ``张**``: a person's name where only the surname may show (patients)."""
    value = (value or "").strip()
    return value[:1] + "*" * (len(value) - 1) if value else ""


def normalize_account(value: str) -> str:
    return "".join(str(value or "").translate(_FULLWIDTH).split()).replace("-", "")


# --- ID numbers -------------------------------------------------------------------------------

@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: dt.date
    female: bool


def normalize_id_number(value: str) -> str:
    """Spaces removed, full-width digits made ASCII, ``x`` upper-cased."""
    return "".join(str(value or "").translate(_FULLWIDTH).split()).upper()


def _id_error(reason: str, message: str, value: str) -> ShidianError:
    return ShidianError(ErrorCode.INVALID, message,
                        {"reason": reason, "value": mask_id_number(value)})


def id_number_check(value: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate a resident ID number; the normalised number, birth date and sex."""
    number = normalize_id_number(value)
    if not number:
        raise _id_error(ID_EMPTY, _("The ID number is missing."), number)
    if len(number) != 18:
        raise _id_error(ID_LENGTH, _("An ID number has 18 characters; this one has %(n)s.")
                        % {"n": len(number)}, number)
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise _id_error(ID_FORMAT, _("An ID number is 17 digits followed by a digit or X."),
                        number)
    if ric.calc_check_digit(number) != number[17]:
        raise _id_error(ID_CHECKSUM, _("The check digit of the ID number is wrong."), number)
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        born = None
    today = today or dt.date.today()
    if born is None or born.year < 1900 or born > today:
        raise _id_error(ID_BIRTH_DATE, _("The birth date inside the ID number is impossible."),
                        number)
    return IdNumber(number=number, birth_date=born, female=int(number[16]) % 2 == 0)


def id_number_make(prefix17: str) -> str:
    """The full number for 17 given digits (the check digit appended); for generated data."""
    return prefix17 + ric.calc_check_digit(prefix17 + "0")
