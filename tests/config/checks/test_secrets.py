"""Inline secrets: reported at their key, never repeated in any diagnostic."""

from __future__ import annotations

import re
from pathlib import Path

from depotctl.config.diagnostics import Diagnostic
from tests.config.checks.validating import diagnostics

PASSWORD = "Zq8-very-secret-4711"
TOKEN = "tok-3f9c1a7e-secret"

SITE = f"""\
apiVersion: depotctl/v1
kind: Site
metadata: {{name: depot-north, timezone: Australia/Sydney}}
spec:
  electrical: {{voltage: 230 V, phases: 3}}
  nodes:
    - id: gc-main
      type: grid_connection
      limits: {{import: 100 kW, current: 160 A}}
      envelope_source: dnsp
    - id: chg-01
      type: charger
      parent: gc-main
      ocpp: {{id: CP-01, protocol: ocpp1.6, password: {PASSWORD}}}
      rating: {{power: 22 kW, current: 32 A}}
      fallback: 16 A
      evses: [{{id: 1}}]
  envelope_sources:
    - id: dnsp
      protocol: oscp
      oscp:
        base_url: https://derms.example/oscp/cp/2.0
        group_id: GRP-4711
        token: {TOKEN}
      heartbeat_interval: 60 s
      offline_after: 5 min
      fallback: {{import: 60 kW}}
"""


def inline(found: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in found if d.rule == "secrets/inline-secret"]


def test_an_inline_password_and_token_are_reported_at_their_keys(tmp_path: Path) -> None:
    found = inline(diagnostics(tmp_path, SITE))
    spans = [(d.span.line, d.span.column) for d in found if d.span]
    assert spans == [(14, 44), (24, 9)]
    assert 'charger "chg-01"' in found[0].message
    assert 'envelope source "dnsp"' in found[1].message


def test_no_diagnostic_repeats_the_secret_value(tmp_path: Path) -> None:
    found = diagnostics(tmp_path, SITE)
    assert found, "the site has inline secrets"
    for d in found:
        for text in (d.message, d.hint or ""):
            assert PASSWORD not in text and TOKEN not in text


def test_the_hint_names_an_environment_variable_to_use_instead(tmp_path: Path) -> None:
    password, token = inline(diagnostics(tmp_path, SITE))
    assert "password_env: CP_01_PASSWORD" in (password.hint or "")
    assert "token_env: DNSP_OSCP_TOKEN" in (token.hint or "")
    assert "rotate" in (password.hint or "") or "change the password" in (password.hint or "")


def test_the_suggested_variable_name_is_valid_for_an_id_starting_with_a_digit(
    tmp_path: Path,
) -> None:
    (password, _) = inline(diagnostics(tmp_path, SITE.replace("id: CP-01", "id: 01/depot.north")))
    suggested = re.search(r"password_env: (\S+)", password.hint or "")
    assert suggested is not None
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", suggested[1])


def test_referenced_secrets_are_not_inline(tmp_path: Path) -> None:
    text = SITE.replace(f"password: {PASSWORD}", "password_file: /etc/depotctl/cp01.secret")
    text = text.replace(f"token: {TOKEN}", "token_env: DNSP_OSCP_TOKEN")
    assert diagnostics(tmp_path, text) == []


def test_an_empty_inline_password_is_still_written_in_the_wrong_place(tmp_path: Path) -> None:
    text = SITE.replace(f"password: {PASSWORD}", 'password: ""')
    text = text.replace(f"token: {TOKEN}", "token_env: DNSP_OSCP_TOKEN")
    assert len(inline(diagnostics(tmp_path, text))) == 1
