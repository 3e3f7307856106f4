"""``depotctl schema``: the committed schema files are what the command emits now."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from depotctl.cli import app
from tests.conftest import ROOT

COMMITTED = {
    "Site": ROOT / "schema" / "site.schema.json",
    "Tariff": ROOT / "schema" / "tariff.schema.json",
}

runner = CliRunner()


@pytest.mark.parametrize("kind", ["Site", "Tariff"])
def test_committed_schema_matches_the_command(kind: str) -> None:
    result = runner.invoke(app, ["schema", "--kind", kind])

    assert result.exit_code == 0
    assert result.stdout == COMMITTED[kind].read_text(encoding="utf-8"), (
        f"regenerate with: depotctl schema --kind {kind} --out {COMMITTED[kind].relative_to(ROOT)}"
    )


def test_default_kind_is_site_on_stdout() -> None:
    result = runner.invoke(app, ["schema"])

    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "depotctl Site"


def test_kind_is_case_insensitive() -> None:
    result = runner.invoke(app, ["schema", "--kind", "tariff", "--format", "json"])

    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "depotctl Tariff"


def test_out_writes_the_file_and_nothing_to_stdout(tmp_path: Path) -> None:
    out = tmp_path / "site.schema.json"

    result = runner.invoke(app, ["schema", "--out", str(out)])

    assert result.exit_code == 0
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == COMMITTED["Site"].read_text(encoding="utf-8")


def test_unwritable_out_exits_3(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "--out", str(tmp_path / "missing-dir" / "s.json")])

    assert result.exit_code == 3
    assert "cannot write" in result.stderr


@pytest.mark.parametrize("args", [["--kind", "Depot"], ["--format", "yaml"]])
def test_bad_option_is_a_usage_error(args: list[str]) -> None:
    assert runner.invoke(app, ["schema", *args]).exit_code == 2
