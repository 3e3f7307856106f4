"""``GET /api/v1/snapshot`` over real HTTP: the live state as a snapshot file that
``allocate --snapshot`` replays offline to the very limits ``/state`` shows."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from depotctl.cli import app as cli
from depotctl.config import load_snapshot
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.service import Controller
from depotctl.controller.store import Store, UnitOfWork
from depotctl.domain import EvseOverride
from depotctl.domain.admission import Admission
from depotctl.domain.chargers import ChargerState, CommandOutcome
from depotctl.domain.envelopes import Direction, Envelope, LimitUnit
from depotctl.domain.phases import Phase
from depotctl.domain.sessions import EnergyRequirement, Session
from depotctl.domain.telemetry import Reading
from depotctl.engine import allocate
from tests.controller.test_app import AU_DEPOT, Running, serving
from tests.controller.test_inputs import fresh_controller

START = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # 18:30 in Sydney
#: two buses on each DC board (and dc-07, offline), four more on the pantographs and the
#: workshop's AC chargers: more than the 600 kW envelope allows, less than either board
EVSES = ("dc-01/1", "dc-02/1", "dc-07/1", "dc-13/1", "dc-14/1", "pan-01/1", "ac-01/1", "ac-02/1")


@pytest.fixture(scope="module")
def depot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The AU bus depot on a paused clock, with sessions, an envelope, telemetry and an
    offline charger put through the store."""
    state_dir = tmp_path_factory.mktemp("state")
    clock = SimClock(START, monotonic=lambda: 0.0)
    controller = Controller(
        Store.open(state_dir / "depotctl.sqlite"), clock, base_dir=AU_DEPOT.parent
    )
    controller.seed(AU_DEPOT, AU_DEPOT.read_text(encoding="utf-8"), author="test")
    store = controller.store
    for n, evse_id in enumerate(EVSES, start=1):
        UnitOfWork(store).sessions.put(
            Session(
                id=f"S-{n}",
                evse_id=evse_id,
                started=START - timedelta(minutes=30 + n),
                energy_delivered_wh=1_000.0 * n + 0.125,
                requirement=(
                    EnergyRequirement(250_000.0, START + timedelta(hours=2 + n)) if n % 3 else None
                ),
                vehicle_max_current_a=200.0 if n == 4 else None,
                priority_class=n % 2,
            )
        )
    UnitOfWork(store).sources.heard_from("ausgrid-oscp", START - timedelta(seconds=19))
    UnitOfWork(store).envelopes.put(
        Envelope(
            id="E-17",
            source="ausgrid-oscp",
            target="gc-main",
            direction=Direction.IMPORT,
            limit=600_000.0,
            unit=LimitUnit.W,
            start=START - timedelta(hours=1),
            end=START + timedelta(hours=3),
            received_at=START - timedelta(hours=2),
        )
    )
    # the depot's own operator cut the north DC board (an envelope of the local source)
    UnitOfWork(store).sources.heard_from("local", START - timedelta(minutes=5))
    UnitOfWork(store).envelopes.put(
        Envelope(
            id="L-1",
            source="local",
            target="db-dc-north",
            direction=Direction.IMPORT,
            limit=180_000.0,
            unit=LimitUnit.W,
            start=START - timedelta(minutes=5),
            end=START + timedelta(hours=1),
            received_at=START - timedelta(minutes=5),
        )
    )
    UnitOfWork(store).telemetry.put(
        [
            Reading("workshop", START - timedelta(seconds=2), power_w=31_400.0),
            Reading(
                "m-main",
                START - timedelta(seconds=3),
                power_w=402_123.456,
                current_a={Phase.L1: 590.5, Phase.L2: 588.25, Phase.L3: 601.0},
            ),
        ]
    )
    UnitOfWork(store).chargers.put(
        [
            ChargerState(
                "dc-07",
                online=False,
                last_outcome=CommandOutcome.OFFLINE,
                last_accepted_limit_a=72.0,
                last_command_at=START - timedelta(minutes=4),
                reason="websocket closed by the charger (1006)",
            )
        ]
    )
    # an operator paused one bus and capped another
    UnitOfWork(store).overrides.put(
        EvseOverride("dc-02/1", True, None, START - timedelta(minutes=7), "alice", "cable damaged")
    )
    UnitOfWork(store).overrides.put(
        EvseOverride("dc-13/1", False, 20.55, START - timedelta(minutes=3), "bob")
    )
    tokens = load_or_create_tokens(state_dir)
    with serving(create_app(controller, tokens)) as url:
        yield Running(url, tokens, clock, controller)
    controller.close()


def _get(depot: Running, path: str, **params: str) -> httpx.Response:
    with depot.client("readonly") as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response


def _limits(allocation_json: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        e["id"]: (e["limit_a"], e["state"], e["binding"]["kind"], e["binding"]["ref"])
        for e in allocation_json["evses"]
    }


