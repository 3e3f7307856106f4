"""Site metadata: the time zone must be an IANA zone; suggestions only where they help."""

from __future__ import annotations

import zoneinfo
from pathlib import Path

import pytest

from depotctl.config.diagnostics import Diagnostic
from depotctl.config.validate import validate_file

SITE = """\
apiVersion: depotctl/v1
kind: Site
metadata:
  name: depot-north
  timezone: ZONE
spec:
  electrical: {voltage: 230 V, phases: 3}
  nodes:
    - {id: gc-main, type: grid_connection, limits: {import: 100 kW}}
"""


def diagnostics(tmp_path: Path, zone: str) -> list[Diagnostic]:
    path = tmp_path / "site.yaml"
    path.write_text(SITE.replace("ZONE", zone))
    return validate_file(path).diagnostics


def invalid(tmp_path: Path, zone: str) -> Diagnostic:
    found = diagnostics(tmp_path, zone)
    assert [d.rule for d in found] == ["site/invalid-timezone"], [d.message for d in found]
    return found[0]


@pytest.mark.parametrize("zone", ["Australia/Sydney", "America/Los_Angeles", "UTC", "Etc/GMT-10"])
def test_iana_zones_are_accepted(tmp_path: Path, zone: str) -> None:
    assert diagnostics(tmp_path, zone) == []


def test_a_valid_zone_does_not_list_every_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> set[str]:
        raise AssertionError("available_timezones() is only for suggestions")

    monkeypatch.setattr(zoneinfo, "available_timezones", refuse)
    assert diagnostics(tmp_path, "Europe/Amsterdam") == []


@pytest.mark.parametrize(
    ("zone", "suggestion"),
    [
        ("Australia/Sidney", "Australia/Sydney"),
        ("australia/sydney", "Australia/Sydney"),
        ("Sydney", "Australia/Sydney"),
        ('"New York"', "America/New_York"),
    ],
)
def test_a_misspelt_zone_gets_a_suggestion(tmp_path: Path, zone: str, suggestion: str) -> None:
    d = invalid(tmp_path, zone)
    assert d.span is not None and (d.span.line, d.span.column) == (5, 13)
    assert d.hint == f'did you mean "{suggestion}"?'


@pytest.mark.parametrize("zone", ["AEST", "PST"])
def test_an_abbreviation_is_not_mistaken_for_a_typo(tmp_path: Path, zone: str) -> None:
    hint = invalid(tmp_path, zone).hint or ""
    assert "did you mean" not in hint
    assert "abbreviation" in hint


@pytest.mark.parametrize("zone", ["UTC+10", "GMT+10", '"+10:00"'])
def test_an_offset_is_explained_not_matched_to_an_etc_zone(tmp_path: Path, zone: str) -> None:
    hint = invalid(tmp_path, zone).hint or ""
    assert "did you mean" not in hint
    assert "offset" in hint


@pytest.mark.parametrize(
    "zone",
    ["localtime", "posixrules", "right/UTC", "../../etc/passwd", "/etc/localtime", "Australia"],
)
def test_tz_files_paths_and_directories_are_not_zones(tmp_path: Path, zone: str) -> None:
    invalid(tmp_path, zone)
