"""``depotctl sim chargers`` as run for real: a subprocess against the test CSMS (in
a thread) and a real controller API for the clock (60 s of its time a tenth of a
second), with a scenario; and its exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.service import Controller
from depotctl.controller.store import Store
from tests.conftest import EXAMPLES, SITES
from tests.controller.test_app import AU_DEPOT, serving
from tests.controller.test_serve import serve
from tests.sim.chargers.builders import START
from tests.sim.chargers.csms import Csms

PASSWORDS = {"CP-01": "one-secret", "CP-02": "two-secret"}


def depotctl(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "depotctl", "sim", "chargers", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """The minimal depot, CP-02's password in a file beside it."""
    text = (EXAMPLES / "minimal.yaml").read_text()
    text = text.replace("password_file: /etc/depotctl/cp02.secret", "password_file: cp02.secret")
    (tmp_path / "cp02.secret").write_text(PASSWORDS["CP-02"] + "\n")
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return path


@contextmanager
def csms_thread() -> Iterator[Csms]:
    """The test CSMS on its own event loop in a thread."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop: asyncio.Event | None = None
    holder: list[Csms] = []

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with Csms(dict(PASSWORDS)) as csms:
            holder.append(csms)
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(10)
    try:
        yield holder[0]
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


@contextmanager
def controller_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real controller's API with a simulated clock at 600×; (URL, token file)."""
    state = tmp_path / "state"
    state.mkdir()
    service = Controller(
        Store.open(state / "depotctl.sqlite"), SimClock(START, speed=600), base_dir=AU_DEPOT.parent
    )
    service.seed(AU_DEPOT, AU_DEPOT.read_text(encoding="utf-8"), author="test")
    load_or_create_tokens(state)
    try:
        with serving(create_app(service, load_or_create_tokens(state))) as url:
            yield url, state / "tokens" / "readonly.token"
    finally:
        service.close()


def controller_time(api: str, token: Path) -> datetime:
    """The controller's time now, from its API."""
    from depotctl.client.api import ControllerClient

    client = ControllerClient(api, token.read_text().strip(), timeout=10.0)
    return client.clock().time


def test_a_fleet_follows_the_controller_clock_through_a_scenario(
    site: Path, tmp_path: Path
) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        """kind: Scenario
vehicles:
  - {id: bus-1, evse: chg-01/1, arrival: +1 min, departure: +5 min, energy: 1 kWh}
  - {id: bus-2, arrival: +2 min, max_power: 7 kW}
  - {id: bus-3, arrival: +3 min}
"""
    )
    with csms_thread() as csms, controller_api(tmp_path) as (api, token):
        result = depotctl(
            "-f",
            site,
            "--controller",
            csms.url,
            "--server",
            api,
            "--token-file",
            token,
            "--vehicles",
            scenario,
            "--meter-interval",
            "1min",
            "--duration",
            "10min",
            "--format",
            "json",
            env={"CP01_PASSWORD": PASSWORDS["CP-01"]},
        )
        controller_at_end = controller_time(api, token)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["clock"] == {"kind": "sim", "speed": 600.0}
    assert [c["boots"] for c in report["chargers"]] == [1, 1]
    vehicles = {v["id"]: v for v in report["vehicles"]}
    assert vehicles["bus-1"]["outcome"] == "left" and vehicles["bus-1"]["met"] is True
    assert vehicles["bus-1"]["energy_delivered_wh"] == 1000.0
    assert vehicles["bus-2"]["evse"] == "chg-02/1"  # the free one
    assert vehicles["bus-2"]["outcome"] == "stopped"
    assert vehicles["bus-3"]["outcome"] == "no free EVSE"
    # 1.6 for CP-01, 2.0.1 for CP-02, each with its password
    stop = csms.sent("CP-01", "StopTransaction")
    assert [s["reason"] for s in stop] == ["EVDisconnected"]
    assert stop[0]["meter_stop"] == 1000
    ended = [e for e in csms.sent("CP-02", "TransactionEvent") if e["event_type"] == "Ended"]
    assert [e["transaction_info"]["stopped_reason"] for e in ended] == ["Local"]
    # every time stamp is the controller's (March 2026, up to its time once the run
    # was over), not the wall clock's
    stamps = [
        datetime.fromisoformat(m["timestamp"])
        for p in csms.sent("CP-01", "MeterValues")
        for m in p["meter_value"]
    ]
    assert len(stamps) >= 5
    assert all(START <= s <= controller_at_end for s in stamps), (stamps, controller_at_end)


