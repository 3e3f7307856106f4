"""500 simulated chargers against one ``depotctl serve`` (issue 5's speed targets).

    .venv/bin/python benchmarks/ocpp_fleet.py [--chargers 500] [--sustain 60]

Generates a depot of N chargers (a quarter OCPP 2.0.1, the rest 1.6J; ten boards
under one grid connection; passwords from one environment variable), starts
``depotctl serve --clock real`` on it and the simulated chargers in a process of
their own (this script with ``--simulate``), every charger with a vehicle that wants
more than it gets. Once every session holds a dynamic profile:

(a) an envelope cut on the grid connection, POSTed through the API: the time from
    the POST to the last affected charger's acceptance of its lower profile (the
    chargers log the wall time of every request and answer). Target: < 2 s.
(b) meter values from every charger every 10 s, for ``--sustain`` seconds: the
    controller process's CPU time (utime + stime from ``/proc/PID/stat``) over that
    window, as a share of one core. Target: < 0.5.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD_ENV = "BENCH_OCPP_PASSWORD"
BOARDS = 10
CUT_TARGET_S = 2.0
CPU_TARGET = 0.5


def site_text(chargers: int) -> str:
    """N chargers (22 kW / 32 A, fallback 6 A) over ten boards; every fourth 2.0.1."""
    lines = [
        "apiVersion: depotctl/v1",
        "kind: Site",
        "metadata: {name: bench-ocpp-fleet, timezone: Australia/Sydney}",
        "spec:",
        "  electrical: {voltage: 230 V, phases: 3}",
        "  nodes:",
        "    - id: gc-main",
        "      type: grid_connection",
        f"      limits: {{import: {chargers * 10} kW, current: {chargers * 12} A}}",
    ]
    per_board = -(-chargers // BOARDS)
    for board in range(BOARDS):
        lines += [
            f"    - id: db-{board:02d}",
            "      type: circuit",
            "      parent: gc-main",
            f"      limits: {{current: {per_board * 20} A}}",
        ]
    for n in range(chargers):
        protocol = "ocpp2.0.1" if n % 4 == 3 else "ocpp1.6"
        lines += [
            f"    - id: chg-{n:03d}",
            "      type: charger",
            f"      parent: db-{n // per_board:02d}",
            f"      ocpp: {{id: CP-{n:03d}, protocol: {protocol}, password_env: {PASSWORD_ENV}}}",
            "      rating: {power: 22 kW, current: 32 A}",
            "      phases: 3",
            "      fallback: 6 A",
            "      evses: [{id: 1, connectors: [{id: 1, type: Type2}]}]",
        ]
    return "\n".join(lines) + "\n"


def scenario_text(chargers: int) -> str:
    """A vehicle on every EVSE from the start, wanting 200 kWh by +12 h."""
    vehicles = "\n".join(
        f"  - {{id: v{n:03d}, evse: chg-{n:03d}/1, arrival: +1 s, departure: +12 h,"
        f" energy: 200 kWh}}"
        for n in range(chargers)
    )
    return "vehicles:\n" + vehicles + "\n"


# -- the simulator's process ----------------------------------------------------------


def simulate(site: Path, state_dir: Path, scenario: Path, dump: Path) -> None:
    """Run the fleet until SIGTERM; on SIGUSR1 (and at the end) write every charger's
    receive log and counters to ``dump``."""
    from depotctl.sim.chargers.fleet import Fleet
    from depotctl.sim.chargers.run import Options, prepare
    from depotctl.sim.controller_ref import ControllerRef

    def write(fleet: Fleet) -> None:
        chargers = []
        for charger in fleet.chargers:
            profiles = [
                {
                    "wall_s": r.wall_s,
                    "answered_wall_s": r.answered_wall_s,
                    "accepted": r.verdict.accepted if r.verdict else None,
                    "limit_a": _limit_a(r.payload),
                    "dynamic": _stack_level(r.payload) > 0,
                }
                for r in charger.received
                if r.action == "SetChargingProfile"
            ]
            chargers.append(
                {
                    "evse": charger.charge_point.evses[0].evse_id,
                    "online": charger.online,
                    "meter_values_sent": charger.stats.meter_values_sent,
                    "messages_refused": charger.stats.messages_refused,
                    "messages_unanswered": charger.stats.messages_unanswered,
                    "profiles": profiles,
                }
            )
        scratch = dump.with_suffix(".tmp")
        scratch.write_text(json.dumps({"at": time.time(), "chargers": chargers}))
        scratch.replace(dump)

    async def main() -> None:
        setup = await prepare(
            Options(
                site=site,
                where=ControllerRef(state_dir=state_dir),
                vehicles=scenario,
                meter_interval_s=10.0,
            )
        )
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, setup.fleet.stop)
        loop.add_signal_handler(signal.SIGUSR1, lambda: write(setup.fleet))
        await setup.fleet.run()
        write(setup.fleet)

    asyncio.run(main())


def _profile(payload: dict[str, Any]) -> dict[str, Any]:
    found = payload.get("csChargingProfiles", payload.get("chargingProfile"))
    return found if isinstance(found, dict) else {}


def _stack_level(payload: dict[str, Any]) -> int:
    return int(_profile(payload).get("stackLevel", 0))


def _limit_a(payload: dict[str, Any]) -> float:
    schedule = _profile(payload)["chargingSchedule"]
    if isinstance(schedule, list):
        schedule = schedule[0]
    limit = float(schedule["chargingSchedulePeriod"][0]["limit"])
    return limit / 690.0 if schedule["chargingRateUnit"] == "W" else limit


# -- the benchmark --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of process ``pid`` (its threads included), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_command(
    state: Path, site: Path, *, tick: str = "5s", oscp_listen: str = "127.0.0.1:0"
) -> list[str]:
    """``depotctl serve --clock real`` of ``site`` on free loopback ports."""
    return [
        *(sys.executable, "-m", "depotctl", "serve", "--state-dir", str(state)),
        *("--site", str(site), "--clock", "real", "--tick", tick),
        *("--listen", f"127.0.0.1:{free_port()}"),
        *("--ocpp-listen", f"127.0.0.1:{free_port()}"),
        *("--oscp-listen", oscp_listen),
    ]


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, and a kill if it is still up 30 s later."""
    if process is None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_for(check: Any, within_s: float, what: str) -> Any:
    deadline = time.monotonic() + within_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up: {what} not within {within_s} s")
        time.sleep(0.25)
    return result