def test_an_exported_snapshot_replays_to_the_live_limits(depot: Running, tmp_path: Path) -> None:
    exported = _get(depot, "/api/v1/snapshot").json()
    state = _get(depot, "/api/v1/state").json()
    path = tmp_path / "live.json"
    path.write_text(json.dumps(exported))

    result = CliRunner().invoke(cli, ["allocate", "--snapshot", str(path), "--format", "json"])

    assert result.exit_code == 0, result.output
    offline = json.loads(result.stdout)
    assert offline["at"] == state["at"]
    assert _limits(offline) == _limits(state)
    bound = {k for k, v in _limits(state).items() if v[2] == "envelope"}
    assert bound, [v for v in _limits(state).values() if v[1] != "idle"]
    # the operators' own (local) envelope, declared by no site, replays too
    [north] = [n for n in offline["nodes"] if n["id"] == "db-dc-north"]
    [cut] = [limit for limit in north["limits"] if limit["kind"] == "import_power"]
    assert cut["source"]["text"] == "envelope L-1 (fresh)"
    assert north == next(n for n in state["nodes"] if n["id"] == "db-dc-north")
    assert _limits(state)["dc-07/1"][1] == "uncontrollable"
    assert _limits(offline)["dc-02/1"] == (0.0, "paused", "operator_override", "dc-02/1")
    assert _limits(offline)["dc-13/1"] == (20.5, "charging", "operator_override", "dc-13/1")
    overridden = {e["id"]: e["override"] for e in offline["evses"] if "override" in e}
    assert overridden == {e["id"]: e["override"] for e in state["evses"] if "override" in e}
    assert set(overridden) == {"dc-02/1", "dc-13/1"}


def test_the_export_loads_without_a_diagnostic_as_the_live_snapshot(
    depot: Running, tmp_path: Path
) -> None:
    path = tmp_path / "live.yaml"
    response = _get(depot, "/api/v1/snapshot", format="yaml")
    assert response.headers["content-type"].startswith("application/yaml")
    path.write_text(response.text)

    loaded = load_snapshot(path)

    assert [d for r in loaded.reports for d in r.diagnostics] == []
    assert loaded.snapshot is not None
    live = depot.controller.snapshot()
    assert loaded.snapshot.at == live.at
    assert loaded.snapshot.sessions == live.sessions
    assert loaded.snapshot.envelopes == live.envelopes
    assert dict(loaded.snapshot.telemetry) == dict(live.telemetry)
    assert dict(loaded.snapshot.chargers) == dict(live.chargers)
    assert dict(loaded.snapshot.overrides) == dict(live.overrides)
    assert set(live.overrides) == {"dc-02/1", "dc-13/1"}
    before, after = allocate(live), allocate(loaded.snapshot)
    assert {k: e.limit_a for k, e in after.evses.items()} == {
        k: e.limit_a for k, e in before.evses.items()
    }


def test_times_carry_offsets_and_quantities_units(depot: Running) -> None:
    document = YAML(typ="safe").load(_get(depot, "/api/v1/snapshot", format="yaml").text)
    assert document["at"] == "2026-03-02T18:30:00+11:00"  # Sydney summer time
    assert document["envelopes"][0]["limit"] == "600 kW"
    assert document["envelopes"][0]["end"].endswith("+11:00")
    workshop = next(r for r in document["telemetry"] if r["node"] == "workshop")
    assert workshop["power"] == "31.4 kW"
    session = next(s for s in document["sessions"] if s["id"] == "S-3")
    assert session["energy_delivered"] == "3.000125 kWh"
    assert document["chargers"][0]["last_accepted_limit"] == "72 A"


