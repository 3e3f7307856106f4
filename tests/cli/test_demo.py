"""``depotctl demo``: a short headless night on a small site whose evening cut arrives
over OSCP from its simulated grid operator, its summary checked against the
controller's own journal (its measured check on the chargers' draw records, which add
up to their meters), every process stopped and the directory gone afterwards; a stall
of the demo's processes does not flap the OSCP source; the console comes up on the
demo's controller with live data; usage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from depotctl.api import json_of
from depotctl.api.envelopes import EnvelopeSource
from depotctl.demo.run import Demo, Options
from depotctl.demo.site import bundled_names
from depotctl.demo.summary import passed, render_text
from depotctl.sim.chargers.draw_record import MILLISECOND, decode
from depotctl.sim.chargers.run import load_charge_points
from tests.conftest import EXAMPLES
from tests.sim.derms.running import eventually

MINIMAL = str(EXAMPLES / "minimal.yaml")
HOUR = timedelta(hours=1)
DNSP = "dnsp-oscp"


#: a tariff dear from 10:00 to 02:00 with a demand charge then (the vehicles arrive
#: 17:00-21:00, later when a busy machine starts the chargers late), a carbon constant
#: and the planner on: the vehicles are deferred to 02:00
PLANNED = """\
  tariff:
    currency: AUD
    seasons:
      - {name: year-round, from: "01-01", to: "12-31", demand: [{name: peak-demand, days: all,
         period: peak, price: 10 /kW/month}], energy: [
         {name: peak, days: all, from: "10:00", to: "02:00", price: 0.40 /kWh},
         {name: off-peak, days: all, from: "02:00", to: "10:00", price: 0.10 /kWh}]}
  carbon: {constant: 0.5 kg/kWh}
  planner: {enabled: true, horizon: 24 h, block: 30 min, replan: 15 min}
"""


def minimal_with_oscp(
    directory: Path, heartbeat: str, offline_after: str, *, planned: bool = False
) -> str:
    """The minimal site, its grid connection's envelopes from an OSCP source (the demo
    points its ``base_url`` and token at its own simulated grid operator); ``planned``:
    with :data:`PLANNED`'s tariff, carbon and planner."""
    text = (EXAMPLES / "minimal.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "      limits: {import: 100 kW, current: 160 A}\n",
        f"      limits: {{import: 100 kW, current: 160 A}}\n      envelope_source: {DNSP}\n",
        1,
    )
    text += (
        "  envelope_sources:\n"
        f"    - id: {DNSP}\n"
        "      protocol: oscp\n"
        "      oscp:\n"
        "        base_url: https://oscp.dnsp.example/oscp/cp/2.0\n"
        "        group_id: MINIMAL-LV-1\n"
        "        token_file: /run/secrets/dnsp-oscp-token\n"
        f"      heartbeat_interval: {heartbeat}\n"
        f"      offline_after: {offline_after}\n"
        "      fallback: {import: 80 kW}\n"
    )
    if planned:
        text += PLANNED
    site = directory / "minimal-oscp.yaml"
    site.write_text(text, encoding="utf-8")
    return str(site)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _drawn_wh(changes: list[tuple[int, int]], span: timedelta) -> float:
    """A draw record's energy (Wh) over the report's span: watts × how long each held."""
    end_ms = span / MILLISECOND
    ends = [at for at, _ in changes[1:]] + [end_ms]
    return sum(
        dw / 10 * (min(end, end_ms) - at) / 3_600_000
        for (at, dw), end in zip(changes, ends, strict=True)
        if at < end_ms
    )