def read_dump(sim: subprocess.Popen[bytes], dump: Path) -> dict[str, Any]:
    before = dump.stat().st_mtime if dump.exists() else 0.0
    sim.send_signal(signal.SIGUSR1)
    wait_for(lambda: dump.exists() and dump.stat().st_mtime > before, 30, "the fleet's dump")
    data: dict[str, Any] = json.loads(dump.read_text())
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=500)
    parser.add_argument("--sustain", type=float, default=60.0)
    parser.add_argument("--simulate", nargs=4, metavar=("SITE", "STATE", "SCENARIO", "DUMP"))
    args = parser.parse_args()
    if args.simulate:
        simulate(*map(Path, args.simulate))
        return
    run(args.chargers, args.sustain)


def run(count: int, sustain_s: float) -> None:
    env = {**os.environ, PASSWORD_ENV: "bench-secret", "NO_COLOR": "1"}
    with tempfile.TemporaryDirectory(prefix="ocpp-fleet-") as scratch:
        tmp = Path(scratch)
        site, scenario, dump = tmp / "site.yaml", tmp / "scenario.yaml", tmp / "fleet.json"
        site.write_text(site_text(count))
        scenario.write_text(scenario_text(count))
        state = tmp / "state"
        log = (tmp / "serve.log").open("w")
        serve = subprocess.Popen(
            serve_command(state, site),
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
        sim: subprocess.Popen[bytes] | None = None
        try:
            wait_for(lambda: (state / "endpoints.json").exists(), 30, "serve's endpoints.json")
            api = json.loads((state / "endpoints.json").read_text())["api"]
            token = (state / "tokens" / "admin.token").read_text().strip()
            client = httpx.Client(
                base_url=api + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            started = time.monotonic()
            sim = subprocess.Popen(
                [sys.executable, __file__, "--simulate", *map(str, (site, state, scenario, dump))],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            print(f"{count} chargers ({count // 4} OCPP 2.0.1), controller pid {serve.pid}")

            def sessions() -> int:
                return len(client.get("/sessions").json()["sessions"])

            wait_for(lambda: sessions() == count, 120, f"{count} sessions")

            def settled() -> dict[str, float] | None:
                state_now = client.get("/state").json()
                limits = {e["id"]: e["limit_a"] for e in state_now["evses"]}
                held = {
                    c["evse"]: [p for p in c["profiles"] if p["dynamic"] and p["accepted"]]
                    for c in read_dump(sim, dump)["chargers"]
                }
                ok = all(held[e] and abs(held[e][-1]["limit_a"] - limits[e]) < 0.05 for e in held)
                return limits if ok else None

            before = wait_for(settled, 120, "every charger holding its dynamic limit")
            print(
                f"  connected, booted, charging and under control in {time.monotonic() - started:.1f} s"
            )

            # (a) an envelope cut on the grid connection
            now = client.get("/clock").json()["time"]
            posted_at = time.time()
            response = client.post(
                "/envelopes",
                json={
                    "id": "bench-cut",
                    "target": "gc-main",
                    "limit": f"{count * 8} A",
                    "start": now,
                    "end": "2099-01-01T00:00:00Z",
                },
            )
            assert response.status_code == 201, response.text
            time.sleep(4.0)
            after = {e["id"]: e["limit_a"] for e in client.get("/state").json()["evses"]}
            affected = {e for e in before if after[e] < before[e] - 1e-9}
            lowered: dict[str, float] = {}
            for charger in read_dump(sim, dump)["chargers"]:
                if charger["evse"] not in affected:
                    continue
                for p in charger["profiles"]:
                    if (
                        p["dynamic"]
                        and p["accepted"]
                        and p["wall_s"] >= posted_at
                        and p["limit_a"] <= after[charger["evse"]] + 0.05
                    ):
                        lowered[charger["evse"]] = p["answered_wall_s"] - posted_at
                        break
            missing = affected - set(lowered)
            slowest = max(lowered.values()) if lowered else float("nan")
            met = not missing and slowest < CUT_TARGET_S
            print(
                f"  (a) envelope cut: {len(affected)} chargers affected, {len(lowered)} accepted "
                f"a lower profile; the last {slowest:.2f} s after the POST "
                f"(median {sorted(lowered.values())[len(lowered) // 2]:.2f} s)"
                f" — target < {CUT_TARGET_S:g} s: {'met' if met else 'NOT met'}"
                + (f"; {len(missing)} never did" if missing else "")
            )

            # (b) meter values from every charger every 10 s, sustained
            first = read_dump(sim, dump)["chargers"]
            cpu0, wall0 = cpu_seconds(serve.pid), time.monotonic()
            time.sleep(sustain_s)
            cpu1, wall1 = cpu_seconds(serve.pid), time.monotonic()
            last = read_dump(sim, dump)["chargers"]
            sent = sum(c["meter_values_sent"] for c in last) - sum(
                c["meter_values_sent"] for c in first
            )
            refused = sum(c["messages_refused"] for c in last)
            unanswered = sum(c["messages_unanswered"] for c in last)
            online = sum(c["online"] for c in last)
            share = (cpu1 - cpu0) / (wall1 - wall0)
            per_charger = sent / count / ((wall1 - wall0) / 10.0)
            print(
                f"  (b) {wall1 - wall0:.0f} s with {online}/{count} online: {sent} meter values "
                f"({sent / (wall1 - wall0):.1f}/s, {per_charger:.2f} per charger per 10 s), "
                f"{refused} refused, {unanswered} unanswered; controller CPU "
                f"{cpu1 - cpu0:.1f} s = {share:.2f} of a core"
                f" — target < {CPU_TARGET:g}: {'met' if share < CPU_TARGET else 'NOT met'}"
            )
        finally:
            stop(sim)
            stop(serve)
            log.close()


if __name__ == "__main__":
    main()