def test_the_export_holds_no_secret(depot: Running) -> None:
    text = _get(depot, "/api/v1/snapshot").text
    assert depot.tokens.admin not in text and depot.tokens.readonly not in text

    def keys(value: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(value, dict):
            for key, item in value.items():
                yield str(key), item
                yield from keys(item)
        elif isinstance(value, list):
            for item in value:
                yield from keys(item)

    secretive = [(k, v) for k, v in keys(json.loads(text)) if "password" in k or "token" in k]
    assert secretive, "the AU depot names its OCPP passwords and OSCP token"
    # only references to where secrets live (a file or an environment variable)
    assert all(k.endswith(("_file", "_env")) for k, _ in secretive), secretive


def test_an_unknown_format_is_a_json_error(depot: Running) -> None:
    with depot.client() as client:
        response = client.get("/api/v1/snapshot", params={"format": "xml"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


def test_snapshot_export_writes_the_file_through_the_client(depot: Running, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(depot.tokens.readonly)
    token_file.chmod(0o600)
    out = tmp_path / "live.yaml"

    result = CliRunner().invoke(
        cli,
        ["snapshot", "export", "--server", depot.url, "--token-file", str(token_file),
         "--out", str(out)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    loaded = load_snapshot(out)
    assert loaded.exit_code == 0 and loaded.snapshot is not None
    assert len(loaded.snapshot.sessions) == len(EVSES)


def test_the_loops_admission_records_are_exported_and_replay(
    depot: Running, tmp_path: Path
) -> None:
    """The control loop passes since when each EVSE is on or off; the cycle it publishes
    exports them, and the file replays to the same limits."""
    controller = depot.controller
    admission = {
        "pan-01/1": Admission(True, START - timedelta(minutes=1)),
        "ac-01/1": Admission(False, START - timedelta(minutes=2)),
        "gone/1": Admission(True, START - timedelta(minutes=2)),  # not the site's: dropped
    }
    live = controller.live(admission=admission)
    assert dict(live.snapshot.admission) == {k: admission[k] for k in ("pan-01/1", "ac-01/1")}
    controller.publish(live, max_age_s=5.0)
    try:
        exported = _get(depot, "/api/v1/snapshot").json()
        state = _get(depot, "/api/v1/state").json()
    finally:
        controller.publish(controller.live(), max_age_s=5.0)
    assert exported["admission"] == {
        "ac-01/1": {"off_since": "2026-03-02T18:28:00+11:00"},
        "pan-01/1": {"on_since": "2026-03-02T18:29:00+11:00"},
    }
    path = tmp_path / "live.json"
    path.write_text(json.dumps(exported))
    loaded = load_snapshot(path)
    assert loaded.snapshot is not None
    assert dict(loaded.snapshot.admission) == dict(live.snapshot.admission)
    result = CliRunner().invoke(cli, ["allocate", "--snapshot", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert _limits(json.loads(result.stdout)) == _limits(state)


# A store from before non-finite values were refused


#: Values an earlier version let into the store (issue 11: "1e306 kW" was infinity)
EXTREMES = [math.inf, -math.inf, 1e308]


@pytest.mark.parametrize("extreme", EXTREMES, ids=repr)
def test_an_extreme_stored_value_never_fails_a_read_or_the_export(
    tmp_path: Path, extreme: float
) -> None:
    """Every table's numbers set to ``extreme`` behind the store's back (raw SQL, as an
    old version wrote them): the state, explanations, histories, the snapshot export
    (API and CLI) all answer."""
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    controller, _ = fresh_controller(state_dir)
    store = controller.store
    UnitOfWork(store).sessions.put(
        Session(
            "S-1",
            "dc-01/1",
            START,
            energy_delivered_wh=5_000.0,
            requirement=EnergyRequirement(200_000.0, START + timedelta(hours=8)),
            vehicle_max_current_a=200.0,
        )
    )
    UnitOfWork(store).envelopes.put(
        Envelope("E-1", "local", "gc-main", Direction.IMPORT, 800_000.0, LimitUnit.W, START,
                 None, START)
    )  # fmt: skip
    UnitOfWork(store).overrides.put(EvseOverride("dc-02/1", False, 16.0, START, "ops"))
    UnitOfWork(store).telemetry.put(
        [Reading("workshop", START, power_w=40_000.0, current_a={Phase.L1: 60.0})]
    )
    store.close()
    raw = sqlite3.connect(state_dir / "depotctl.sqlite")
    positive = abs(extreme)  # what the tables' CHECKs let in
    with raw:
        raw.execute(
            "UPDATE sessions SET energy_delivered_wh = ?, requirement_energy_wh = ?,"
            " vehicle_max_current_a = ?",
            (positive, extreme, extreme),
        )
        raw.execute("UPDATE envelopes SET limit_value = ?", (extreme,))
        raw.execute("UPDATE overrides SET cap_a = ?", (positive,))
        raw.execute("UPDATE readings SET power_w = ?", (extreme,))
        raw.execute(
            "UPDATE telemetry SET power_mw_mean = ?, power_mw_max = ?, l1_ma_max = ?",
            (extreme, extreme, extreme),
        )
    raw.close()
    controller, _ = fresh_controller(state_dir)
    tokens = load_or_create_tokens(state_dir)
    try:
        with serving(create_app(controller, tokens)) as url:
            headers = {"Authorization": f"Bearer {tokens.admin}"}
            with httpx.Client(base_url=url + "/api/v1", headers=headers) as client:
                for path in (
                    "/state",
                    "/snapshot",
                    "/snapshot?format=yaml",
                    "/sessions?all=true",
                    "/sessions/S-1",
                    "/envelopes",
                    "/overrides",
                    "/telemetry/workshop",
                    "/explain/dc-01%2F1",
                    "/explain/dc-02%2F1",
                    "/journal",
                ):
                    assert client.get(path).status_code == 200, path
            token_file = tmp_path / "token"
            token_file.write_text(tokens.readonly)
            token_file.chmod(0o600)
            result = CliRunner().invoke(
                cli,
                ["snapshot", "export", "--server", url, "--token-file", str(token_file),
                 "--out", str(tmp_path / "live.yaml")],
            )  # fmt: skip
            assert result.exit_code == 0, result.output
    finally:
        controller.close()
