"""Asking the grid operator for capacity: ``depotctl envelopes adjust`` through the API
over real HTTP queues an ``AdjustGroupCapacityForecast`` for the source's group, which
the link delivers to the provider (conforming to its schema); refused before the source
is registered, and for a source that is not an OSCP one."""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import CliRunner

from depotctl.cli.app import app
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.store import JournalKind
from tests.controller.oscp.rig import GROUP, SOURCE, oscp_rig
from tests.controller.test_app import serving


def test_an_adjustment_asked_on_the_cli_reaches_the_grid_operator(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        tokens = load_or_create_tokens(tmp_path)
        with serving(create_app(rig.controller, tokens)) as api:
            flags = ["--server", api, "--token-file", str(tmp_path / "tokens/admin.token")]
            adjust = ["envelopes", "adjust", SOURCE, "--capacity", "1000kW", "--end", "2h"]
            early = CliRunner().invoke(app, [*adjust, *flags])
            assert early.exit_code == 4, early.output  # not registered yet: a conflict
            assert "not registered" in early.output
            rig.register()
            asked = CliRunner().invoke(app, [*adjust, *flags])
            assert asked.exit_code == 0, asked.output
            assert f"asked source {SOURCE} (group {GROUP}) for 1000kW" in asked.output
            headers = {"Authorization": f"Bearer {tokens.admin}"}
            nowhere = httpx.post(
                f"{api}/api/v1/envelope-sources/local/adjustments",
                json={"forecasted_blocks": []},
                headers=headers,
            )
            assert nowhere.status_code == 422  # no block: refused before any lookup
        rig.link_pass()
        [sent] = rig.provider.of("adjust_group_capacity_forecast")
        assert sent.body is not None and sent.body["group_id"] == GROUP
        [block] = sent.body["forecasted_blocks"]
        assert (block["capacity"], block["unit"], block["phase"]) == (1000, "KW", "ALL")
        assert block["start_time"] == "2026-03-02T06:00:00Z"
        assert block["end_time"] == "2026-03-02T08:00:00Z"
        [entry] = [e for e in rig.journal(JournalKind.OSCP_FORECAST) if e.data.get("adjustment")]
        assert entry.data["request_id"] == sent.headers["x-request-id"]


def test_an_adjustment_for_a_source_that_is_not_oscp_is_not_found(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        tokens = load_or_create_tokens(tmp_path)
        with serving(create_app(rig.controller, tokens)) as api:
            answer = httpx.post(
                f"{api}/api/v1/envelope-sources/local/adjustments",
                json={
                    "forecasted_blocks": [
                        {
                            "capacity": 5,
                            "unit": "KW",
                            "start_time": "2026-03-02T07:00:00Z",
                            "end_time": "2026-03-02T08:00:00Z",
                        }
                    ]
                },
                headers={"Authorization": f"Bearer {tokens.admin}"},
            )
        assert answer.status_code == 404
        assert "its OSCP sources: ausgrid-oscp" in answer.json()["message"]
