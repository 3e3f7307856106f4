"""``depotctl demo``: a short headless night on a small site, its summary checked
against the controller's own journal (its measured check on the chargers' draw
records, which add up to their meters), every process stopped and the directory gone
afterwards; the console comes up on the demo's controller with live data; usage."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from depotctl.api import json_of
from depotctl.demo.run import Demo, Options
from depotctl.demo.site import bundled_names
from depotctl.demo.summary import passed, render_text
from depotctl.sim.chargers.draw_record import MILLISECOND, decode
from depotctl.sim.chargers.run import load_charge_points
from tests.conftest import EXAMPLES

MINIMAL = str(EXAMPLES / "minimal.yaml")
HOUR = timedelta(hours=1)


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


def test_a_headless_night_is_summarised_as_the_controller_journaled_it() -> None:
    with Demo(Options(site=MINIMAL, speed=7200, whole_night=True)) as demo:
        assert demo.chargers is not None and demo.controller is not None
        pids = [demo.chargers.pid, demo.controller.pid]
        state_dir = demo.state_dir
        assert demo.wait_for_chargers() == 0
        summary = demo.summary()
        report = demo.chargers_report()
        journal: list[dict[str, Any]] = json_of(demo.client.journal(limit=10000))["entries"]

    # the chargers, the controller and the temporary state directory are gone
    assert all(_gone(pid) for pid in pids)
    assert not state_dir.exists()

    ended = [e for e in journal if e["kind"] == "session.ended"]
    received = [e for e in journal if e["kind"] == "envelope.received"]
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
    # the scripted cut was posted through the API, as the journal says
    assert [e["envelope"] for e in received] == [c["id"] for c in summary["envelopes"]]
    assert received[0]["data"]["limit"] in ("60 kW", "60.0 kW", "60000 W")
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
    assert passed(summary) == (not summary["violations"] and not summary["deadlines"]["missed"])
    text = render_text(summary)
    assert "2 of 2 departures met" in text or "missed" in text


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
