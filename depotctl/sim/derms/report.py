"""What the simulated Capacity Provider did, in the site's time: its registration,
what it sent and received, and which measured periods exceeded its forecast."""

from __future__ import annotations

from typing import Any

from depotctl.domain.instants import format_day_clock, format_instant
from depotctl.protocols.oscp.messages import (
    AdjustGroupCapacityForecast,
    GroupCapacityComplianceError,
    Heartbeat,
    UpdateGroupMeasurements,
)
from depotctl.sim.derms.ledger import Period, checked_periods
from depotctl.sim.derms.run import Setup


def periods(setup: Setup) -> list[Period]:
    """The measured periods against the forecasts the controller acknowledged."""
    received = setup.link.provider.of(UpdateGroupMeasurements)
    return checked_periods(
        setup.link.forecasts,
        [m for message in received for m in message.measurements],
        voltage_v=setup.site.voltage_v,
        phases=setup.site.phases,
    )


def to_text(setup: Setup) -> str:
    """The summary (see the module docstring)."""
    link, provider, zone = setup.link, setup.link.provider, setup.site.zone
    first = link.started_at

    def at(instant: Any) -> str:
        return format_day_clock(instant, zone, first)

    speed = f"the controller's clock, ×{setup.time.speed:g}"
    if setup.follower is None:
        speed = "real time"
    lines = [
        f"sim derms: source {setup.site.source} of {setup.site.site_name} "
        f"(group {setup.site.group_id}) at {setup.url}",
        f"  from {format_instant(first, zone)} to {at(setup.time.now())} ({speed})",
    ]
    if provider.registered_at is None:
        lines.append("  not registered: the controller neither registered nor answered")
    else:
        asked = provider.heartbeat_interval_s
        beats = f"heartbeats every {asked:g} s asked" if asked else "no heartbeats asked"
        lines.append(f"  registered at {at(provider.registered_at)}; {beats}")
    blocks = sum(len(f.forecasted_blocks) for f in link.forecasts)
    lines.append(
        f"  sent: {len(link.forecasts)} forecasts ({blocks} blocks), {link.heartbeats} heartbeats"
    )
    for planned, reason in link.refusals:
        lines.append(
            f"  refused: the {planned.message.type} forecast sent at {at(planned.send_at)}: {reason}"
        )
    for began, ended in link.silences:
        back = f"back at {at(ended)}" if ended is not None else "to the end"
        lines.append(f"  silent from {at(began)}, {back} ({provider.refused} requests refused)")
    measurements = provider.of(UpdateGroupMeasurements)
    errors = provider.of(GroupCapacityComplianceError)
    lines.append(
        f"  received: {len(measurements)} measurement reports, {len(errors)} compliance errors, "
        f"{len(provider.of(AdjustGroupCapacityForecast))} adjustment requests, "
        f"{len(provider.of(Heartbeat))} heartbeats"
    )
    for error in errors:
        lines.append(f"  compliance error: {error.message}")
    checked = [p for p in periods(setup) if p.allowed_wh is not None]
    exceeded = [p for p in checked if p.exceeded]
    lines.append(
        f"  measurements against the forecast: {len(checked)} periods checked, "
        f"{len(exceeded)} exceeded"
    )
    for period in exceeded:
        assert period.allowed_wh is not None
        lines.append(
            f"    {at(period.start)}–{at(period.end)}: drew {period.energy_wh / 1e3:.1f} kWh, "
            f"the forecast allows {period.allowed_wh / 1e3:.1f} kWh"
        )
    return "\n".join(lines) + "\n"


def to_json(setup: Setup) -> dict[str, Any]:
    """The summary as JSON (times UTC)."""
    link, provider = setup.link, setup.link.provider
    return {
        "site": setup.site.site_name,
        "source": setup.site.source,
        "group_id": setup.site.group_id,
        "url": setup.url,
        "start": link.started_at.isoformat(),
        "end": setup.time.now().isoformat(),
        "registered_at": provider.registered_at.isoformat() if provider.registered_at else None,
        "forecasts_sent": [f.to_wire() for f in link.forecasts],
        "forecasts_refused": [
            {"forecast": planned.message.to_wire(), "reason": reason}
            for planned, reason in link.refusals
        ],
        "heartbeats_sent": link.heartbeats,
        "silences": [
            {"start": a.isoformat(), "end": b.isoformat() if b else None} for a, b in link.silences
        ],
        "measurement_reports": len(provider.of(UpdateGroupMeasurements)),
        "compliance_errors": [e.message for e in provider.of(GroupCapacityComplianceError)],
        "periods": [
            {
                "start": p.start.isoformat(),
                "end": p.end.isoformat(),
                "energy_wh": p.energy_wh,
                "allowed_wh": p.allowed_wh,
                "exceeded": p.exceeded,
            }
            for p in periods(setup)
        ],
    }
