"""Which keys name a secret, and a source line with every secret masked."""

from __future__ import annotations

import pytest

from depotctl.config.secret_text import (
    is_reference_key,
    is_secret_key,
    mask_line,
    url_credentials,
)


@pytest.mark.parametrize(
    "key",
    ["password", "passwd", "token", "secret", "credential", "api_key", "apikey", "api-keys",
     "PASSWORD", "db_password", "db-password", "db.password", "dbPassword", "X-Api-Key",
     "authToken", "client_secret", "aws_credentials", "Tokens", "vendor api key"],
)  # fmt: skip
def test_keys_that_name_a_secret(key: str) -> None:
    assert is_secret_key(key)
    assert not is_reference_key(key)


@pytest.mark.parametrize(
    "key",
    ["password_env", "password_file", "token_env", "token_file", "api_key_file", "tokenEnv",
     "DB-PASSWORD-FILE"],
)  # fmt: skip
def test_references_to_a_secret_are_not_secrets(key: str) -> None:
    assert not is_secret_key(key)
    assert is_reference_key(key)


@pytest.mark.parametrize(
    "key",
    ["id", "passwordless", "secretary", "tokenizer", "token_count", "api_key_id", "keyboard",
     "env", "file", "description", "", "_", 7],
)  # fmt: skip
def test_keys_that_only_resemble_one_are_neither(key: object) -> None:
    assert not is_secret_key(key)
    assert not is_reference_key(key)


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("  password: !!binary aHVudGVyMg==", "  password: ********"),
        ("  password: &pw !vault abc", "  password: ********"),
        ("  token: correct horse battery  # rotated", "  token: ********  # rotated"),
        ("  labels: {asset: DC-07, Api-Key: a b, x: 1}", "  labels: {asset: DC-07, Api-Key: ********, x: 1}"),
        ('  secret: "a \\" b", x: 1', "  secret: ********, x: 1"),
        ("  secret: 'it''s', x: 1", "  secret: ********, x: 1"),
        ("  - db password: x", "  - db password: ********"),
        ("  password: |", "  password: |"),
        ("  password:", "  password:"),
        ("  password_env: CP01_PASSWORD", "  password_env: CP01_PASSWORD"),
        ("  base_url: https://user:pw@derms.example/x", "  base_url: https://********@derms.example/x"),
        ("  # old: git://tok@h/r and ftp://a:b@c", "  # old: git://********@h/r and ftp://********@c"),
        ("  url: https://derms.example:8443/p@x", "  url: https://derms.example:8443/p@x"),
    ],
)  # fmt: skip
def test_a_line_is_masked_whatever_form_the_secret_takes(line: str, masked: str) -> None:
    assert mask_line(line) == masked


def test_url_credentials_are_found_from_the_scheme_to_the_at() -> None:
    line = "see https://u:p@h/x and http://h/y@z"
    [(start, end)] = url_credentials(line)
    assert line[start:end] == "https://u:p"
