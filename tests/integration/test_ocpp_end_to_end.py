"""The whole chain, for OCPP 1.6J and 2.0.1 at once: a real ``depotctl serve``
process, simulated chargers over real websockets on loopback, the HTTP API.

Boot → fallback profile; a vehicle plugs in → a session → a dynamic profile, drawn
to the limit; meter values reach the controller; an envelope cut through the API
lowers the profiles and the draws; the vehicle leaves → the session ends with its
energy. And a controller stopped (SIGTERM, then kill -9) and started again on the
same state: the chargers come back, get their fallback again, and control resumes.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from depotctl.sim.chargers.vehicles import Vehicle
from tests.integration.rig import (
    FleetThread,
    Serve,
    accepted,
    fleet,
    is_dynamic,
    is_fallback,
    limit_a,
    serving,
    wait_for,
)

#: 10 controller seconds per wall second; a cycle every controller second
FLAGS = ("--clock", "sim", "--speed", "10", "--tick", "1s")
CHARGERS = {"CP-16": "chg-16", "CP-201": "chg-201"}
EVSES = {"CP-16": "chg-16/1", "CP-201": "chg-201/1"}
#: the fallback in the site, amps per line
FALLBACK_A = 10.0


def _fallbacks_journaled(controller: Serve, after_id: int = 0) -> set[str]:
    """The chargers whose fallback profile the controller journaled as accepted."""
    return {
        entry["data"]["charger"]
        for entry in controller.journal(kind="command.outcome", after_id=after_id)
        if entry["message"].endswith("fallback profile: accepted")
    }


def _last_dynamic(chargers: FleetThread, ocpp_id: str) -> float | None:
    """The limit of the last dynamic profile the charger accepted."""
    held = [r for r in chargers.received(ocpp_id) if is_dynamic(r) and accepted(r)]
    return limit_a(held[-1]) if held else None


def _plug_in(chargers: FleetThread, ocpp_id: str, vehicle_id: str) -> None:
    charger = chargers.charger(ocpp_id)

    def plug() -> None:
        now = charger.time.now()
        charger.plug_in(1, Vehicle(vehicle_id, now, now + timedelta(hours=8), energy_wh=60_000))

    chargers.call(plug)


def _sessions_with_the_vehicles_need(controller: Serve) -> dict[str, Any] | None:
    """The open sessions by EVSE once both are open and the 2.0.1 one carries the need
    its vehicle stated; else None."""
    sessions = {s["evse"]: s for s in controller.get("/sessions")["sessions"]}
    stated = sessions.get(EVSES["CP-201"], {}).get("requirement")
    return sessions if len(sessions) == 2 and stated is not None else None


def _draws_its_limit(controller: Serve, chargers: FleetThread, ocpp_id: str) -> float | None:
    """The limit when the controller, the profile the charger holds and its draw all
    agree (a vehicle that wants more draws its whole limit); else None."""
    state_limit = controller.evse(EVSES[ocpp_id])["limit_a"]
    held = _last_dynamic(chargers, ocpp_id)
    if held is None or abs(held - state_limit) > 0.05:
        return None
    draw = chargers.draw_a(ocpp_id)
    return held if abs(draw - held) < 0.05 else None


def test_boot_session_profile_draw_meter_values_envelope_cut_and_stop(tmp_path: Path) -> None:
    with (
        serving(tmp_path, flags=FLAGS) as controller,
        fleet(controller.site, controller.state_dir, meter_interval_s=5) as chargers,
    ):
        # boot: the fallback TxDefaultProfile arrives, is accepted, and is journaled
        wait_for(
            lambda: _fallbacks_journaled(controller) == set(CHARGERS.values()),
            within_s=15,
            what="both fallback profiles journaled as accepted",
        )
        for ocpp_id in CHARGERS:
            [fallback] = [r for r in chargers.received(ocpp_id) if is_fallback(r)]
            assert accepted(fallback) and limit_a(fallback) == pytest.approx(FALLBACK_A, abs=0.1)
            assert chargers.draw_a(ocpp_id) == 0.0  # no vehicle yet

        # a vehicle plugs into each: a session in the controller, then a dynamic
        # profile the charger draws to (the vehicles want more than the rating)
        for ocpp_id in CHARGERS:
            _plug_in(chargers, ocpp_id, f"bus-{ocpp_id}")
        # the 2.0.1 charger sends NotifyEVChargingNeeds after its TransactionEvent: the
        # session opens first, its requirement follows
        sessions = wait_for(
            lambda: _sessions_with_the_vehicles_need(controller),
            within_s=15,
            what="both sessions open in the controller, the 2.0.1 one with its need",
        )
        assert set(sessions) == set(EVSES.values())
        # the 2.0.1 vehicle stated its need (NotifyEVChargingNeeds); the 1.6 one cannot,
        # so the fleet's schedule gives it the same (else it would be urgent under the
        # site's default requirement, and served first)
        assert sessions["chg-201/1"]["requirement"]["source"] == "vehicle"
        assert sessions["chg-16/1"]["requirement"] is None
        departure = controller.now() + timedelta(hours=8)
        controller.put(
            f"/sessions/{sessions['chg-16/1']['id']}/requirement",
            {"energy": "60 kWh", "departure": departure.isoformat()},
        )
        for ocpp_id in CHARGERS:
            limit = wait_for(
                lambda ocpp_id=ocpp_id: _draws_its_limit(controller, chargers, ocpp_id),
                within_s=15,
                what=f"{ocpp_id} drawing the limit of its dynamic profile",
            )
            # the board has room: the EVSE's own maximum binds (22 kW at 3 × 230 V;
            # the 2.0.1 vehicle states its maximum in whole amps, 31 A)
            binding = controller.evse(EVSES[ocpp_id])["binding"]["kind"]
            assert binding == ("charger_limit" if ocpp_id == "CP-16" else "vehicle_limit")
            assert limit == pytest.approx(31.8 if ocpp_id == "CP-16" else 31.0)
        [tx16] = {
            r.payload["csChargingProfiles"]["chargingProfilePurpose"]
            for r in chargers.received("CP-16")
            if is_dynamic(r)
        }
        assert tx16 == "TxProfile"  # with the transaction id: a real TxProfile
        [tx201] = {
            r.payload["chargingProfile"]["chargingProfilePurpose"]
            for r in chargers.received("CP-201")
            if is_dynamic(r)
        }
        assert tx201 == "TxProfile"

        # meter values: the charger's telemetry history and the measured draw (a minute
        # may still hold a draw from before the last profile landed: wait for one that
        # reports the draw of now — the check is what, not how soon)
        for ocpp_id, charger_id in CHARGERS.items():
            drawn = chargers.draw_a(ocpp_id)

            def reported(charger_id: str = charger_id, drawn: float = drawn) -> bool:
                minutes = controller.get(f"/telemetry/{charger_id}")["minutes"]
                return any(
                    m["power_w_max"] == pytest.approx(drawn * 690, rel=0.01)
                    and m["current_a_max"]["L1"] == pytest.approx(drawn, abs=0.1)
                    for m in minutes
                    if m["power_w_max"]
                )

            wait_for(reported, within_s=30, what=f"meter values of {charger_id} at its draw")

            # the latest reading, as the allocator sees it (the snapshot's telemetry)
            def seen(charger_id: str = charger_id, drawn: float = drawn) -> bool:
                measured = {t["node"]: t for t in controller.get("/snapshot")["telemetry"]}
                reading = measured.get(charger_id)
                return reading is not None and float(
                    reading["current"]["L1"].removesuffix(" A")
                ) == pytest.approx(drawn, abs=0.1)

            wait_for(seen, within_s=30, what=f"{charger_id}'s latest reading at its draw")

        # an envelope cut on the board, through the API: every profile comes down,
        # and the draws with them, within the board's effective limit
        controller.submit_envelope("cut-db-1", "db-1", "30 A")
        for ocpp_id in CHARGERS:
            wait_for(
                lambda ocpp_id=ocpp_id: (
                    (limit := _draws_its_limit(controller, chargers, ocpp_id)) is not None
                    and limit < 16
                ),
                within_s=15,
                what=f"{ocpp_id} drawing its lowered limit",
            )
        board = controller.node("db-1")
        assert board["source"]["ref"] == "cut-db-1"
        assert board["effective_limit"] == pytest.approx(28.5)  # less the 5 % margin
        draws = [chargers.draw_a(ocpp_id) for ocpp_id in CHARGERS]
        assert draws[0] == pytest.approx(draws[1], abs=0.1)  # shared fairly
        assert sum(draws) <= board["effective_limit"] + 1e-6

        # the vehicles leave: the sessions end with the energy they got
        delivered = {}
        for ocpp_id in CHARGERS:
            charger = chargers.charger(ocpp_id)
            delivered[EVSES[ocpp_id]] = chargers.call(
                lambda charger=charger: charger.unplug(1).plug.delivered_wh  # type: ignore[union-attr]
            )
        ended = wait_for(
            lambda: found if len(found := controller.journal(kind="session.ended")) == 2 else None,
            within_s=15,
            what="both sessions ended in the journal",
        )
        for entry in ended:
            assert entry["data"]["via"] == "ocpp"
            assert entry["data"]["energy_delivered_wh"] == pytest.approx(
                delivered[entry["evse"]], abs=1.0
            )
            assert entry["data"]["energy_delivered_wh"] > 0
        assert controller.get("/sessions")["sessions"] == []


def test_a_restarted_controller_sends_the_fallback_again_and_control_resumes(
    tmp_path: Path,
) -> None:
    """Stopped with SIGTERM, then killed with SIGKILL, on one store and one fleet: after
    each restart the chargers reconnect, boot and get their fallback again, and control
    resumes."""
    with (
        serving(tmp_path, flags=FLAGS) as controller,
        fleet(controller.site, controller.state_dir, meter_interval_s=5) as chargers,
    ):
        wait_for(
            lambda: _fallbacks_journaled(controller) == set(CHARGERS.values()),
            within_s=15,
            what="both fallback profiles journaled as accepted",
        )
        for ocpp_id in CHARGERS:
            _plug_in(chargers, ocpp_id, f"bus-{ocpp_id}")
        for ocpp_id in CHARGERS:
            wait_for(
                lambda ocpp_id=ocpp_id: _draws_its_limit(controller, chargers, ocpp_id),
                within_s=15,
                what=f"{ocpp_id} drawing its dynamic limit",
            )
        for kill in (False, True):
            _restarted(controller, chargers, kill=kill)


def _restarted(controller: Serve, chargers: FleetThread, *, kill: bool) -> None:
    """``controller`` stopped (``kill``: SIGKILL, else SIGTERM) and started again: its
    chargers' fallback again, accepted, and control resumed on the sessions it kept."""
    how = "SIGKILL" if kill else "SIGTERM"
    before = {ocpp_id: len(chargers.received(ocpp_id)) for ocpp_id in CHARGERS}
    last_id = controller.journal()[-1]["id"]

    exit_code = controller.stop(kill=kill)
    assert exit_code == (-9 if kill else 0)
    wait_for(
        lambda: not any(chargers.online(ocpp_id) for ocpp_id in CHARGERS),
        within_s=10,
        what=f"the chargers see the controller gone ({how})",
    )
    controller.start()

    # they reconnect, boot, and get their fallback profile again
    wait_for(
        lambda: _fallbacks_journaled(controller, after_id=last_id) == set(CHARGERS.values()),
        within_s=20,
        what=f"both fallback profiles accepted again after the restart ({how})",
    )
    for ocpp_id in CHARGERS:
        since = chargers.received(ocpp_id)[before[ocpp_id] :]
        assert any(is_fallback(r) and accepted(r) for r in since), (ocpp_id, how)
        # control resumes: a new dynamic profile, drawn to
        wait_for(
            lambda ocpp_id=ocpp_id: (
                any(
                    is_dynamic(r) and accepted(r)
                    for r in chargers.received(ocpp_id)[before[ocpp_id] :]
                )
                and _draws_its_limit(controller, chargers, ocpp_id)
            ),
            within_s=15,
            what=f"{ocpp_id} under control again ({how})",
        )
    # the sessions survived the restart (the store is the truth)
    assert {s["evse"] for s in controller.get("/sessions")["sessions"]} == set(EVSES.values())
    online = {
        e["data"]["charger"] for e in controller.journal(kind="charger.online", after_id=last_id)
    }
    assert online == set(CHARGERS.values()), how
