"""The OSCP listener comes with the first OSCP source: a controller started without
one listens for none, and the ``apply`` that adds one brings the listener up and
registers at once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from depotctl.api.state_dir import StateDir
from depotctl.controller.clock import SimClock
from depotctl.controller.oscp.serving import OscpServing
from depotctl.controller.service import Controller
from depotctl.controller.services.revisions import apply_site
from depotctl.controller.store import Store
from tests.conftest import EXAMPLES
from tests.controller.oscp.rig import INITIAL_TOKEN, START, TOKEN_ENV, CapacityProvider, serving

MINIMAL = (EXAMPLES / "minimal.yaml").read_text()


def _with_oscp(cp_url: str) -> str:
    text = MINIMAL.replace(
        "      limits: {import: 100 kW, current: 160 A}\n",
        "      limits: {import: 100 kW, current: 160 A}\n      envelope_source: dnsp\n",
        1,
    )
    return text + (
        "  envelope_sources:\n"
        "    - id: dnsp\n"
        "      protocol: oscp\n"
        f"      oscp: {{base_url: {cp_url}/oscp/cp/2.0, group_id: G-1, token_env: {TOKEN_ENV}}}\n"
        "      heartbeat_interval: 60 s\n"
        "      offline_after: 5 min\n"
        "      fallback: {import: 60 kW}\n"
    )


def test_an_apply_that_adds_the_first_oscp_source_starts_the_listener_and_registers(
    tmp_path: Path,
) -> None:
    provider = CapacityProvider()
    controller = Controller(
        Store.open(StateDir(tmp_path).store),
        SimClock(START, monotonic=lambda: 0.0),
        base_dir=EXAMPLES,
    )
    controller.seed(EXAMPLES / "minimal.yaml", MINIMAL, author="test")
    oscp = OscpServing(controller, StateDir(tmp_path), ("127.0.0.1", 0))
    assert not oscp.wanted
    listening: list[str] = []

    async def night(cp_url: str) -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(oscp.run(stop, listening.append))
        await asyncio.sleep(0.2)  # a few looks at the site: nothing to listen for
        assert listening == [] and oscp.sock is None
        apply_site(controller, _with_oscp(cp_url), expected=1, author="t", message="dnsp")
        deadline = time.monotonic() + 30  # a hang, not a busy machine's slowness
        while not provider.of("register"):
            assert time.monotonic() < deadline, "no registration reached the provider"
            await asyncio.sleep(0.01)
        assert len(listening) == 1
        async with httpx.AsyncClient() as client:
            refused = await client.post(listening[0] + "/heartbeat", json={})
        assert refused.status_code == 401
        stop.set()
        await running

    try:
        with serving(provider.app()) as cp_url:
            asyncio.run(night(cp_url))
        [register] = provider.of("register")
        assert register.headers["authorization"] == f"Token {INITIAL_TOKEN}"
        assert register.body["version_url"][0]["base_url"] == listening[0]
    finally:
        controller.close()
