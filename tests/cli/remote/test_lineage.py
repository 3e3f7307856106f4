"""``depotctl lineage`` against a real controller over HTTP (the read-only token): a
night the real control loop recorded (:mod:`tests.controller.test_time_travel`), in
site time with its offset, as JSON in UTC, a window in site time, an unknown subject."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from depotctl.cli.app import app
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from tests.controller.test_app import serving
from tests.controller.test_time_travel import a_recorded_night, controller_of


@pytest.fixture
def flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, ...]]:
    """The recorded night, served; the flags that reach it with the read-only token."""
    monkeypatch.setenv("DEPOTCTL_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.delenv("DEPOTCTL_CONTEXT", raising=False)
    controller = controller_of(tmp_path)
    a_recorded_night(controller)
    tokens = load_or_create_tokens(tmp_path / "state")
    with serving(create_app(controller, tokens)) as url:
        yield ("--server", url, "--token-file", str(tmp_path / "state/tokens/readonly.token"))
    controller.close()


def run(flags: tuple[str, ...], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["lineage", *args, *flags])
    return result.exit_code, result.stdout, result.stderr


def test_lineage_in_site_time_as_json_in_a_window_and_unknown(flags: tuple[str, ...]) -> None:
    code, out, err = run(flags, "S-urgent")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("2026-03-02 18:00:06+11:00  session S-urgent arrived at chg-02/1")
    assert any("envelope E-cut" in line for line in lines[1:-1])
    assert lines[-1].startswith("outcome: short by 18.0 kWh")

    code, out, err = run(flags, "E-cut", "--format", "json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["kind"] == "envelope" and answer["until"].endswith("+00:00")
    assert answer["envelope"]["costs"]

    code, out, err = run(flags, "chg-02/1", "--since", "2026-03-02 18:27")
    assert code == 0, err
    assert out == "evse chg-02/1 had no session in this window\n"
    code, out, err = run(flags, "chg-02/1", "--since", "2026-03-02 18:26")
    assert "session S-urgent arrived" in out  # open until 18:26:34

    code, out, err = run(flags, "bus-99")
    assert code == 2 and out == ""
    assert '"bus-99" is no EVSE of site minimal-depot' in err
