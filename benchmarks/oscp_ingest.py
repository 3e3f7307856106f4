"""A 96-block OSCP capacity forecast taken in: issue 14's target, ingest ≤ 20 ms.

    .venv/bin/python benchmarks/oscp_ingest.py [--runs 40] [--blocks 96]

The controller's OSCP endpoints on uvicorn (loopback) in front of a controller with a
real SQLite store (the bus depot, one OSCP source on its grid connection), registered
as a provider would. Each run POSTs a forecast of ``--blocks`` 15-minute blocks
starting an hour ahead, each replacing the one before (so every run also withdraws
the previous forecast's blocks): from the request's sending to its ``204``, which
holds parsing, validation, the envelopes stored with their journal entries in one
transaction, and the withdrawals. In the same run, as the reference, a heartbeat's
round trip on the same connection (the HTTP and authentication cost every message
pays); the difference is what the forecast itself costs. Also: the pure conversion
(``forecast_intake``) alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from depotctl.api.state_dir import StateDir  # noqa: E402
from depotctl.controller.clock import SimClock  # noqa: E402
from depotctl.controller.oscp.serving import OscpServing  # noqa: E402
from depotctl.controller.service import Controller  # noqa: E402
from depotctl.controller.store import Store  # noqa: E402
from depotctl.protocols.oscp.endpoints import oscp_app  # noqa: E402
from depotctl.protocols.oscp.forecasts import forecast_intake  # noqa: E402
from depotctl.protocols.oscp.messages import UpdateGroupCapacityForecast  # noqa: E402
from tests.controller.oscp.rig import (  # noqa: E402
    GROUP,
    INITIAL_TOKEN,
    SOURCE,
    TOKEN_ENV,
    site_text,
)
from tests.controller.test_app import serving  # noqa: E402

TARGET_MS = 20.0
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def forecast(blocks: int, first: datetime) -> dict[str, object]:
    return {
        "group_id": GROUP,
        "type": "CONSUMPTION",
        "forecasted_blocks": [
            {
                "capacity": 800 - (i % 8) * 25,
                "phase": "ALL",
                "unit": "KW",
                "start_time": (first + timedelta(minutes=15 * i)).isoformat(),
                "end_time": (first + timedelta(minutes=15 * (i + 1))).isoformat(),
            }
            for i in range(blocks)
        ],
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--blocks", type=int, default=96)
    args = parser.parse_args()
    os.environ[TOKEN_ENV] = INITIAL_TOKEN
    with tempfile.TemporaryDirectory() as tmp:
        state_dir = StateDir(Path(tmp))
        clock = SimClock(START, monotonic=lambda: 0.0)
        controller = Controller(Store.open(state_dir.store), clock, base_dir=ROOT / "sites")
        controller.seed(
            ROOT / "sites" / "au-bus-depot.yaml",
            site_text("http://127.0.0.1:9/unused"),
            author="benchmark",
        )
        events = OscpServing(controller, state_dir, ("127.0.0.1", 0)).events
        with serving(oscp_app(events)) as url, httpx.Client(base_url=url) as http:
            events.base_url = f"{url}/oscp/fp/2.0"
            register = {
                "token": "provider-token",
                "version_url": [{"version": "2.0", "base_url": "http://127.0.0.1:9/oscp/cp/2.0"}],
            }
            answer = http.post(
                "/oscp/fp/2.0/register",
                json=register,
                headers={"Authorization": f"Token {INITIAL_TOKEN}", "X-Request-ID": "reg"},
            )
            assert answer.status_code == 204, answer.text
            token = events.tokens.ours(SOURCE)
            assert token is not None
            ingest, heartbeat = [], []
            for run in range(args.runs):
                clock.advance(60)
                body = forecast(args.blocks, clock.now() + timedelta(hours=1))
                headers = {"Authorization": f"Token {token}", "X-Request-ID": f"fc-{run}"}
                began = time.perf_counter()
                answer = http.post(
                    "/oscp/fp/2.0/update_group_capacity_forecast", json=body, headers=headers
                )
                ingest.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 204, answer.text
                beat = {"offline_mode_at": (clock.now() + timedelta(minutes=5)).isoformat()}
                headers["X-Request-ID"] = f"hb-{run}"
                began = time.perf_counter()
                answer = http.post("/oscp/fp/2.0/heartbeat", json=beat, headers=headers)
                heartbeat.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 204, answer.text
        stored = len(controller.units().envelopes.all())
        controller.close()
    message = UpdateGroupCapacityForecast.model_validate(forecast(args.blocks, START))
    pure = []
    for _ in range(args.runs):
        began = time.perf_counter()
        forecast_intake(
            message, source=SOURCE, targets=("gc-main",), request_id="r", received_at=START
        )
        pure.append((time.perf_counter() - began) * 1000)
    print(f"{args.runs} forecasts of {args.blocks} blocks ({stored} envelopes stored in all)")
    for name, values in (
        ("forecast, POST to 204", ingest),
        ("heartbeat, POST to 204 (reference)", heartbeat),
        ("forecast_intake alone", pure),
    ):
        print(
            f"  {name:36} p50 {statistics.median(values):6.2f} ms  "
            f"p95 {percentile(values, 0.95):6.2f} ms  max {max(values):6.2f} ms"
        )
    extra = statistics.median(ingest) - statistics.median(heartbeat)
    print(f"  the forecast's own cost (p50 difference): {extra:.2f} ms")
    p95 = percentile(ingest, 0.95)
    verdict = "met" if p95 <= TARGET_MS else "NOT met"
    print(f"target: ingest ≤ {TARGET_MS:g} ms (p95 of POST to 204): {verdict} ({p95:.2f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
