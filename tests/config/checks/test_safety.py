"""Safety rules: a fallback and referenced OCPP credentials on every charger."""

from __future__ import annotations

from pathlib import Path

import pytest

from depotctl.config.checks.safety import password_variable
from depotctl.config.diagnostics import Diagnostic
from tests.config.checks.validating import diagnostics as validate

CHG_02_OCPP = "ocpp: {id: CP-02, protocol: ocpp2.0.1, password_file: /etc/depotctl/cp02.secret}"


def ours(diagnostics: list[Diagnostic]) -> list[tuple[str, int, int]]:
    return [
        (d.rule, d.span.line, d.span.column)
        for d in diagnostics
        if d.rule.startswith("safety/") and d.span is not None
    ]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_minimal_site_is_safe(tmp_path: Path, minimal_site_text: str) -> None:
    assert ours(validate(tmp_path, minimal_site_text)) == []


def test_a_charger_without_fallback_is_an_error_at_the_charger(
    tmp_path: Path, minimal_site_text: str
) -> None:
    text = minimal_site_text.replace("      fallback: 16 A\n", "", 1)
    [finding] = [d for d in validate(tmp_path, text) if d.rule == "safety/missing-fallback"]
    assert finding.severity == "error"
    assert finding.message.startswith('charger "chg-01" has no fallback')
    assert "§3.13.6" in finding.message
    assert ours([finding]) == [("safety/missing-fallback", line_of(text, "id: chg-01"), 7)]


def test_a_charger_without_a_password_reference_is_an_error_at_its_ocpp(
    tmp_path: Path, minimal_site_text: str
) -> None:
    text = minimal_site_text.replace(CHG_02_OCPP, "ocpp: {id: CP-02, protocol: ocpp2.0.1}")
    [finding] = [d for d in validate(tmp_path, text) if d.rule == "safety/missing-credentials"]
    assert finding.severity == "error"
    assert '"CP-02"' in finding.message
    assert finding.hint is not None and "password_env: CP_02_PASSWORD" in finding.hint
    assert ours([finding]) == [("safety/missing-credentials", line_of(text, "id: CP-02"), 13)]


def test_an_inline_password_is_reported_once_as_a_secret(
    tmp_path: Path, minimal_site_text: str
) -> None:
    text = minimal_site_text.replace(
        CHG_02_OCPP, "ocpp: {id: CP-02, protocol: ocpp2.0.1, password: hunter2}"
    )
    rules = [d.rule for d in validate(tmp_path, text)]
    assert rules == ["secrets/inline-secret"]


@pytest.mark.parametrize(
    ("ocpp_id", "variable"),
    [
        ("CP-01", "CP_01_PASSWORD"),
        ("depot.north/7", "DEPOT_NORTH_7_PASSWORD"),
        ("42", "CP_42_PASSWORD"),
    ],
)
def test_password_variable_is_a_valid_environment_name(ocpp_id: str, variable: str) -> None:
    assert password_variable(ocpp_id) == variable
