"""What the controller's host lacks for a site's credentials: files checked on this
host (opened, never read into a message), variables looked up in the environment
given."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from depotctl.config import Site
from depotctl.config.source import parse_documents
from depotctl.controller.services.host_credentials import missing_credentials
from tests.conftest import EXAMPLES

MINIMAL = (EXAMPLES / "minimal.yaml").read_text()
OSCP = """  envelope_sources:
    - id: dnsp
      protocol: oscp
      oscp: {base_url: https://derms.example/oscp, group_id: G-1, TOKEN_REF}
"""


def site(
    env: str = "CP01_PASSWORD", file: str = "/etc/depotctl/cp02.secret", token: str = ""
) -> Site:
    text = MINIMAL.replace("password_env: CP01_PASSWORD", f"password_env: {env}").replace(
        "password_file: /etc/depotctl/cp02.secret", f"password_file: {file}"
    )
    if token:
        text = text.replace("spec:\n", "spec:\n" + OSCP.replace("TOKEN_REF", token), 1)
    [document] = parse_documents(text)
    return Site.model_validate(document.data)


def findings(
    checked: Site, base_dir: Path, environ: dict[str, str]
) -> list[tuple[str, tuple[str | int, ...], str]]:
    return [(p.rule, p.path, p.message) for p in missing_credentials(checked, base_dir, environ)]


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "cp02.secret"
    path.write_text("pw-never-shown\n")
    return path


def test_a_host_with_every_credential_has_no_findings(tmp_path: Path, secret: Path) -> None:
    assert findings(site(file=str(secret)), tmp_path, {"CP01_PASSWORD": "x"}) == []


def test_an_unset_and_an_empty_variable(tmp_path: Path, secret: Path) -> None:
    [(rule, path, message)] = findings(site(file=str(secret)), tmp_path, {})
    assert (rule, path) == ("host/variable-unset", ("spec", "nodes", 2, "ocpp", "password_env"))
    assert message == (
        'charger "chg-01" password_env CP01_PASSWORD is not set in the controller\'s '
        "environment: the controller cannot read its password"
    )
    [(_, _, empty)] = findings(site(file=str(secret)), tmp_path, {"CP01_PASSWORD": ""})
    assert "CP01_PASSWORD is empty in the controller's environment" in empty


def test_a_missing_an_empty_and_a_directory_file(tmp_path: Path) -> None:
    environ = {"CP01_PASSWORD": "x"}
    [(rule, path, message)] = findings(site(file=str(tmp_path / "gone")), tmp_path, environ)
    assert (rule, path[-1]) == ("host/secret-file-missing", "password_file")
    assert message == (
        f'charger "chg-02" password_file {tmp_path / "gone"} does not exist on the '
        "controller's host"
    )
    (tmp_path / "empty").write_text("")
    [(rule, _, message)] = findings(site(file=str(tmp_path / "empty")), tmp_path, environ)
    assert rule == "host/secret-file-unreadable" and "is empty on" in message
    [(rule, _, message)] = findings(site(file=str(tmp_path)), tmp_path, environ)
    assert rule == "host/secret-file-unreadable" and "is not a regular file" in message


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    [(rule, _, message)] = findings(site(file=str(fifo)), tmp_path, {"CP01_PASSWORD": "x"})
    assert rule == "host/secret-file-unreadable" and "not a regular file" in message


def test_a_relative_file_resolves_against_the_base_dir_and_says_where(
    tmp_path: Path, secret: Path
) -> None:
    environ = {"CP01_PASSWORD": "x"}
    assert findings(site(file="cp02.secret"), tmp_path, environ) == []
    [(_, _, message)] = findings(site(file="secrets/cp02"), tmp_path, environ)
    assert f"password_file secrets/cp02 ({tmp_path / 'secrets' / 'cp02'}) does not exist" in message


def test_a_named_variable_is_where_the_secret_is_taken_from(tmp_path: Path, secret: Path) -> None:
    """As read_password does: with both named, the variable decides; the file is not
    looked at."""
    both = site(env=f"CP01_PASSWORD, password_file: {tmp_path / 'gone'}", file=str(secret))
    assert findings(both, tmp_path, {"CP01_PASSWORD": "x"}) == []
    [(rule, _, _)] = findings(both, tmp_path, {})
    assert rule == "host/variable-unset"


def test_an_oscp_sources_token(tmp_path: Path, secret: Path) -> None:
    environ = {"CP01_PASSWORD": "x"}
    by_env = site(file=str(secret), token="token_env: DNSP_TOKEN")
    [(rule, path, message)] = findings(by_env, tmp_path, environ)
    assert (rule, path) == (
        "host/variable-unset",
        ("spec", "envelope_sources", 0, "oscp", "token_env"),
    )
    assert message.startswith('envelope source "dnsp" token_env DNSP_TOKEN is not set')
    assert "cannot read its OSCP token" in message
    by_file = site(file=str(secret), token=f"token_file: {tmp_path / 'no-token'}")
    [(rule, _, _)] = findings(by_file, tmp_path, environ)
    assert rule == "host/secret-file-missing"
    assert findings(site(file=str(secret), token=f"token_file: {secret}"), tmp_path, environ) == []


def test_a_shared_simulation_password_asks_for_no_chargers_own(
    tmp_path: Path, secret: Path
) -> None:
    """serve --charger-password-env: every charger's password comes from one variable
    (checked when serve starts), so the site's own references are not asked for; an
    OSCP source's token still is."""
    bundled = site(file="/run/secrets/ocpp/cp02", token="token_env: DNSP_TOKEN")
    assert [rule for rule, _, _ in findings(bundled, tmp_path, {})] == [
        "host/variable-unset",  # chg-01's password_env
        "host/secret-file-missing",  # chg-02's password_file
        "host/variable-unset",  # the source's token_env
    ]
    shared = missing_credentials(bundled, tmp_path, {}, shared_charger_password=True)
    assert [(p.rule, p.path[:2]) for p in shared] == [
        ("host/variable-unset", ("spec", "envelope_sources"))
    ]
