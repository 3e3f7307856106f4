"""A validated site → each charger's OCPP side (:class:`ChargePoint`), by OCPP id."""

from __future__ import annotations

from pathlib import Path

from depotctl.config.schema import Charger, Site
from depotctl.domain.charge_points import (
    ChargePoint,
    ChargePointEvse,
    OcppVersion,
    PasswordRef,
    RateUnit,
)
from depotctl.domain.topology import Topology


def charge_points(site: Site, topology: Topology, base_dir: Path) -> dict[str, ChargePoint]:
    """Every charger of ``site`` (compiled as ``topology``), keyed by its OCPP
    identity. ``base_dir`` is where a relative ``password_file`` resolves."""
    return {
        node.ocpp.id: _charge_point(node, topology, base_dir)
        for node in site.spec.nodes
        if isinstance(node, Charger)
    }


def _charge_point(charger: Charger, topology: Topology, base_dir: Path) -> ChargePoint:
    specs = topology.chargers_evses(charger.id)
    first = specs[0]
    ocpp = charger.ocpp
    password = None
    if ocpp.password_env is not None or ocpp.password_file is not None:
        password = PasswordRef(
            env=ocpp.password_env,
            file=(base_dir / ocpp.password_file).resolve() if ocpp.password_file else None,
        )
    connection = first.connection
    number_phases = 3 if connection is not None and connection.is_three_phase else 1
    return ChargePoint(
        ocpp_id=ocpp.id,
        charger_id=charger.id,
        version=OcppVersion(ocpp.protocol),
        password=password,
        evses=tuple(
            ChargePointEvse(
                evse_id=f"{charger.id}/{evse.id}",
                number=evse.id,
                connector_ids=tuple(c.id for c in evse.connectors) or (1,),
            )
            for evse in charger.evses
        ),
        number_phases=number_phases,
        watts_per_amp=first.watts_per_amp,
        rating_a=max(spec.max_current_a for spec in specs),
        fallback_a=first.fallback_a,
        rate_unit=RateUnit(charger.quirks.rate_unit) if charger.quirks.rate_unit else None,
        tx_profile_unsupported=charger.quirks.tx_profile_unsupported,
        lenient_meter_values=charger.quirks.meter_values_out_of_schema,
        dc=charger.supply == "dc",
        connection=connection,
    )
