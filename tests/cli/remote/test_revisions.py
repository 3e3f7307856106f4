"""``plan`` and ``apply`` against a real ``depotctl serve`` process: validate's warnings
and what the controller's host lacks for the site's secrets (a password file, an
environment variable), shown before the summary and before asking; ``--strict``
refuses them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from depotctl.cli.app import app
from tests.cli.test_remote import MINIMAL, Controller, _current
from tests.cli.test_remote import controller as controller  # the real serve, for this module
from tests.cli.test_remote import run as run

#: A variable no controller process has (the fixture's environment is the test's).
UNSET = "DEPOTCTL_TEST_NEVER_SET_PASSWORD"
SECRET = "s3cret-never-shown"


def _site(tmp_path: Path, *, db1: str = "100 A", env: str = UNSET, file: Path) -> Path:
    """minimal.yaml with db-1 at ``db1``, chg-01's password in ``env``, chg-02's in
    ``file``."""
    text = MINIMAL.read_text()
    for old, new in (
        ("limits: {current: 100 A}", f"limits: {{current: {db1}}}"),
        ("password_env: CP01_PASSWORD", f"password_env: {env}"),
        ("password_file: /etc/depotctl/cp02.secret", f"password_file: {file}"),
    ):
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / f"site-{db1.replace(' ', '')}-{env}.yaml"
    path.write_text(text)
    return path


def _secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "cp02.secret"
    path.write_text(SECRET + "\n")
    path.chmod(0o600)
    return path


def test_plan_shows_validates_warnings_and_the_hosts_problems_before_the_summary(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "cp02.secret"
    site = _site(tmp_path, db1="200 A", file=missing)  # above gc-main's 160 A: a warning
    result = run.invoke(app, ["plan", "-f", str(site), *controller.flags()])
    assert result.exit_code == 0, result.output
    out = result.stdout
    board = (
        'Warning: circuit "db-1" current limit 200 A is above its parent "gc-main" (160 A); '
        "it can never be reached [electrical/child-exceeds-parent]\n\n"
        f"  on {site} line 17, column 25:\n"
        "    17 |       limits: {current: 200 A}\n\n"
        "  lower db-1 to 160 A or raise gc-main\n"
    )
    assert board in out
    file_line = next(line for line in out.splitlines() if "[host/secret-file-missing]" in line)
    assert file_line == (
        f'Warning: charger "chg-02" password_file {missing} does not exist on the '
        "controller's host [host/secret-file-missing]"
    )
    assert f"  on {site} line 29, column 61:\n" in out
    variable = (
        f'Warning: charger "chg-01" password_env {UNSET} is not set in the controller\'s '
        "environment: the controller cannot read its password [host/variable-unset]"
    )
    assert variable in out
    assert f"  set {UNSET} in the controller's environment" in out
    last_warning = max(out.index(board), out.index(file_line), out.index(variable))
    assert out.index("Impact now") < out.index(board) < last_warning < out.index("\nPlan: ")
    assert out.rstrip().splitlines()[-1].startswith("Plan: 0 to add, 3 to change")


def test_plan_json_carries_the_warnings_typed(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    site = _site(tmp_path, db1="200 A", file=tmp_path / "missing.secret")
    result = run.invoke(app, ["plan", "-f", str(site), "--format", "json", *controller.flags()])
    assert result.exit_code == 0, result.output
    warnings = json.loads(result.stdout)["warnings"]
    assert [(w["origin"], w["rule"], w["line"]) for w in warnings] == [
        ("site", "electrical/child-exceeds-parent", 17),
        ("host", "host/variable-unset", 21),
        ("host", "host/secret-file-missing", 29),
    ]
    assert all(w["file"] == str(site) and w["hint"] for w in warnings)


def test_a_site_the_host_can_serve_plans_without_warnings_and_passes_strict(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    site = _site(tmp_path, env="PATH", file=_secret_file(tmp_path))  # PATH: every process
    result = run.invoke(app, ["plan", "-f", str(site), "--strict", *controller.flags()])
    assert result.exit_code == 0, result.output
    assert "Warning:" not in result.stdout
    assert SECRET not in result.output


def test_an_empty_secret_file_is_a_warning_and_no_value_is_ever_shown(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.secret"
    empty.write_text("")
    site = _site(tmp_path, env="PATH", file=empty)
    result = run.invoke(app, ["plan", "-f", str(site), *controller.flags()])
    assert result.exit_code == 0, result.output
    assert (
        f'Warning: charger "chg-02" password_file {empty} is empty on the controller\'s host '
        "[host/secret-file-unreadable]"
    ) in result.stdout
    assert os.environ["PATH"] not in result.output  # the variable's value is looked up, never told


def test_plan_strict_exits_1_after_showing_the_plan(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    site = _site(tmp_path, file=tmp_path / "missing.secret")
    result = run.invoke(app, ["plan", "-f", str(site), "--strict", *controller.flags()])
    assert result.exit_code == 1, result.output
    assert "Warning: " in result.stdout and "\nPlan: " in result.stdout
    assert "--strict: the plan has 2 warnings (shown above)" in result.stderr


def test_apply_strict_refuses_a_plan_with_warnings_and_stores_nothing(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    before = _current(run, controller)
    site = _site(tmp_path, db1="90 A", file=tmp_path / "missing.secret")
    refused = run.invoke(app, ["apply", "-f", str(site), "--yes", "--strict", *controller.flags()])
    assert refused.exit_code == 1, refused.output
    assert "[host/secret-file-missing]" in refused.stdout
    assert "--strict: the plan has 2 warnings" in refused.stderr
    assert "Applied" not in refused.stdout
    assert _current(run, controller) == before
    applied = run.invoke(app, ["apply", "-f", str(site), "--yes", *controller.flags()])
    assert applied.exit_code == 0, applied.output
    out = applied.stdout
    assert out.index("[host/variable-unset]") < out.index("\nPlan: ") < out.index("Applied:")
    assert _current(run, controller) == before + 1


def test_apply_strict_of_a_saved_plan_checks_the_host_again(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    """A secret file put in place after planning: the saved plan's warning is stale."""
    secret = tmp_path / "later.secret"
    site = _site(tmp_path, db1="85 A", env="PATH", file=secret)
    saved = tmp_path / "plan.json"
    planned = run.invoke(app, ["plan", "-f", str(site), "--out", str(saved), *controller.flags()])
    assert planned.exit_code == 0, planned.output
    assert [w["rule"] for w in json.loads(saved.read_text())["warnings"]] == [
        "host/secret-file-missing"
    ]
    before = _current(run, controller)
    still = run.invoke(app, ["apply", str(saved), "--yes", "--strict", *controller.flags()])
    assert still.exit_code == 1, still.output
    assert _current(run, controller) == before
    secret.write_text(SECRET)
    applied = run.invoke(app, ["apply", str(saved), "--yes", "--strict", *controller.flags()])
    assert applied.exit_code == 0, applied.output
    assert "Warning:" not in applied.stdout
    assert _current(run, controller) == before + 1


def test_plan_strict_as_json_prints_the_plan_and_says_where_the_warnings_are(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    site = _site(tmp_path, env="PATH", file=tmp_path / "missing.secret")
    result = run.invoke(
        app, ["plan", "-f", str(site), "--strict", "--format", "json", *controller.flags()]
    )
    assert result.exit_code == 1, result.output
    assert [w["rule"] for w in json.loads(result.stdout)["warnings"]] == [
        "host/secret-file-missing"
    ]
    assert "--strict: the plan has 1 warning (in its warnings)" in result.stderr
