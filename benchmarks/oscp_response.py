"""A grid operator's capacity forecast over OSCP, answered by every charger; and a silent
operator's fallback (issue 14's targets: forecast → profiles accepted on every affected
charger ≤ 2 s at 300 chargers; silent → fallback in force within one tick of its
deadline).

    .venv/bin/python benchmarks/oscp_response.py [--chargers 300]

One ``depotctl serve --clock real --tick 5s`` with N simulated chargers in a process of
their own (``envelope_response.py``'s fleet: a vehicle on every EVSE, a quarter OCPP
2.0.1), the grid connection an OSCP source's node, and a Capacity Provider in this
process (Starlette on loopback) that completes the controller's registration. Once
every session holds its dynamic limit, in the same run:

1. the reference: an envelope cut posted to the API (``POST /api/v1/envelopes``);
2. a deeper cut as an OSCP ``update_group_capacity_forecast`` (one block from now):
   from the POST to the last affected charger's acceptance of its settled limit; the
   ratio to the reference is what OSCP costs;
3. the provider's last heartbeat names a deadline 20 s on, then it falls silent: how
   long after that deadline the controller journaled the source offline (its fallback
   in force).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from envelope_response import acceptances, change, limits  # noqa: E402
from ocpp_fleet import (  # noqa: E402
    PASSWORD_ENV,
    free_port,
    scenario_text,
    serve_command,
    site_text,
    stop,
    wait_for,
)

TARGET_S = 2.0
TICK_S = 5.0
TOKEN_ENV = "BENCH_OSCP_TOKEN"
GROUP = "BENCH-GROUP"
SILENT_AFTER_S = 20.0


class Provider:
    """The Capacity Provider's endpoints: records what arrives, answers 204."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            raw = await request.body()
            self.received.append((request.path_params["endpoint"], json.loads(raw or b"{}")))
            return Response(status_code=204)

        return Starlette(routes=[Route("/oscp/cp/2.0/{endpoint}", receive, methods=["POST"])])

    def of(self, endpoint: str) -> list[dict[str, Any]]:
        return [body for name, body in self.received if name == endpoint]


def serve_in_thread(app: Starlette, port: int) -> uvicorn.Server:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    threading.Thread(target=server.run, daemon=True).start()
    wait_for(lambda: server.started, 30, "the provider's server")
    return server


def oscp_site(chargers: int, cp_url: str) -> str:
    text = site_text(chargers)
    marker = "    - id: gc-main\n      type: grid_connection\n"
    assert marker in text
    text = text.replace(marker, marker + "      envelope_source: dnsp\n", 1)
    return text + (
        "  envelope_sources:\n"
        "    - id: dnsp\n"
        "      protocol: oscp\n"
        f"      oscp: {{base_url: {cp_url}/oscp/cp/2.0, group_id: {GROUP}, "
        f"token_env: {TOKEN_ENV}}}\n"
        "      heartbeat_interval: 60 s\n"
        "      offline_after: 5 min\n"
        f"      fallback: {{import: {chargers * 4} kW}}\n"
    )


