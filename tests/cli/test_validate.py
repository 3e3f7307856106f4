"""``depotctl validate`` as CI runs it: a real subprocess, its output and exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

INVALID = EXAMPLES / "invalid"


def depotctl(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "depotctl", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_a_valid_site_exits_0() -> None:
    result = depotctl("validate", EXAMPLES / "minimal.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 file valid" in result.stdout


def test_text_output_points_at_the_culprit_with_a_caret() -> None:
    result = depotctl("validate", INVALID / "quantity" / "missing-unit.yaml")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if "[quantity/missing-unit]" in line)
    assert lines[head].startswith(f"{INVALID / 'quantity' / 'missing-unit.yaml'}:17:25: error: ")
    assert lines[head + 2] == "17 |       limits: {current: 100}"
    assert lines[head + 3] == "   |                         ^~~"
    assert lines[head + 4].startswith("   = hint: ")
    assert lines[-1].startswith("✗ 1 error, 0 warnings in 1 of 1 file")


@pytest.mark.parametrize(
    "broken",
    sorted(INVALID.glob("io/*.yaml")) + sorted(INVALID.glob("yaml/*.yaml")),
    ids=lambda p: p.name,
)
def test_no_traceback_for_a_bad_file(broken: Path) -> None:
    result = depotctl("validate", broken)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr


def test_a_missing_path_exits_3(tmp_path: Path) -> None:
    result = depotctl("validate", tmp_path / "absent.yaml")
    assert result.returncode == 3
    assert "[io/not-found]" in result.stdout
    assert "Traceback" not in result.stderr


def test_no_paths_is_a_usage_error() -> None:
    result = depotctl("validate")
    assert result.returncode == 2
    assert "PATH" in result.stderr


def test_an_unknown_format_is_a_usage_error() -> None:
    assert depotctl("validate", "--format", "xml", EXAMPLES / "minimal.yaml").returncode == 2


def test_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    text = (EXAMPLES / "minimal.yaml").read_text()
    warned = tmp_path / "warned.yaml"
    warned.write_text(
        text.replace(
            "      phases: 3\n      fallback: 16 A\n      evses: [{id: 1, connectors: [{id: 1, type: Type2}]}]\n    - id: chg-02",
            "      phases: 1\n      fallback: 16 A\n      evses: [{id: 1, connectors: [{id: 1, type: Type2}]}]\n    - id: chg-02",
        )
    )
    result = depotctl("validate", warned)
    assert "[electrical/missing-phase-rotation]" in result.stdout
    assert result.returncode == 0
    assert depotctl("validate", "--strict", warned).returncode == 1


def test_list_rules_names_every_rule_once() -> None:
    result = depotctl("validate", "--list-rules", "--format", "json")
    assert result.returncode == 0
    rules = json.loads(result.stdout)["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    assert {"topology/cycle", "io/too-large", "quantity/wrong-unit"} <= set(ids)
    assert all(r["severity"] in ("error", "warning") and r["hint"] for r in rules)


def test_github_format_is_chosen_under_github_actions(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "GITHUB_ACTIONS": "true"}
    result = depotctl("validate", INVALID / "quantity" / "missing-unit.yaml", env=env)
    if result.returncode == 1 and result.stdout.startswith("::error"):
        assert "title=quantity/missing-unit" in result.stdout
    else:
        pytest.fail(f"expected GitHub annotations, got: {result.stdout[:200]}")


def test_validate_imports_no_ui_network_web_or_ocpp_library() -> None:
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['depotctl', 'validate', sys.argv[1]]\n"
        "try:\n"
        "    runpy.run_module('depotctl', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'textual', 'httpx', 'fastapi', 'starlette', 'uvicorn', 'ocpp', 'websockets', 'highspy'})\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(EXAMPLES / "minimal.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_an_internal_error_exits_3_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import depotctl.config
    from depotctl.cli import main

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the checks fell over")

    monkeypatch.setattr(depotctl.config, "validate_paths", broken)
    monkeypatch.delenv("DEPOTCTL_DEBUG", raising=False)
    monkeypatch.setattr("sys.argv", ["depotctl", "validate", str(EXAMPLES / "minimal.yaml")])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: the checks fell over" in err
    assert "Traceback" not in err
