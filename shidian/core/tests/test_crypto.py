"""Personal information is stored encrypted, found by keyed hash and shown masked."""
import datetime as dt

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from shidian.core import crypto
from shidian.core.errors import ShidianError

# The example number printed in GB 11643-1999 (a woman born 31 December 1949 in 北京朝阳区).
STANDARD_EXAMPLE = "11010519491231002X"


@pytest.fixture(autouse=True)
def _fresh_keys(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv(crypto.ENV_KEYS, raising=False)
    monkeypatch.delenv(crypto.ENV_HASH_KEY, raising=False)
    crypto.reset_keys()
    yield
    crypto.reset_keys()


def test_the_ciphertext_does_not_contain_the_number_and_decrypts_back():
    token = crypto.encrypt_text(STANDARD_EXAMPLE)
    assert STANDARD_EXAMPLE not in token and "19491231" not in token
    assert crypto.decrypt_text(token) == STANDARD_EXAMPLE
    assert crypto.encrypt_text(STANDARD_EXAMPLE) != token  # fresh IV every time


def test_the_embedded_default_keeps_its_keys_in_a_private_file(tmp_path):
    crypto.encrypt_text("x")
    crypto.search_hash("x")
    for name in (crypto.KEY_FILE, crypto.HASH_KEY_FILE):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0


def test_keys_from_the_environment_rotate_without_losing_old_values(monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv(crypto.ENV_KEYS, old)
    monkeypatch.setenv(crypto.ENV_HASH_KEY, "a-hash-key-of-enough-length")
    crypto.reset_keys()
    token = crypto.encrypt_text("6222021234567891234")
    hashed = crypto.search_hash(STANDARD_EXAMPLE)

    monkeypatch.setenv(crypto.ENV_KEYS, f"{new},{old}")
    crypto.reset_keys()
    assert crypto.decrypt_text(token) == "6222021234567891234"
    rotated = crypto.rotate_token(token)
    assert Fernet(new.encode()).decrypt(rotated.encode()) == b"6222021234567891234"
    assert crypto.search_hash(STANDARD_EXAMPLE) == hashed  # search survives key rotation

    monkeypatch.setenv(crypto.ENV_KEYS, new)
    crypto.reset_keys()
    assert crypto.decrypt_text(rotated) == "6222021234567891234"
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt_text(token)  # the old key is gone and this token was never rotated


def test_environment_keys_without_a_hash_key_are_refused(monkeypatch):
    monkeypatch.setenv(crypto.ENV_KEYS, Fernet.generate_key().decode())
    crypto.reset_keys()
    with pytest.raises(ImproperlyConfigured):
        crypto.search_hash(STANDARD_EXAMPLE)


def test_search_hash_is_keyed_and_ignores_case_and_spaces(monkeypatch):
    first = crypto.search_hash(STANDARD_EXAMPLE)
    assert crypto.search_hash(" 11010519491231002x ") == first
    assert crypto.search_hash(STANDARD_EXAMPLE, purpose="account") != first
    monkeypatch.setenv(crypto.ENV_HASH_KEY, "another-hash-key-entirely")
    crypto.reset_keys()
    assert crypto.search_hash(STANDARD_EXAMPLE) != first


def test_masks_show_only_the_ends():
    assert crypto.mask_id_number("110101199003071234") == "110***********1234"
    assert crypto.mask_account("6222021234567891234") == "6222***********1234"
    assert crypto.mask_id_number("12") == "**"


def test_the_standard_example_is_a_valid_id_number_of_a_woman_born_in_1949():
    checked = crypto.id_number_check("１１０１０５１９４９１２３１００２ｘ")
    assert checked.number == STANDARD_EXAMPLE
    assert checked.birth_date == dt.date(1949, 12, 31)
    assert checked.female


@pytest.mark.parametrize(("value", "reason"), [
    ("", crypto.ID_EMPTY),
    ("11010519491231002", crypto.ID_LENGTH),
    ("1101051949123100AX", crypto.ID_FORMAT),
    ("110105194912310021", crypto.ID_CHECKSUM),
    (crypto.id_number_make("11010519491331002"), crypto.ID_BIRTH_DATE),  # month 13
    (crypto.id_number_make("11010521001231002"), crypto.ID_BIRTH_DATE),  # born in 2100
])
def test_bad_id_numbers_are_refused_with_their_reason(value, reason):
    with pytest.raises(ShidianError) as caught:
        crypto.id_number_check(value)
    assert caught.value.extra["reason"] == reason
    assert value[6:14] not in caught.value.extra["value"] or not value


def test_every_single_digit_typo_is_caught_by_the_check_digit():
    for position in range(17):
        digit = STANDARD_EXAMPLE[position]
        for other in "0123456789":
            if other == digit:
                continue
            typo = STANDARD_EXAMPLE[:position] + other + STANDARD_EXAMPLE[position + 1:]
            with pytest.raises(ShidianError):
                crypto.id_number_check(typo)
