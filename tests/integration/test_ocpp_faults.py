"""Safety under faults, end to end (a real ``depotctl serve`` process, simulated
chargers over real websockets): a charger that rejects its profiles is reserved
for and the others make room; decreases are answered before any related increase
is sent; an envelope cut reaches every charger under its node and no other."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from depotctl.sim.chargers.charger import Received
from depotctl.sim.chargers.vehicles import Vehicle
from tests.integration.rig import (
    FleetThread,
    Serve,
    accepted,
    fleet,
    is_dynamic,
    limit_a,
    node_of,
    serving,
    site_text,
    wait_for,
)

FLAGS = ("--clock", "sim", "--speed", "10", "--tick", "1s")


def _plug_in_all(chargers: FleetThread, ocpp_ids: list[str]) -> None:
    def plug() -> None:
        for ocpp_id in ocpp_ids:
            charger = chargers.charger(ocpp_id)
            now = charger.time.now()
            vehicle = Vehicle(f"bus-{ocpp_id}", now, now + timedelta(hours=10), energy_wh=80_000)
            charger.plug_in(1, vehicle)

    chargers.call(plug)


def _same_requirement_for_all(controller: Serve, count: int) -> dict[str, str]:
    """Every open session needs 20 kWh within 10 h (none urgent, one tier); the
    session id by EVSE."""
    sessions = wait_for(
        lambda: found if len(found := controller.get("/sessions")["sessions"]) == count else None,
        within_s=15,
        what=f"{count} sessions open",
    )
    departure = (controller.now() + timedelta(hours=10)).isoformat()
    for session in sessions:
        controller.put(
            f"/sessions/{session['id']}/requirement", {"energy": "20 kWh", "departure": departure}
        )
    return {s["evse"]: s["id"] for s in sessions}


def _held(chargers: FleetThread, ocpp_id: str) -> float | None:
    """The limit of the last dynamic profile the charger accepted."""
    held = [r for r in chargers.received(ocpp_id) if is_dynamic(r) and accepted(r)]
    return limit_a(held[-1]) if held else None


def _settled(controller: Serve, chargers: FleetThread, ocpp_ids: list[str]) -> bool:
    """Every charger holds the limit the controller's state says, and draws it."""
    evses = {e["id"]: e for e in controller.state()["evses"]}
    for ocpp_id in ocpp_ids:
        held = _held(chargers, ocpp_id)
        want = evses[node_of(ocpp_id) + "/1"]["limit_a"]
        if held is None or abs(held - want) > 0.05:
            return False
        if abs(chargers.draw_a(ocpp_id) - held) > 0.05:
            return False
    return True


def test_a_charger_rejecting_profiles_is_reserved_for_and_the_others_make_room(
    tmp_path: Path,
) -> None:
    ocpp_ids = ["CP-R", "CP-B", "CP-C"]
    site = site_text(
        {"db-1": ("60 A", [("CP-R", "ocpp1.6"), ("CP-B", "ocpp2.0.1"), ("CP-C", "ocpp1.6")])}
    )
    with (
        serving(tmp_path, site, flags=FLAGS) as controller,
        fleet(
            controller.site,
            controller.state_dir,
            misbehave=("CP-R:reject-profiles",),
            meter_interval_s=5,
        ) as chargers,
    ):
        rejected = wait_for(
            lambda: [
                e
                for e in controller.journal(kind="command.outcome")
                if e["message"].startswith("chg-r fallback profile: rejected")
            ],
            within_s=15,
            what="CP-R's fallback rejected and journaled",
        )
        assert "uncontrollable" in rejected[0]["message"]
        _plug_in_all(chargers, ocpp_ids)
        _same_requirement_for_all(controller, 3)
        wait_for(
            lambda: _settled(controller, chargers, ["CP-B", "CP-C"]),
            within_s=20,
            what="the controllable chargers holding and drawing their limits",
        )
        evses = {e["id"]: e for e in controller.state()["evses"]}
        assert evses["chg-r/1"]["state"] == "uncontrollable"
        board = next(n for n in controller.state()["nodes"] if n["id"] == "db-1")
        # it accepted nothing, not even its fallback: it may draw its whole rating
        # (22 kW = 31.9 A per line), which is reserved — at least its fallback
        assert board["reserved"] >= 10.0
        assert board["reserved"] == pytest.approx(22_000 / 690, abs=0.05)
        # the others share what is left, well below the half of the board each
        # would have had (a 60 A board less the 5 % margin: 57 A)
        assert board["effective_limit"] == pytest.approx(57.0)
        for evse in ("chg-b/1", "chg-c/1"):
            assert evses[evse]["limit_a"] < 57.0 / 2 - 10
        # and what they all really draw stays within the board's limit
        draws = {ocpp_id: chargers.draw_a(ocpp_id) for ocpp_id in ocpp_ids}
        assert draws["CP-R"] == pytest.approx(22_000 / 690, abs=0.05)  # unmanaged
        assert sum(draws.values()) <= board["effective_limit"] + 0.01
        assert all(not accepted(r) for r in chargers.received("CP-R"))


