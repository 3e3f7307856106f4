"""The secrets rules: a secret written anywhere in a site file — under any key that
names one, labels included, tagged or not, or as a URL's credentials — is refused at
its place, and its value is never printed, in any format or quoted line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from depotctl.config.diagnostics import Diagnostic
from tests.config.checks.validating import diagnostics, only

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


# Anywhere in a site file, under any key that names a secret


MINIMAL = (Path(__file__).resolve().parents[2] / "examples" / "minimal.yaml").read_text()


def _with(old: str, new: str) -> str:
    assert old in MINIMAL
    return MINIMAL.replace(old, new, 1)


NODE_LABELS = "      fallback: 16 A\n      evses: [{id: 1, connectors: [{id: 1, type: Type2}]}]\n    - id: chg-02"


def _labelled(labels: str) -> str:
    """The minimal site with ``labels`` (a flow mapping) on charger chg-01."""
    return _with(
        NODE_LABELS,
        NODE_LABELS.replace("      evses:", f"      labels: {labels}\n      evses:", 1),
    )


@pytest.mark.parametrize(
    "key",
    ["password", "passwd", "token", "secret", "credential", "api_key", "credentials",
     "DB_PASSWORD", "x-api-key", "authToken", "vendor.secret", "apiKey", "Client-Secret"],
)  # fmt: skip
def test_a_label_whose_key_names_a_secret_is_refused(tmp_path: Path, key: str) -> None:
    found = diagnostics(tmp_path, _labelled(f"{{asset: DC-07, {key}: {PASSWORD}}}"))
    secret = only(found, "secrets/inline-secret")
    assert secret.span is not None and secret.span.line == 25
    assert f"labels.{key}" in secret.message
    assert "label" in (secret.hint or "")


@pytest.mark.parametrize(
    "key",
    ["password_env", "token_file", "api_key_id", "token_count", "secretary", "passwordless",
     "keyboard", "author"],
)  # fmt: skip
def test_a_label_whose_key_only_resembles_a_secret_is_not(tmp_path: Path, key: str) -> None:
    assert diagnostics(tmp_path, _labelled(f"{{{key}: some-value}}")) == []


def test_metadata_labels_count_too(tmp_path: Path) -> None:
    text = _with(
        "  timezone: Australia/Sydney\n",
        f"  timezone: Australia/Sydney\n  labels:\n    grafana_token: {PASSWORD}\n",
    )
    secret = only(diagnostics(tmp_path, text), "secrets/inline-secret")
    assert "metadata.labels.grafana_token" in secret.message


def test_a_secret_under_a_key_the_schema_does_not_know_is_refused_as_well(tmp_path: Path) -> None:
    text = _with(
        "      phases: 3\n      fallback: 16 A\n      evses: [{id: 1,",
        f"      phases: 3\n      api_key: {PASSWORD}\n      fallback: 16 A\n      evses: [{{id: 1,",
    )
    found = diagnostics(tmp_path, text)
    assert sorted(d.rule for d in found) == ["schema/unknown-field", "secrets/inline-secret"]
    assert all(PASSWORD not in f"{d.message} {d.hint}" for d in found)


def test_an_empty_value_is_no_secret_but_a_tagged_one_is(tmp_path: Path) -> None:
    reference = "password_env: CP01_PASSWORD}"
    assert diagnostics(tmp_path, _with(reference, "password_env: CP01_PASSWORD, password: }")) == []
    tagged = _with(reference, 'password_env: CP01_PASSWORD, password: !!null ""}')
    secret = only(diagnostics(tmp_path, tagged), "secrets/inline-secret")
    assert "!!null" in secret.message


def test_a_mapping_under_a_secret_key_is_one_finding(tmp_path: Path) -> None:
    text = _with(
        "  timezone: Australia/Sydney\n",
        f"  timezone: Australia/Sydney\n  labels:\n    credentials: {{user: ops, password: {PASSWORD}}}\n",
    )
    found = diagnostics(tmp_path, text)  # a label is text: the schema refuses the mapping too
    [secret] = [d for d in found if d.rule.startswith("secrets/")]
    assert secret.rule == "secrets/inline-secret"
    assert "metadata.labels.credentials" in secret.message


BINARY = "aHVudGVyMg=="  # base64 of "hunter2"


def test_a_binary_password_is_refused_and_named_as_only_encoded(tmp_path: Path) -> None:
    text = _with("password_env: CP01_PASSWORD}", f"password: !!binary {BINARY}}}")
    secret = only(diagnostics(tmp_path, text), "secrets/inline-secret")
    assert 'charger "chg-01" has its OCPP password' in secret.message
    assert "!!binary" in secret.message and BINARY not in secret.message


def test_a_tagged_reference_is_refused_at_its_key(tmp_path: Path) -> None:
    text = _with("password_env: CP01_PASSWORD}", "password_env: !secret cp01_password}")
    found = only(diagnostics(tmp_path, text), "secrets/tagged-reference")
    assert found.span is not None and (found.span.line, found.span.column) == (21, 44)
    assert "cp01_password" not in found.message


def test_a_reference_tagged_as_a_plain_string_is_a_reference(tmp_path: Path) -> None:
    text = _with("password_env: CP01_PASSWORD}", "password_env: !!str CP01_PASSWORD}")
    assert diagnostics(tmp_path, text) == []


# URLs with credentials, in values and comments

URL = "https://depot-north:Xk29fQ7@derms.example/oscp/cp/2.0"


@pytest.mark.parametrize(
    ("where", "old", "new", "place"),
    [
        ("value", "  timezone: Australia/Sydney\n", f"  timezone: Australia/Sydney\n  description: see {URL}\n", "metadata.description"),
        ("comment", "    - id: db-1\n", f"    - id: db-1  # was {URL}\n", "a comment"),
        ("token as user", "  timezone: Australia/Sydney\n", "  timezone: Australia/Sydney\n  description: git clone https://ghp_abc123@github.example/x.git\n", "metadata.description"),
    ],
)  # fmt: skip
def test_a_url_with_credentials_is_refused_anywhere(
    tmp_path: Path, where: str, old: str, new: str, place: str
) -> None:
    secret = only(diagnostics(tmp_path, _with(old, new)), "secrets/url-credentials")
    assert secret.message.startswith(place)
    assert "Xk29fQ7" not in secret.message and "ghp_abc123" not in secret.message


@pytest.mark.parametrize(
    "text",
    ["https://derms.example/oscp", "https://derms.example:8443/a@b", "mailto:ops@depot.example",
     "https://depot.example/?contact=ops@depot.example", "ops@depot.example"],
)  # fmt: skip
def test_a_url_without_credentials_is_fine(tmp_path: Path, text: str) -> None:
    site = _with(
        "  timezone: Australia/Sydney\n", f'  timezone: Australia/Sydney\n  description: "{text}"\n'
    )
    assert diagnostics(tmp_path, site) == []


# The value is never printed, in any format, from any line quoted


def _every_format(path: Path) -> str:
    from depotctl.config.render import (
        render_github,
        render_json,
        render_junit,
        render_sarif,
        render_text,
    )
    from depotctl.config.validate import ValidationRun, validate_file

    run = ValidationRun([validate_file(path)])
    assert run.errors, "the site holds a secret"
    return "\n".join(
        render(run)
        for render in (render_text, render_json, render_github, render_junit, render_sarif)
    )


LEAKS = {
    "a binary label": (_labelled(f"{{asset: DC-07, password: !!binary {BINARY}}}"), BINARY),
    "a plain label with spaces": (_labelled("{token: correct horse battery}"), "horse"),
    "a quoted label": (_labelled("{'api-key': 'a,b}c'}"), "a,b}c"),
    "a URL's password": (_with("  timezone: Australia/Sydney\n", f"  timezone: Australia/Sydney\n  description: {URL}\n"), "Xk29fQ7"),
    "a block scalar": (
        _with("  timezone: Australia/Sydney\n", "  timezone: Australia/Sydney\n  labels:\n    secret: |\n      first-line-of-it\n      second-line-of-it\n"),
        "line-of-it",
    ),
    "a duplicate key": (
        _with("  timezone: Australia/Sydney\n", f"  timezone: Australia/Sydney\n  labels:\n    token: one\n    token: {PASSWORD}\n"),
        PASSWORD,
    ),
    "an escaped key": (_labelled('{"pass\\u0077ord": ' + PASSWORD + "}"), PASSWORD),
    "an anchored secret": (_labelled(f"{{password: &pw {PASSWORD}}}"), PASSWORD),
    "a syntax error": (_with("  timezone: Australia/Sydney\n", f"  timezone: Australia/Sydney\n  labels: {{password: {PASSWORD}, [\n"), PASSWORD),
    "a syntax error's URL": (_with("  timezone: Australia/Sydney\n", f"  timezone: Australia/Sydney\n  description: {URL} [\n  x: ]\n"), "Xk29fQ7"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(LEAKS), ids=list(LEAKS))
def test_no_output_format_prints_the_secret(tmp_path: Path, case: str) -> None:
    text, secret = LEAKS[case]
    path = tmp_path / "site.yaml"
    path.write_text(text)
    assert secret in text
    assert secret not in _every_format(path)


def test_the_quoted_line_is_masked_where_the_secret_stood(tmp_path: Path) -> None:
    from depotctl.config.render import render_text
    from depotctl.config.validate import ValidationRun, validate_file

    path = tmp_path / "site.yaml"
    path.write_text(_labelled(f"{{asset: DC-07, password: !!binary {BINARY}}}"))
    shown = render_text(ValidationRun([validate_file(path)]))
    assert "labels: {asset: DC-07, password: ********}" in shown


def test_a_site_given_as_text_is_checked_as_a_file_is(tmp_path: Path) -> None:
    from depotctl.config.load import load_text
    from depotctl.config.secret_scan import report_secrets

    loaded = load_text(_labelled(f"{{password: {PASSWORD}}}"), tmp_path / "site.yaml", "revision 3")
    assert loaded.report.diagnostics == []  # read, as diff reads it: not refused
    report_secrets(loaded)
    assert [d.rule for d in loaded.report.diagnostics] == ["secrets/inline-secret"]
    assert loaded.report.hidden and loaded.report.source_line(25) is not None
    assert PASSWORD not in (loaded.report.source_line(25) or "")


def test_aliases_are_looked_at_once_so_a_billion_laughs_costs_its_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from depotctl.config import secret_scan
    from depotctl.config.source import parse_documents

    lines = ["a0: &a0 {token: x, b: [1, 2, 3]}"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    [document] = parse_documents("\n".join(lines) + "\n")  # 10**9 mappings, expanded
    looked_at: list[object] = []

    def counting(key: object) -> bool:
        looked_at.append(key)
        assert len(looked_at) < 1000, "an alias was walked again"
        return key == "token"

    monkeypatch.setattr(secret_scan, "is_secret_key", counting)
    [finding] = secret_scan.secret_findings(document)
    assert finding.path == ("a0", "token")


@pytest.mark.parametrize("output", ["text", "json", "github", "junit", "sarif"])
def test_a_secret_pasted_where_a_variable_name_belongs_is_never_printed(
    tmp_path: Path, output: str
) -> None:
    """``password_env: <the password itself>``: refused as no variable name, and the
    value is shown neither in the message nor in the quoted line, in any format."""
    import subprocess
    import sys

    pasted = SITE.replace(f"password: {PASSWORD}", f'password_env: "{PASSWORD} !"').replace(
        f"token: {TOKEN}", "token_env: DNSP_TOKEN"
    )
    site = tmp_path / "site.yaml"
    site.write_text(pasted)
    result = subprocess.run(
        [sys.executable, "-m", "depotctl", "validate", str(site), "--format", output],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "environment variable name" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
