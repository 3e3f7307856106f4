"""The provider's summary: what it did and received, and the measured periods over its
forecast, in the site's time (text) and UTC (JSON)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import depotctl.protocols.oscp.messages as oscp
from depotctl.domain.charge_points import PasswordRef
from depotctl.protocols.oscp.peer import CapacityProviderClient, Delivery
from depotctl.sim.chargers.simtime import SimTime
from depotctl.sim.derms.link import LinkSettings, ProviderLink, Sent
from depotctl.sim.derms.profile import PlannedForecast
from depotctl.sim.derms.provider import CapacityProvider
from depotctl.sim.derms.report import to_json, to_text
from depotctl.sim.derms.run import Setup, SiteSource

#: 17:00 in Sydney (UTC+11 in December)
START = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
SYDNEY = ZoneInfo("Australia/Sydney")


def _block(minutes: int, kw: float) -> oscp.ForecastedBlock:
    return oscp.ForecastedBlock(
        capacity=kw,
        phase="ALL",
        unit="KW",
        start_time=START + timedelta(minutes=minutes),
        end_time=START + timedelta(minutes=minutes + 15),
    )


def _setup() -> Setup:
    time = SimTime(START, 0.0)
    provider = CapacityProvider("G-1", "http://127.0.0.1:9200/oscp/cp/2.0", "t", time.now)
    site = SiteSource(
        "au-bus-depot", "ausgrid-oscp", provider.base_url, "G-1", PasswordRef(env="T"),
        300.0, 60.0, SYDNEY, 230.0, 3,
    )  # fmt: skip
    link = ProviderLink(
        provider, CapacityProviderClient(), time, [], LinkSettings(None, 300.0), START
    )
    forecast = oscp.UpdateGroupCapacityForecast(
        group_id="G-1", type="CONSUMPTION", forecasted_blocks=[_block(0, 600), _block(15, 600)]
    )
    link.forecasts.append(forecast)
    late = forecast.model_copy(update={"type": oscp.CapacityForecastType.GENERATION})
    link.refusals.append((PlannedForecast(START, late), "400 Bad Request: entirely in the past"))
    time.advance(30 * 60)
    link.silences.append((START + timedelta(minutes=20), START + timedelta(minutes=25)))
    provider.registered_at = START + timedelta(minutes=1)
    provider.heartbeat_interval_s = 60.0
    quarter = timedelta(minutes=15)
    for n, (began, kwh) in enumerate([(START, 140.0), (START + quarter, 160.0)]):
        measured = oscp.EnergyMeasurement(
            value=kwh, phase="ALL", unit="KWH", direction="IMPORT",
            measure_time=began + quarter, initial_measure_time=began,
        )  # fmt: skip
        report = oscp.UpdateGroupMeasurements(group_id="G-1", measurements=[measured])
        provider.accept(f"m-{n}", None, report)
    error = oscp.GroupCapacityComplianceError(
        message="chargers CP-07 and CP-08 do not take profiles"
    )
    provider.accept("c-1", "fc-1", error)
    link.sent.append(Sent(START, "heartbeat", "h-1", {}, Delivery(204)))
    return Setup(site, provider.base_url, socket.socket(), time, link, None)


def test_the_text_summary_in_site_time() -> None:
    setup = _setup()
    text = to_text(setup)
    setup.sock.close()
    assert text.splitlines() == [
        "sim derms: source ausgrid-oscp of au-bus-depot (group G-1) at "
        "http://127.0.0.1:9200/oscp/cp/2.0",
        "  from 2026-12-07 17:00:00+11:00 to 17:30:00 (real time)",
        "  registered at 17:01:00; heartbeats every 60 s asked",
        "  sent: 1 forecasts (2 blocks), 1 heartbeats",
        "  refused: the GENERATION forecast sent at 17:00:00: "
        "400 Bad Request: entirely in the past",
        "  silent from 17:20:00, back at 17:25:00 (0 requests refused)",
        "  received: 2 measurement reports, 1 compliance errors, 0 adjustment requests, "
        "0 heartbeats",
        "  compliance error: chargers CP-07 and CP-08 do not take profiles",
        "  measurements against the forecast: 2 periods checked, 1 exceeded",
        "    17:15:00–17:30:00: drew 160.0 kWh, the forecast allows 150.0 kWh",
    ]


def test_the_json_summary_in_utc() -> None:
    setup = _setup()
    summary = to_json(setup)
    setup.sock.close()
    assert summary["start"] == "2026-12-07T06:00:00+00:00"
    assert summary["compliance_errors"] == ["chargers CP-07 and CP-08 do not take profiles"]
    assert [(p["start"], p["exceeded"]) for p in summary["periods"]] == [
        ("2026-12-07T06:00:00+00:00", False),
        ("2026-12-07T06:15:00+00:00", True),
    ]
    assert summary["periods"][1]["allowed_wh"] == 150_000
    assert summary["forecasts_refused"][0]["reason"].endswith("entirely in the past")