def test_a_headless_night_is_summarised_as_the_controller_journaled_it(tmp_path: Path) -> None:
    """… and planned: the vehicles are deferred out of the dear evening to 02:00,
    explain's words saying why, none held urgent and left short; the night's cost and carbon are
    the controller's reports."""
    # at ×7200 a heartbeat a minute is 8 ms: this night's grid operator is slower
    site = minimal_with_oscp(tmp_path, heartbeat="10 min", offline_after="2 h", planned=True)
    with Demo(Options(site=site, speed=7200, whole_night=True)) as demo:
        assert demo.chargers is not None and demo.controller is not None
        assert set(demo.derms) == {DNSP}
        pids = [demo.chargers.pid, demo.controller.pid, demo.derms[DNSP].pid]
        state_dir = demo.state_dir
        assert demo.wait_for_chargers() == 0
        summary = demo.summary()
        report = demo.chargers_report()
        journal: list[dict[str, Any]] = json_of(demo.client.journal(limit=10000))["entries"]
        envelopes = {e["id"]: e for e in json_of(demo.client.envelopes())["envelopes"]}

    # the chargers, the controller and the temporary state directory are gone
    assert all(_gone(pid) for pid in pids)
    assert not state_dir.exists()

    ended = [e for e in journal if e["kind"] == "session.ended"]
    forecasts = [e for e in journal if e["kind"] == "oscp.forecast"]
    energy = summary["energy"]
    # every vehicle of the minimal site came, charged and left; the controller ended
    # their sessions with the energy the simulated meters counted
    assert len(ended) == len(summary["vehicles"]) == 2
    journaled_wh = sum(e["data"]["energy_delivered_wh"] for e in ended)
    assert energy["controller_delivered_wh"] == pytest.approx(journaled_wh, abs=0.5)
    assert energy["delivered_wh"] == pytest.approx(journaled_wh, rel=1e-3)
    by_evse = {e["evse"]: e["data"]["energy_delivered_wh"] for e in ended}
    for vehicle in summary["vehicles"]:
        assert vehicle["due"]
        assert vehicle["delivered_wh"] == pytest.approx(by_evse[vehicle["evse"]], rel=1e-3)
        assert vehicle["met"] == (vehicle["delivered_wh"] >= vehicle["needed_wh"] - 0.5)
    assert summary["deadlines"]["due"] == 2
    assert summary["deadlines"]["met"] == sum(v["met"] for v in summary["vehicles"])
    # the evening cut came over OSCP from the site's grid operator, as the journal says;
    # the summary keys it by the id the controller gave it (SOURCE:REQUEST:BLOCK:TARGET)
    assert not [e for e in journal if e["kind"] == "envelope.received"]
    [forecast] = forecasts
    [cut] = summary["envelopes"]
    assert summary["envelopes_not_received"] == []
    assert forecast["data"]["source"] == cut["source"] == DNSP
    assert forecast["data"]["envelopes"] == [cut["id"]]
    assert cut["id"].startswith(f"{DNSP}:") and cut["id"].endswith(":gc-main")
    envelope = envelopes[cut["id"]]
    assert envelope["limit"] in ("60 kW", "60.0 kW", "60000 W")
    # received ahead of its window, as the summary says: the operator sends it 15 min
    # ahead and at least NOTICE_WALL_S of wall time (4 h at ×7200, not 0.125 s)
    received_at = datetime.fromisoformat(cut["posted_at"])
    assert received_at == datetime.fromisoformat(envelope["received_at"])
    start = datetime.fromisoformat(envelope["start"])
    assert datetime.fromisoformat(cut["start"]) == start
    assert received_at < start and cut["ahead"]
    # violations were checked on the chargers' exact draws, whose records add up to
    # their meters, and on the state samples; peaks on real telemetry
    assert report is not None and summary["checked"]["measured"] == "draws"
    assert summary["checked"]["draw_changes"] > 2
    span = datetime.fromisoformat(report["to"]) - datetime.fromisoformat(report["from"])
    for charger in report["chargers"]:
        changes = decode(charger["draw"])
        # each draw rounded to 0.1 W, each instant to 1 ms, the energy to 0.1 Wh
        rounding_wh = 0.05 * span / HOUR + 0.01 * len(changes) + 0.1
        assert _drawn_wh(changes, span) == pytest.approx(charger["energy_wh"], abs=rounding_wh)
    assert summary["checked"]["telemetry_minutes"] > 10
    assert summary["checked"]["state_samples"] > 10
    gc = summary["grid_connections"][0]
    assert gc["id"] == "gc-main" and gc["peak"]["load_kw"] > 0
    assert gc["peak"]["load_kw"] <= gc["peak"]["effective_limit_kw"]
    # the peak during the envelope is the exact draw the violations are checked on
    [during] = gc["during_envelopes"]
    assert during["drawn"] is not None and during["drawn"]["limit_kw"] == 60.0
    if not summary["violations"]:
        assert during["drawn"]["load_kw"] <= 60.0 + 0.001
    assert passed(summary) == (
        not summary["violations"]
        and not summary["deadlines"]["missed"]
        and not summary["plan"]["held_behind_while_urgent"]
    )
    text = render_text(summary)
    assert "2 of 2 departures met" in text or "missed" in text
    assert f"received over OSCP from {DNSP} at " in text and "late:" not in text
    # the grid operator's own account: its forecast taken, heartbeats on the way
    [operator] = summary["grid_operators"]
    assert operator["source"] == DNSP and operator["forecasts_refused"] == []
    assert operator["forecasts_sent"] == 1 and operator["heartbeats_sent"] > 0
    assert f"grid        {DNSP} (sim derms): sent 1 forecast and " in text
    _assert_planned(summary, journal, text)