def test_a_state_directory_gives_both_endpoints_and_text_mode_summarises(
    site: Path, tmp_path: Path
) -> None:
    with csms_thread() as csms, controller_api(tmp_path) as (api, token):
        state = token.parent.parent
        (state / "endpoints.json").write_text(json.dumps({"api": api, "ocpp": csms.url}))
        result = depotctl(
            "-f",
            site,
            "--state-dir",
            state,
            "--duration",
            "2min",
            "--misbehave",
            "CP-02:reject-profiles",
            env={"CP01_PASSWORD": PASSWORDS["CP-01"]},
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Simulated 2 chargers of minimal-depot against {csms.url}")
    assert "  chargers   2 of 2 booted" in result.stdout
    assert "CP-02        misbehaving: reject-profiles" in result.stdout
    assert "(the controller's clock, sim, ×600)" in result.stdout


def test_no_controller_is_a_usage_error(site: Path) -> None:
    result = depotctl("-f", site, env={"CP01_PASSWORD": "x"})
    assert result.returncode == 2
    assert "no controller given" in result.stderr


def test_a_context_naming_no_controller_is_refused_as_the_other_commands_refuse_it(
    site: Path, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("contexts: []\n")
    result = depotctl(
        "-f",
        site,
        "--controller",
        "ws://127.0.0.1:9/ocpp",
        "--context",
        "nowhere",
        env={"CP01_PASSWORD": "x", "DEPOTCTL_CONFIG": str(config)},
    )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f'depotctl sim chargers: no context "nowhere" in {config} (contexts: none yet)'
    )


def test_an_unknown_charger_to_misbehave_is_a_usage_error(site: Path) -> None:
    result = depotctl(
        "-f",
        site,
        "--controller",
        "ws://127.0.0.1:9/ocpp",
        "--misbehave",
        "CP-99:no-answer",
        env={"CP01_PASSWORD": "x"},
    )
    assert result.returncode == 2
    assert "no charger 'CP-99' in the site" in result.stderr


def test_an_unset_password_variable_is_a_usage_error(site: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CP01_PASSWORD"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "depotctl",
            "sim",
            "chargers",
            "-f",
            str(site),
            "--controller",
            "ws://127.0.0.1:9/ocpp",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 2
    assert "CP-01: environment variable CP01_PASSWORD is not set" in result.stderr


def test_an_invalid_scenario_exits_1_with_its_positions(site: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("vehicles:\n  - {arrival: soon}\n")
    result = depotctl(
        "-f",
        site,
        "--controller",
        "ws://127.0.0.1:9/ocpp",
        "--vehicles",
        scenario,
        env={"CP01_PASSWORD": "x"},
    )
    assert result.returncode == 1
    assert f"{scenario}:2:15: arrival 'soon'" in result.stderr


def test_a_controller_no_charger_can_reach_exits_3(site: Path) -> None:
    result = depotctl(
        "-f",
        site,
        "--controller",
        "ws://127.0.0.1:9/ocpp",
        "--duration",
        "1s",
        env={"CP01_PASSWORD": "x"},
    )
    assert result.returncode == 3
    assert "no charger could boot at ws://127.0.0.1:9/ocpp" in result.stderr


def test_ctrl_c_stops_the_running_transactions_and_exits_0(site: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("vehicles:\n  - {id: bus-1, evse: chg-01/1, arrival: +0 s}\n")
    with csms_thread() as csms:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "depotctl",
                "sim",
                "chargers",
                "-f",
                str(site),
                "--controller",
                csms.url,
                "--vehicles",
                str(scenario),
                "--format",
                "json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "CP01_PASSWORD": PASSWORDS["CP-01"]},
        )
        try:
            deadline = time.monotonic() + 20
            while not csms.sent("CP-01", "StartTransaction"):
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "no transaction started"
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, stderr
        stops = csms.sent("CP-01", "StopTransaction")
        closed = {ocpp_id: c.close_code for ocpp_id, c in csms.connections.items()}
    assert [s["reason"] for s in stops] == ["Local"]
    assert json.loads(stdout)["vehicles"][0]["outcome"] == "stopped"
    assert closed == {"CP-01": 1000, "CP-02": 1000}  # closed cleanly


# Against a real `depotctl serve`: the bundled sites as shipped


SHARED = "SIM_OCPP_PASSWORD"


def _charger_count(site: Path) -> int:
    from depotctl.sim.chargers.run import load_charge_points

    return len(load_charge_points(site)[2])


#: The default run shares the password on the AU bus depot: secrets in files and in
#: variables, OCPP 1.6 and 2.0.1 chargers. Each bundled site's chargers all booting
#: against serve is the demo's test (tests/cli/test_demo.py, every site but the 300-
#: charger one); the others run here with the long checks (the 300-charger depot's boot
#: takes most of two cores).
SHARED_BY_DEFAULT = {"au-bus-depot"}


@pytest.mark.parametrize(
    "site",
    [
        pytest.param(site, marks=[] if site.stem in SHARED_BY_DEFAULT else [pytest.mark.slow])
        for site in sorted(SITES.glob("*.yaml"))
    ],
    ids=lambda path: path.stem,
)
def test_every_bundled_site_runs_as_shipped_with_one_simulation_password(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundled sites name secrets this machine lacks (/run/secrets/…, variables
    nobody set); serve and sim chargers share one password instead, and every charger
    boots."""
    for name in [n for n in os.environ if n.endswith("_OCPP_PASSWORD")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv(SHARED, "sim-secret")
    state = tmp_path / "state"
    with serve(
        state, "--site", str(site), "--clock", "sim", "--speed", "10",
        "--charger-password-env", SHARED,
    ) as running:  # fmt: skip
        token = (state / "tokens" / "readonly.token").read_text().strip()
        chargers_now = httpx.Client(
            base_url=running.api, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )  # a slow answer while 300 chargers boot is not a failure
        process = subprocess.Popen(
            [sys.executable, "-m", "depotctl", "sim", "chargers", "-f", str(site),
             "--state-dir", str(state), "--password-env", SHARED, "--format", "json",
             "--meter-interval", "1 min"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 180  # a hang, not a busy machine's slow start
            while True:
                seen = chargers_now.get("/api/v1/chargers").json()["chargers"]
                if len(seen) == _charger_count(site) and all(c["online"] for c in seen):
                    break
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, [c["id"] for c in seen if not c["online"]]
                time.sleep(0.2)
            process.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
            stdout, stderr = process.communicate(timeout=120)
        finally:
            chargers_now.close()
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert process.returncode == 0, stderr
        chargers = json.loads(stdout)["chargers"]
        assert len(chargers) == len(seen)
        assert [c["id"] for c in chargers if c["boots"] < 1] == []
        code, log = running.stop()
    assert code == 0
    assert f"every charger authenticates with the password in ${SHARED}" in log


def test_a_charger_the_controller_refuses_says_the_status_and_where_the_reason_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A controller without the site's secrets (no --charger-password-env) answers a
    bare 503; the simulator says so, and the controller's journal says why."""
    monkeypatch.setenv(SHARED, "sim-secret")
    monkeypatch.delenv("CP01_PASSWORD", raising=False)
    state = tmp_path / "state"
    with serve(state, "--site", str(EXAMPLES / "minimal.yaml"), "--clock", "sim") as running:
        result = depotctl(
            "-f", EXAMPLES / "minimal.yaml", "--state-dir", state, "--password-env", SHARED,
            "--duration", "1 s",
        )  # fmt: skip
        refused = running.get("/api/v1/journal?kind=charger.refused").json()["entries"]
        running.stop()
    assert result.returncode == 3
    said = (
        "refused by the controller: HTTP 503 (the controller cannot read its password: its "
        "password_file or password_env); depotctl journal --kind charger.refused says why"
    )
    assert f"depotctl sim chargers: CP-01: {said}\n" in result.stderr
    assert result.stderr.endswith(f"no charger could boot at {running.endpoints['ocpp']}: {said}\n")
    reasons = " ".join(entry["message"] for entry in refused)
    assert "CP01_PASSWORD" in reasons and "/etc/depotctl/cp02.secret" in reasons


def test_an_unset_shared_password_is_a_usage_error(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SHARED, raising=False)
    result = depotctl("-f", site, "--controller", "ws://127.0.0.1:9/ocpp", "--password-env", SHARED)
    assert result.returncode == 2
    assert result.stderr == (
        f"depotctl sim chargers: --password-env {SHARED}: the environment variable {SHARED} "
        f"is not set; export {SHARED}=PASSWORD, the password the controller expects (one "
        f"started with serve --charger-password-env {SHARED} reads the same variable)\n"
    )


def test_a_secret_file_this_machine_lacks_says_how_to_simulate_without_it() -> None:
    result = depotctl("-f", SITES / "large-depot.yaml", "--controller", "ws://127.0.0.1:9/ocpp")
    assert result.returncode == 3
    [line] = result.stderr.splitlines()
    assert line.startswith("depotctl sim chargers: charger ")
    assert "cannot read /run/secrets/ocpp/" in line
    assert line.endswith(
        "give them one password with --password-env VAR, and the controller the same with "
        "serve --clock sim --charger-password-env VAR"
    )
