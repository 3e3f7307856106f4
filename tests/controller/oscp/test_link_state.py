"""An OSCP source's link as support reads it: ``GET /api/v1/envelopes`` over real HTTP
(its registration, the messages waiting for a provider that refuses them, the deadline
its heartbeat named) and ``depotctl envelopes`` in words, in the site's time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from typer.testing import CliRunner

from depotctl.cli.app import app
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from tests.controller.oscp.rig import SOURCE, START, CapacityProvider, oscp_rig
from tests.controller.test_app import serving


def test_the_api_and_the_cli_show_the_link_and_what_waits_for_the_provider(
    tmp_path: Path,
) -> None:
    provider = CapacityProvider(status=503)  # the provider is down: nothing acknowledged
    with oscp_rig(tmp_path, provider) as rig:
        token = rig.register()  # registered; its answer and the handshake wait
        deadline = START + timedelta(minutes=3)
        beat = {"offline_mode_at": deadline.isoformat().replace("+00:00", "Z")}
        assert rig.post("heartbeat", beat, token=token).status_code == 204
        tokens = load_or_create_tokens(tmp_path)
        with serving(create_app(rig.controller, tokens)) as api:
            answer = httpx.get(
                f"{api}/api/v1/envelopes", headers={"Authorization": f"Bearer {tokens.readonly}"}
            )
            assert answer.status_code == 200
            [source] = [s for s in answer.json()["sources"] if s["id"] == SOURCE]
            assert source["online"] is True
            assert source["offline_at"] == "2026-03-02T06:03:00+00:00"
            link = source["oscp"]
            assert link["registered_at"] == "2026-03-02T06:00:00+00:00"
            assert link["waiting"] == 2 and "503" in link["last_error"]
            flags = ["--server", api, "--token-file", str(tmp_path / "tokens/readonly.token")]
            shown = CliRunner().invoke(app, ["envelopes", *flags])
        assert shown.exit_code == 0, shown.output
        # the bus depot is in Sydney (+11:00 in March)
        assert (
            f"source {SOURCE}: online until 2026-03-02 17:03:00+11:00, last heard "
            "2026-03-02 17:00:00+11:00; OSCP registered 2026-03-02 17:00:00+11:00, "
            "2 messages waiting (last failure: 503 Service Unavailable"
        ) in shown.output