def _assert_planned(summary: dict[str, Any], journal: list[dict[str, Any]], text: str) -> None:
    """The plan's limits as the journal has them, no urgent session held and left short; the
    night's cost and carbon from the controller's reports, consistent with the meters;
    each vehicle that came in the dear hours (two hours or more before the 02:00
    price) held at 0 A, deferred to it, and the night the cheaper for it."""
    planned = [
        e
        for e in journal
        if e["kind"] == "allocation.changed" and e["data"]["binding"]["kind"] == "planned_rate"
    ]
    deferred = [e for e in planned if DEFERRED in e["data"]["binding"]["detail"]]
    plan = summary["plan"]
    assert plan["planned"] == len(planned) and plan["deferred"] == len(deferred)
    assert plan["limits"] == sum(e["kind"] == "allocation.changed" for e in journal)
    assert plan["held_behind_while_urgent"] == [], plan["held_behind_while_urgent"]
    assert plan["failed"] == 0 and plan["solved"] > 0
    assert (
        f"  plan        {plan['planned']:,} of {plan['limits']:,} limits sent were the plan's"
        in text
    )
    # the cost report priced the chargers' energy (no grid meter), the carbon at 0.5
    cost, delivered_kwh = summary["cost"], summary["energy"]["delivered_wh"] / 1000
    assert cost["currency"] == "AUD" and cost["metered_minutes"] == 0
    assert cost["energy_kwh"] == pytest.approx(delivered_kwh, abs=0.05)
    assert 0.10 * delivered_kwh - 0.01 <= cost["energy_cost"] <= 0.40 * delivered_kwh + 0.01
    assert cost["demand_charge"] == pytest.approx(sum(d["amount"] for d in cost["demand"]))
    for demand in cost["demand"]:
        assert demand["amount"] == pytest.approx(10 * demand["peak_kw"], abs=0.01)
    assert summary["carbon"]["kg_co2e"] == pytest.approx(0.5 * delivered_kwh, abs=0.05)
    assert "AUD energy + " in text and "kg CO2e" in text
    # at ×7200 a busy machine may bring the chargers up hours late: the vehicles that
    # came in the dear hours are the ones to defer
    early = {e["session"] for e in journal if e["kind"] == "session.started" and _dear(e["at"])}
    if not early:
        started = [e["at"] for e in journal if e["kind"] == "session.started"]
        pytest.skip(f"no vehicle came before 00:00 site time (sessions started {started})")
    assert early <= {e["session"] for e in deferred}
    assert all(e["data"]["limit_a"] == 0.0 for e in deferred)
    assert DEFERRED in plan["example"]["detail"]
    assert cost["energy_cost"] < 0.25 * delivered_kwh  # mostly at 0.10


#: what explain says of a vehicle the plan holds in the dear hours of PLANNED's tariff
DEFERRED = "deferred: 0.4 /kWh now vs 0.1 /kWh from 02:00"


def _dear(at: str) -> bool:
    """Two hours or more before PLANNED's 02:00 price: 10:00 to 00:00 site time."""
    return datetime.fromisoformat(at).astimezone(ZoneInfo("Australia/Sydney")).hour >= 10