def test_a_silent_charger_holds_up_no_increase_and_every_draw_stays_safe(
    tmp_path: Path,
) -> None:
    """One change lowers two chargers and raises a third under the same board; one of
    the lowered ones (CP-SLOW) never answers. The increase does not wait for its
    timeout: once CP-DOWN's decrease is answered, the next cycle plans CP-UP with
    CP-SLOW still at its old limit — safe whether CP-SLOW's decrease lands or not — and
    sends it at once. CP-SLOW then times out and counts, uncontrollable, at its old
    limit. What the three draw never exceeds the board."""
    ocpp_ids = ["CP-UP", "CP-SLOW", "CP-DOWN"]
    site = site_text(
        {"db-1": ("40 A", [("CP-UP", "ocpp1.6"), ("CP-SLOW", "ocpp1.6"), ("CP-DOWN", "ocpp1.6")])}
    )
    with (
        serving(tmp_path, site, flags=FLAGS) as controller,
        fleet(controller.site, controller.state_dir, meter_interval_s=5) as chargers,
    ):
        _plug_in_all(chargers, ocpp_ids)
        session_of = _same_requirement_for_all(controller, 3)
        wait_for(
            lambda: _settled(controller, chargers, ocpp_ids),
            within_s=20,
            what="three chargers sharing the board",
        )
        before = {ocpp_id: _held(chargers, ocpp_id) for ocpp_id in ocpp_ids}
        # each an equal share of the board's 38 A, 12.6 A — or a little less where an
        # earlier allocation left it lower (an increase under the 1 A hysteresis waits)
        for share in before.values():
            assert share is not None and 12.6 - 1.0 < share <= 12.6, before
        seen = {ocpp_id: len(chargers.received(ocpp_id)) for ocpp_id in ocpp_ids}
        slow = chargers.charger("CP-SLOW")
        chargers.call(
            lambda: setattr(
                slow, "misbehaviour", dataclasses.replace(slow.misbehaviour, no_answer=True)
            )
        )
        # CP-UP's vehicle becomes urgent: it is served first, the others come down
        departure = (controller.now() + timedelta(hours=1)).isoformat()
        controller.put(
            f"/sessions/{session_of['chg-up/1']}/requirement",
            {"energy": "200 kWh", "departure": departure},
        )

        def first_change(ocpp_id: str, lower: bool) -> Received | None:
            for request in chargers.received(ocpp_id)[seen[ocpp_id] :]:
                limit = limit_a(request)
                previous = before[ocpp_id]
                assert previous is not None
                if is_dynamic(request) and (limit < previous if lower else limit > previous):
                    return request
            return None

        # meanwhile, what the three really draw never exceeds the board's limit
        peak = 0.0

        def raised() -> Received | None:
            nonlocal peak
            peak = max(peak, sum(chargers.draw_a(o) for o in ocpp_ids))
            return first_change("CP-UP", lower=False)

        increase = wait_for(raised, within_s=20, what="CP-UP's increase")
        down = first_change("CP-DOWN", lower=True)
        slowed = first_change("CP-SLOW", lower=True)
        assert down is not None and slowed is not None, "both decreases were sent"
        assert slowed.verdict is None  # never answered
        # the answered decrease was answered before the increase arrived
        assert down.answered_wall_s is not None
        assert down.answered_wall_s <= increase.wall_s
        # the increase was planned with CP-SLOW at its old, higher limit: the board holds
        # whether CP-SLOW's decrease lands or not
        board = controller.node("db-1")
        assert board["effective_limit"] == pytest.approx(38.0)
        down_then = [
            r
            for r in chargers.received("CP-DOWN")[seen["CP-DOWN"] :]
            if is_dynamic(r)
            and r.answered_wall_s is not None
            and r.answered_wall_s <= increase.wall_s
        ][-1]
        assert limit_a(increase) + limit_a(down_then) + before["CP-SLOW"] <= 38.0 + 1e-6
        # and it was decided while CP-SLOW's command was still out (no waiting on it)
        decided = controller.journal(kind="allocation.changed", evse="chg-up/1")
        raised_to = [e for e in decided if e["data"]["limit_a"] == limit_a(increase)]
        timed_out = wait_for(
            lambda: [
                e
                for e in controller.journal(kind="command.outcome", evse="chg-slow/1")
                if "timeout (no answer within 5 s)" in e["message"]
            ],
            within_s=20,
            what="CP-SLOW's command timing out",
        )
        assert raised_to and raised_to[0]["id"] < timed_out[0]["id"]
        assert not any(
            "not sent" in e["message"]
            for e in controller.journal(kind="command.outcome", evse="chg-up/1")
        )
        wait_for(
            lambda: controller.evse("chg-slow/1")["state"] == "uncontrollable",
            within_s=20,
            what="CP-SLOW uncontrollable",
        )
        assert controller.node("db-1")["reserved"] >= before["CP-SLOW"] - 1e-6
        wait_for(
            lambda: _settled(controller, chargers, ["CP-UP", "CP-DOWN"]),
            within_s=15,
            what="CP-UP and CP-DOWN at their new limits",
        )
        peak = max(peak, sum(chargers.draw_a(o) for o in ocpp_ids))
        assert peak <= board["effective_limit"] + 0.01