def run(count: int) -> None:
    initial = "bench-initial-token"
    env = {**os.environ, PASSWORD_ENV: "bench-secret", TOKEN_ENV: initial, "NO_COLOR": "1"}
    provider = Provider()
    cp_port = free_port()
    cp_server = serve_in_thread(provider.app(), cp_port)
    cp_url = f"http://127.0.0.1:{cp_port}"
    with tempfile.TemporaryDirectory(prefix="oscp-response-") as scratch:
        tmp = Path(scratch)
        site, scenario, dump = tmp / "site.yaml", tmp / "scenario.yaml", tmp / "fleet.json"
        (tmp / "silent.txt").write_text("")
        site.write_text(oscp_site(count, cp_url))
        scenario.write_text(scenario_text(count))
        state = tmp / "state"
        log = (tmp / "serve.log").open("w")
        serve = subprocess.Popen(
            serve_command(state, site, tick=f"{TICK_S:g}s", oscp_listen=f"127.0.0.1:{free_port()}"),
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
        sim: subprocess.Popen[bytes] | None = None
        try:
            wait_for(lambda: (state / "endpoints.json").exists(), 30, "serve's endpoints.json")
            endpoints = json.loads((state / "endpoints.json").read_text())
            token = (state / "tokens" / "admin.token").read_text().strip()
            client = httpx.Client(
                base_url=endpoints["api"] + "/api/v1",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            fp = httpx.Client(base_url=endpoints["oscp"], timeout=30)
            # the controller registers with the initial token; the provider answers
            [register] = wait_for(lambda: provider.of("register"), 30, "the controller's register")
            ours = register["token"]
            answer = fp.post(
                "/register",
                json={
                    "token": "cp-token",
                    "version_url": [{"version": "2.0", "base_url": cp_url + "/oscp/cp/2.0"}],
                },
                headers={"Authorization": f"Token {ours}", "X-Request-ID": "cp-register"},
            )
            assert answer.status_code == 204, answer.text
            sim = subprocess.Popen(
                [
                    *(sys.executable, str(ROOT / "benchmarks" / "envelope_response.py")),
                    "--simulate",
                    *map(str, (site, state, scenario, dump, tmp / "silent.txt")),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            print(f"{count} chargers ({count // 4} OCPP 2.0.1), controller pid {serve.pid}")
            wait_for(
                lambda: len(client.get("/sessions").json()["sessions"]) == count,
                180,
                f"{count} sessions",
            )
            time.sleep(8.0)  # every session under its dynamic limit
            reference, n_ref, missing_ref = change(
                client, sim, dump, "bench-cut", count * 9.0, set()
            )
            print(
                f"  (1) reference, a cut posted to the API: {n_ref} new limits, the last "
                f"accepted {reference:.2f} s after the POST"
                + (f"; {len(missing_ref)} never were" if missing_ref else "")
            )
            before = limits(client)
            now = datetime.fromisoformat(client.get("/clock").json()["time"])
            block = {
                "capacity": count * 7.0,
                "phase": "ALL",
                "unit": "A",
                "start_time": (now - timedelta(seconds=1)).isoformat(),
                "end_time": (now + timedelta(hours=2)).isoformat(),
            }
            forecast = {"group_id": GROUP, "type": "CONSUMPTION", "forecasted_blocks": [block]}
            headers = {"Authorization": f"Token {ours}", "X-Request-ID": "bench-forecast"}
            posted_at = time.time()
            answer = fp.post("/update_group_capacity_forecast", json=forecast, headers=headers)
            assert answer.status_code == 204, answer.text
            worst, n_worst, missing = acceptances(client, sim, dump, before, posted_at, set())
            met = not missing and worst <= TARGET_S
            print(
                f"  (2) a deeper cut as an OSCP forecast: {n_worst} new limits, the last "
                f"accepted {worst:.2f} s after the POST"
                + (f"; {len(missing)} never were" if missing else "")
                + f" — target ≤ {TARGET_S:g} s: {'met' if met else 'NOT met'}; "
                f"ratio to the API's cut {worst / reference:.2f}"
            )
            now = datetime.fromisoformat(client.get("/clock").json()["time"])
            deadline = now + timedelta(seconds=SILENT_AFTER_S)
            headers["X-Request-ID"] = "bench-last-heartbeat"
            answer = fp.post(
                "/heartbeat", json={"offline_mode_at": deadline.isoformat()}, headers=headers
            )
            assert answer.status_code == 204, answer.text

            def offline() -> list[dict[str, Any]]:
                entries = client.get("/journal", params={"kind": "source.offline"}).json()
                return [e for e in entries["entries"] if datetime.fromisoformat(e["at"]) >= now]

            [entry] = wait_for(offline, SILENT_AFTER_S + 60, "the source offline")[:1]
            late = (datetime.fromisoformat(entry["at"]) - deadline).total_seconds()
            print(
                f"  (3) silent past its deadline: offline and its fallback in force {late:.2f} s "
                f"after the deadline — target ≤ one tick ({TICK_S:g} s): "
                f"{'met' if 0 <= late <= TICK_S else 'NOT met'}"
            )
        finally:
            stop(sim)
            stop(serve)
            log.close()
            cp_server.should_exit = True


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chargers", type=int, default=300)
    args = parser.parse_args()
    run(args.chargers)


if __name__ == "__main__":
    main()