def test_a_stall_of_the_demo_does_not_flap_its_oscp_source(tmp_path: Path) -> None:
    """Heartbeats follow the controller's clock and offline_after is its time: the grid
    operator's process stopped for two heartbeat intervals of the controller's time,
    then the whole demo for as long (the controller's clock jumps by it: it runs on
    monotonic time), each ending before the deadline the last heartbeat named, and the
    source stays online. (Stopped for 400 s, past the deadline, it does flap: offline at
    the deadline, online when heard again; seen by hand, not asserted here.)"""
    site = minimal_with_oscp(tmp_path, heartbeat="60 s", offline_after="5 min")
    speed, stall = 60.0, timedelta(seconds=120)
    with Demo(Options(site=site, speed=speed)) as demo:
        assert demo.controller is not None and demo.chargers is not None
        derms = demo.derms[DNSP]

        def source() -> EnvelopeSource:
            return next(s for s in demo.client.envelopes().sources if s.id == DNSP)

        def clock() -> datetime:
            return demo.client.clock().time

        def stalled_within(deadline: datetime | None, now: datetime) -> None:
            """The stall ended before the deadline: else the test lagged, not the link."""
            assert deadline is not None and now < deadline, f"stalled to {now}, past {deadline}"

        eventually(lambda: source().online and source().last_heard, "the source heard", 120)
        heard = source().last_heard
        os.kill(derms.pid, signal.SIGSTOP)
        try:
            until = clock() + stall
            eventually(lambda: clock() >= until, "the stall in the controller's time")
            stopped = source()
            assert stopped.last_heard == heard, "the stopped grid operator was heard"
        finally:
            os.kill(derms.pid, signal.SIGCONT)
        stalled_within(stopped.offline_at, clock())
        eventually(lambda: source().last_heard != heard, "the grid operator heard again")
        processes = [demo.controller, demo.chargers, derms]
        deadline = source().offline_at
        for child in processes:
            os.kill(child.pid, signal.SIGSTOP)
        try:
            time.sleep(stall.total_seconds() / speed)  # the stall itself, not a wait for a result
        finally:
            for child in processes:
                os.kill(child.pid, signal.SIGCONT)
        resumed = clock()
        stalled_within(deadline, resumed)
        # a missed deadline is journaled once the controller's clock passes it: watch past
        # the latest it could be
        eventually(lambda: clock() >= resumed + timedelta(minutes=6), "6 min after the stall")
        last = source()
        journal: list[dict[str, Any]] = json_of(demo.client.journal(limit=10000))["entries"]
    assert last.online
    health = [
        e["kind"]
        for e in journal
        if e["kind"] in ("source.online", "source.offline") and e["data"]["source"] == DNSP
    ]
    # online once heard, and never offline after
    assert "source.online" in health
    assert health[health.index("source.online") :] == ["source.online"], health


#: the 300-charger depot's fleet takes most of two cores while it boots: run it with the
#: long checks (pytest -m slow), not in the default suite
HEAVY = {"large-depot"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=[pytest.mark.slow] if name in HEAVY else [])
        for name in bundled_names()
    ],
)
def test_the_demo_runs_every_bundled_site_as_shipped(name: str) -> None:
    """The bundled sites name secrets this machine lacks (/run/secrets/…, variables
    nobody set): the demo's copy gives its controller and chargers one generated
    password, and every charger of the site comes online."""
    with Demo(Options(site=name, speed=60)) as demo:
        assert demo.chargers is not None
        expected = {cp.charger_id for cp in load_charge_points(demo.site.path)[2].values()}
        deadline = time.monotonic() + 120  # a hang, not a busy machine's slow start
        while True:
            chargers = demo.client.chargers().chargers
            if {c.id for c in chargers if c.online} == expected:
                break
            assert demo.chargers.running(), demo.chargers.log_tail()
            assert time.monotonic() < deadline, demo.chargers.log_tail()
            time.sleep(0.2)
        assert demo.site.chargers_rewritten == len(expected)


@pytest.mark.anyio
async def test_the_demo_console_comes_up_with_live_data() -> None:
    from depotctl.console.widgets.tree import ElectricalTree
    from tests.console.conftest import loaded, wait_for

    with Demo(Options(site=MINIMAL, speed=600)) as demo:
        app = demo.console_app(interval=0.5)
        async with app.run_test(size=(80, 24)) as pilot:
            await loaded(pilot, app)
            assert app.model.site_name == "minimal-depot"
            tree = app.query_one(ElectricalTree)
            assert tree.root.children, "the electrical tree is empty"
            clock_before = app.model.time
            assert clock_before is not None
            # live: the controller's simulated clock moves on screen, poll after poll
            await wait_for(pilot, lambda: app.model.time not in (None, clock_before))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--duration", "2h"], "--duration needs --headless"),
        (["--headless", "--site", "no-such-depot"], "no bundled site 'no-such-depot'"),
        (["--headless", "--duration", "2"], "--duration"),
    ],
)
def test_usage_errors_exit_2(args: list[str], complaint: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "depotctl", "demo", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert complaint in result.stderr
