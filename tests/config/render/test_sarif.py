"""``validate --format sarif``: valid SARIF 2.1.0 against the official schema."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from depotctl.config.render import render_sarif
from depotctl.config.render.sarif import artifact_uri
from depotctl.config.rules import all_rules
from depotctl.config.validate import ValidationRun
from tests.conftest import ROOT

SARIF_SCHEMA = ROOT / "tests" / "fixtures" / "sarif-schema-2.1.0.json"


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SARIF_SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _assert_valid_sarif(text: str) -> dict[str, Any]:
    log = json.loads(text)
    errors = sorted(_validator().iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    return log


def test_the_schema_fixture_is_the_official_one() -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())

    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert "result" in schema["definitions"]
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate({"version": "2.1.0", "runs": [{"results": []}]})  # no tool


def test_output_validates_against_sarif_2_1_0(run: ValidationRun) -> None:
    log = _assert_valid_sarif(render_sarif(run))

    assert log["version"] == "2.1.0"
    assert log["runs"][0]["tool"]["driver"]["name"] == "depotctl"


def test_driver_lists_every_registered_rule(run: ValidationRun) -> None:
    driver = json.loads(render_sarif(run))["runs"][0]["tool"]["driver"]
    by_id = {r["id"]: r for r in driver["rules"]}

    assert list(by_id) == [r.id for r in all_rules()]
    cycle = by_id["topology/cycle"]
    assert cycle["defaultConfiguration"] == {"level": "error"}
    assert cycle["shortDescription"]["text"]
    assert cycle["help"]["text"]
    assert by_id["envelope/unused-source"]["defaultConfiguration"] == {"level": "warning"}


def test_results_point_at_rule_file_and_region(run: ValidationRun) -> None:
    sarif = json.loads(render_sarif(run))["runs"][0]
    rules = sarif["tool"]["driver"]["rules"]
    cycle, unused, missing = sarif["results"]

    for result in (cycle, unused, missing):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert (cycle["ruleId"], cycle["level"]) == ("topology/cycle", "error")
    assert cycle["message"]["text"] == "parents form a loop: db-1 → db-2 → db-1"  # rule's hint
    assert cycle["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "sites/depot.yaml"},
        "region": {"startLine": 16, "startColumn": 15, "endLine": 16, "endColumn": 19},
    }
    assert (unused["level"], unused["locations"][0]["physicalLocation"]["region"]["endLine"]) == (
        "warning",
        32,
    )


def test_file_level_problem_has_a_location_without_region(run: ValidationRun) -> None:
    missing = json.loads(render_sarif(run))["runs"][0]["results"][-1]

    assert missing["ruleId"] == "io/not-found"
    assert missing["locations"] == [
        {"physicalLocation": {"artifactLocation": {"uri": "sites/missing.yaml"}}}
    ]
    assert missing["message"]["text"] == "no such file or directory"  # hint is the rule's help


def test_invocation_carries_exit_code_and_strictness(warnings_only: ValidationRun) -> None:
    lenient = json.loads(render_sarif(warnings_only))["runs"][0]["invocations"][0]
    strict = json.loads(render_sarif(warnings_only, strict=True))["runs"][0]["invocations"][0]

    assert (lenient["exitCode"], lenient["executionSuccessful"]) == (0, True)
    assert (strict["exitCode"], strict["properties"]) == (1, {"strict": True})


def test_artifact_uri_is_relative_with_forward_slashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    assert artifact_uri("sites/north depot/a:b.yaml") == "sites/north%20depot/a%3Ab.yaml"
    assert artifact_uri(str(tmp_path / "sites" / "depot.yaml")) == "sites/depot.yaml"
    assert artifact_uri("/elsewhere/depot.yaml") == "file:///elsewhere/depot.yaml"


def test_cli_output_is_valid_sarif_with_exit_codes(depot_files, validate_cli, tmp_path) -> None:
    valid = validate_cli("--format", "sarif", depot_files["valid"])
    invalid = validate_cli("--format", "sarif", depot_files["error"], depot_files["warning"])
    missing = validate_cli("--format", "sarif", tmp_path / "nope.yaml")

    assert valid.exit_code == 0
    assert _assert_valid_sarif(valid.stdout)["runs"][0]["results"] == []
    assert invalid.exit_code == 1
    results = _assert_valid_sarif(invalid.stdout)["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {
        "topology/unknown-parent",
        "electrical/child-exceeds-parent",
    }
    unknown_parent = next(r for r in results if r["ruleId"] == "topology/unknown-parent")
    assert unknown_parent["message"]["text"].endswith('\nhint: did you mean "db-1"?')
    assert missing.exit_code == 3
    (result,) = _assert_valid_sarif(missing.stdout)["runs"][0]["results"]
    assert "region" not in result["locations"][0]["physicalLocation"]