def test_an_envelope_cut_reaches_every_charger_under_its_node_and_no_other(
    tmp_path: Path,
) -> None:
    cut = ["CP-A1", "CP-A2", "CP-A3"]
    spared = ["CP-B1", "CP-B2"]
    site = site_text(
        {
            "db-a": ("100 A", [("CP-A1", "ocpp1.6"), ("CP-A2", "ocpp2.0.1"), ("CP-A3", "ocpp1.6")]),
            "db-b": ("100 A", [("CP-B1", "ocpp2.0.1"), ("CP-B2", "ocpp1.6")]),
        },
        grid="400 A",
    )
    with (
        serving(tmp_path, site, flags=FLAGS) as controller,
        fleet(controller.site, controller.state_dir, meter_interval_s=5) as chargers,
    ):
        _plug_in_all(chargers, cut + spared)
        _same_requirement_for_all(controller, 5)
        wait_for(
            lambda: _settled(controller, chargers, cut + spared),
            within_s=20,
            what="every charger holding and drawing its limit",
        )
        before = {ocpp_id: _held(chargers, ocpp_id) for ocpp_id in cut + spared}
        seen = {ocpp_id: len(chargers.received(ocpp_id)) for ocpp_id in cut + spared}
        controller.submit_envelope("cut-db-a", "db-a", "45 A")
        wait_for(
            lambda: all((_held(chargers, o) or 99) < (before[o] or 0) for o in cut),
            within_s=15,
            what="every charger under db-a holding a lower limit",
        )
        wait_for(
            lambda: _settled(controller, chargers, cut + spared),
            within_s=15,
            what="every charger drawing its new limit",
        )
        board = next(n for n in controller.state()["nodes"] if n["id"] == "db-a")
        assert board["source"]["ref"] == "cut-db-a"
        assert sum(chargers.draw_a(o) for o in cut) <= board["effective_limit"] + 0.01
        for ocpp_id in spared:  # renewals at the same limit, never a lower one
            since = [r for r in chargers.received(ocpp_id)[seen[ocpp_id] :] if is_dynamic(r)]
            assert all(limit_a(r) >= (before[ocpp_id] or 0) for r in since), ocpp_id
            assert _held(chargers, ocpp_id) == before[ocpp_id]
