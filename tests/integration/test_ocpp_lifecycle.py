"""Chargers that misbehave the way real ones do, against a real ``depotctl serve``:
one that reboots mid-session (new connection, new boot, its transaction gone), one
that lost a transaction the controller still lists (``TxNotFound`` / ``Rejected``),
and chargers that never answer a call before their boot. Each is the simulator's
own behaviour (``depotctl sim chargers``), over real OCPP on loopback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from depotctl.sim.chargers.vehicles import Vehicle
from tests.integration.rig import (
    FleetThread,
    Serve,
    accepted,
    fleet,
    is_dynamic,
    is_fallback,
    serving,
    site_text,
    wait_for,
)

FLAGS = ("--clock", "sim", "--speed", "10", "--tick", "1s")
SITE = site_text({"db-1": ("60 A", [("CP-A", "ocpp1.6"), ("CP-B", "ocpp2.0.1")])})
EVSES = {"CP-A": "chg-a/1", "CP-B": "chg-b/1"}


def plug(chargers: FleetThread, ocpp_id: str) -> None:
    def plug_in() -> None:
        charger = chargers.charger(ocpp_id)
        now = charger.time.now()
        vehicle = Vehicle(f"bus-{ocpp_id}", now, now + timedelta(hours=10), energy_wh=80_000)
        charger.plug_in(1, vehicle)

    chargers.call(plug_in)


def open_session(controller: Serve, evse: str) -> dict[str, object] | None:
    return next((s for s in controller.get("/sessions")["sessions"] if s["evse"] == evse), None)


def controllable(controller: Serve, evse: str) -> bool:
    return controller.evse(evse)["state"] in ("charging", "paused", "idle")


@pytest.mark.parametrize("ocpp_id", ["CP-A", "CP-B"])
def test_a_charger_that_reboots_mid_session_is_back_under_control_after_its_boot(
    tmp_path: Path, ocpp_id: str
) -> None:
    """It drops off without a word and forgets its transaction; the controller counts it
    uncontrollable while it is away, sends it nothing, then — after its boot, never
    before — its fallback; the transaction it lost is closed (its connector shows no
    transaction), its vehicle's new one is a new session, and it is controllable again:
    a charger uncontrollable for no longer than its reboot."""
    evse = EVSES[ocpp_id]
    with (
        serving(tmp_path, SITE, flags=FLAGS) as controller,
        fleet(controller.site, controller.state_dir, meter_interval_s=5) as chargers,
    ):
        plug(chargers, ocpp_id)
        first = wait_for(lambda: open_session(controller, evse), within_s=20, what="a session")
        wait_for(
            lambda: any(is_dynamic(r) and accepted(r) for r in chargers.received(ocpp_id)),
            within_s=20,
            what="its dynamic limit accepted",
        )
        charger = chargers.charger(ocpp_id)
        chargers.call(lambda: charger.reboot(boot_s=30.0))
        wait_for(
            lambda: controller.evse(evse)["state"] == "uncontrollable",
            within_s=20,
            what="the rebooting charger uncontrollable",
        )
        wait_for(
            lambda: (s := open_session(controller, evse)) is not None and s["id"] != first["id"],
            within_s=30,
            what="the vehicle's new transaction as a new session",
        )
        wait_for(lambda: controllable(controller, evse), within_s=30, what="control resumed")
        assert chargers.call(lambda: charger.stats.reboots) == 1
        assert chargers.call(lambda: charger.stats.requests_before_boot) == 0
        # after the reboot: its fallback first, then its limits again, accepted
        since_boot = chargers.received(ocpp_id)
        fallbacks = [i for i, r in enumerate(since_boot) if is_fallback(r)]
        assert len(fallbacks) == 2 and accepted(since_boot[fallbacks[-1]])
        wait_for(
            lambda: any(
                is_dynamic(r) and accepted(r) for r in chargers.received(ocpp_id)[fallbacks[-1] :]
            ),
            within_s=20,
            what="a dynamic limit after the reboot",
        )
        ended = [
            e
            for e in controller.journal(kind="session.ended", session=first["id"])
            if e["session"] == first["id"]
        ]
        assert len(ended) == 1
        # never once rejected: nothing was refused against the lost transaction
        outcomes = controller.journal(kind="command.outcome", evse=evse)
        rejected = [e["message"] for e in outcomes if "rejected" in e["message"]]
        assert not rejected, rejected
        # offline, nothing was sent to it nor journaled again and again
        offline = [e for e in outcomes if "offline" in e["message"]]
        assert len(offline) <= 2, offline


@pytest.mark.parametrize("ocpp_id", ["CP-A", "CP-B"])
def test_a_transaction_the_charger_lost_is_closed_and_the_charger_stays_controllable(
    tmp_path: Path, ocpp_id: str
) -> None:
    """The charger forgets a transaction without a word (the vehicle left, its
    StopTransaction never came): the next TxProfile for it is refused — 2.0.1 says
    TxNotFound, 1.6 only Rejected, and is asked for its connector's status — and the
    controller closes the transaction and holds the EVSE as an idle one, the charger
    still controllable."""
    evse = EVSES[ocpp_id]
    with (
        serving(tmp_path, SITE, flags=FLAGS) as controller,
        fleet(controller.site, controller.state_dir, meter_interval_s=5) as chargers,
    ):
        plug(chargers, ocpp_id)
        session = wait_for(lambda: open_session(controller, evse), within_s=20, what="a session")
        wait_for(
            lambda: any(is_dynamic(r) and accepted(r) for r in chargers.received(ocpp_id)),
            within_s=20,
            what="its dynamic limit accepted",
        )
        charger = chargers.charger(ocpp_id)

        def forget() -> None:  # the vehicle leaves; no StopTransaction, no status
            charger.station.unplug(1, charger.time.now())
            charger.sessions.pop(1, None)

        chargers.call(forget)
        # a change makes the controller send the lost transaction a new limit
        controller.submit_envelope("cut", "gc-main", "20 kW")
        wait_for(
            lambda: open_session(controller, evse) is None,
            within_s=30,
            what="the lost transaction closed",
        )
        [ended] = controller.journal(kind="session.ended", session=session["id"])
        assert "transaction" in ended["message"]
        wait_for(
            lambda: controller.evse(evse)["state"] == "idle",
            within_s=20,
            what="the EVSE held as an idle one",
        )
        assert controllable(controller, evse)
        outcomes = controller.journal(kind="command.outcome", evse=evse)
        assert not any(e["data"].get("outcome") == "rejected" for e in outcomes), outcomes


def test_after_a_controller_restart_no_charger_is_sent_a_call_before_its_boot(
    tmp_path: Path,
) -> None:
    """The controller's endpoint has seen these chargers before; they reconnect and
    boot: nothing reaches them before their BootNotification is answered (a charger
    that has not booted never answers, and a call made then is lost)."""
    with (
        serving(tmp_path, SITE, flags=FLAGS) as controller,
        fleet(controller.site, controller.state_dir, meter_interval_s=5) as chargers,
    ):
        for ocpp_id in EVSES:
            plug(chargers, ocpp_id)
        wait_for(
            lambda: len(controller.get("/sessions")["sessions"]) == 2,
            within_s=20,
            what="two sessions",
        )
        controller.stop(kill=True)
        wait_for(
            lambda: not any(chargers.online(o) for o in EVSES),
            within_s=20,
            what="the chargers see the controller gone",
        )
        controller.start()
        wait_for(
            lambda: all(controllable(controller, e) for e in EVSES.values()),
            within_s=30,
            what="both chargers under control again",
        )
        for ocpp_id in EVSES:
            charger = chargers.charger(ocpp_id)
            assert chargers.call(lambda c=charger: c.stats.requests_before_boot) == 0, ocpp_id
            assert chargers.call(lambda c=charger: c.stats.boots) >= 2, ocpp_id
        # the sessions went on across the restart (the chargers named them again)
        assert {s["evse"] for s in controller.get("/sessions")["sessions"]} == set(EVSES.values())
