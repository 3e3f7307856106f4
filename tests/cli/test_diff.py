"""``depotctl diff OLD NEW`` as CI runs it: a real subprocess, its output and exit code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLES

MINIMAL = EXAMPLES / "minimal.yaml"


def depotctl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "depotctl", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def lowered(tmp_path: Path) -> Path:
    """minimal.yaml with db-1 lowered from 100 A to 80 A."""
    head = tmp_path / "head.yaml"
    head.write_text(
        MINIMAL.read_text().replace("limits: {current: 100 A}", "limits: {current: 80 A}")
    )
    return head


def test_equal_sites_exit_0(tmp_path: Path) -> None:
    reordered = tmp_path / "same.yaml"
    shutil.copy(MINIMAL, reordered)
    reordered.write_text(reordered.read_text().replace("import: 100 kW", "import: 0.1 MW"))
    result = depotctl("diff", MINIMAL, reordered)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith("No changes. The sites are semantically equal.\n")


def test_a_change_exits_1_and_is_shown(tmp_path: Path) -> None:
    result = depotctl("diff", MINIMAL, lowered(tmp_path))
    assert result.returncode == 1, result.stderr
    assert (
        "  ~ circuit db-1 current limit 100 A → 80 A (−20 %), 2 chargers below it\n"
        in result.stdout
    )
    assert result.stdout.endswith("Diff: 0 to add, 1 to change, 0 to destroy.\n")
    assert "\x1b[" not in result.stdout


def test_json_output(tmp_path: Path) -> None:
    result = depotctl("diff", MINIMAL, lowered(tmp_path), "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert set(document) >= {"version", "old", "new", "changes", "summary"}
    assert (document["version"], document["new"]) == (1, str(tmp_path / "head.yaml"))
    assert document["summary"] == {"add": 0, "change": 1, "remove": 0}
    [change] = document["changes"]
    assert (
        change["action"],
        change["kind"],
        change["change_pct"],
        change["affected_chargers"],
    ) == ("change", "limit", -20.0, 2)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert depotctl("diff", MINIMAL).returncode == 2
    assert depotctl("diff", MINIMAL, MINIMAL, "--format", "yaml").returncode == 2


def test_a_missing_file_exits_3_with_its_diagnostic(tmp_path: Path) -> None:
    result = depotctl("diff", MINIMAL, tmp_path / "nope.yaml")
    assert result.returncode == 3
    assert f"{tmp_path / 'nope.yaml'}: error: no such file [io/not-found]" in result.stderr
    assert result.stdout == ""


def test_an_invalid_site_exits_3_with_validate_style_diagnostics(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        MINIMAL.read_text().replace("limits: {current: 100 A}", "limits: {current: 100}")
    )
    result = depotctl("diff", MINIMAL, broken, "--format", "json")
    assert result.returncode == 3
    assert f"{broken}:17:25: error: " in result.stderr
    assert "[quantity/missing-unit]" in result.stderr
    assert "17 |       limits: {current: 100}" in result.stderr


def _edited(tmp_path: Path, name: str, old: str, new: str, count: int = -1) -> Path:
    text = MINIMAL.read_text()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, count))
    return path


def test_a_side_that_fails_validation_exits_3_with_its_diagnostics_not_a_diff(
    tmp_path: Path,
) -> None:
    """An unknown parent, a parent loop, a fallback above the rating: validate's errors
    at file:line:col with their rule, never an ordinary diff ("moved from …")."""
    unknown = _edited(tmp_path, "unknown.yaml", "parent: gc-main", "parent: row1")
    loop = _edited(
        tmp_path,
        "loop.yaml",
        "type: grid_connection\n",
        "type: grid_connection\n      parent: db-1\n",
    )
    above = _edited(tmp_path, "above.yaml", "fallback: 16 A", "fallback: 40 A", 1)
    for broken, where, rule in (
        (unknown, ":16:15: error: ", "[topology/unknown-parent]"),
        (loop, ":13:15: error: ", "[topology/cycle]"),
        (above, ":24:17: error: ", "[electrical/fallback-exceeds-rating]"),
    ):
        for old, new in ((MINIMAL, broken), (broken, MINIMAL)):
            result = depotctl("diff", old, new)
            assert result.returncode == 3, (broken, result.stdout, result.stderr)
            assert result.stdout == ""
            assert f"{broken}{where}" in result.stderr
            assert rule in result.stderr
            assert "= hint: " in result.stderr


def test_a_side_with_only_warnings_diffs(tmp_path: Path) -> None:
    """A board above its parent is a warning for validate: diff compares it."""
    above = _edited(tmp_path, "above.yaml", "limits: {current: 100 A}", "limits: {current: 200 A}")
    result = depotctl("diff", MINIMAL, above)
    assert result.returncode == 1, result.stderr
    assert "current limit 100 A → 200 A" in result.stdout
