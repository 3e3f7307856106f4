"""``depotctl sim derms`` as run: a subprocess against a real ``serve`` (×300), with a
silence on cue and a stop at ``--until``, both on the controller's clock; and its
refusals, each naming the thing and what to do, with the contract's exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from depotctl.cli.app import app
from tests.conftest import EXAMPLES, SITES
from tests.sim.derms.running import INITIAL_TOKEN, SOURCE, TOKEN_ENV, depot

PROFILE = """\
forecasts:
  - blocks:
      - {start: "+30min", duration: 1h, capacity: 700 kW}
"""


def _derms(*args: str | Path, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        app, ["sim", "derms", *map(str, args)], env={"NO_COLOR": "1", **(env or {})}
    )


def test_a_run_with_a_silence_on_cue_until_a_time_of_the_controllers_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, INITIAL_TOKEN)
    here = depot(tmp_path, PROFILE)
    here.sock.close()  # the command binds the site's port itself
    with here.serve() as controller:
        started = datetime.fromisoformat(controller.get("/api/v1/clock").json()["time"])
        done = subprocess.run(
            [
                sys.executable, "-m", "depotctl", "sim", "derms",
                "-f", str(here.site), "--state-dir", str(here.state_dir),
                "--profile", str(here.profile),
                "--silent-at", "+8min", "--silent-for", "4min", "--until", "+20min",
                "--format", "json",
            ],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"listening at http://127.0.0.1:{here.port}/oscp/cp/2.0" in done.stderr
    assert "silent, as asked" in done.stderr and "heard from again" in done.stderr
    summary = json.loads(done.stdout)
    assert (summary["source"], summary["group_id"]) == (SOURCE, "BUS-DEPOT-LV-0042")
    [silence] = summary["silences"]
    went, back = (datetime.fromisoformat(silence[k]) for k in ("start", "end"))
    start, end = (datetime.fromisoformat(summary[k]) for k in ("start", "end"))
    # on the controller's clock (how late a pass sees each cue depends on the machine)
    assert started <= start and start + timedelta(minutes=8) <= went
    assert start + timedelta(minutes=12) <= back <= end and went < back
    assert end >= start + timedelta(minutes=20)
    # what was sent and received depends on how soon the two met at ×300 on this
    # machine: test_run.py polls for that; here, the summary's shape
    assert set(summary) >= {"forecasts_sent", "heartbeats_sent", "periods", "registered_at"}


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["-f", EXAMPLES / "minimal.yaml"], 1, "declares no OSCP envelope source to simulate"),
        (["-f", SITES / "au-bus-depot.yaml", "--silent-for", "5min"], 2, "needs --silent-at"),
        (["-f", SITES / "au-bus-depot.yaml", "--listen", "nowhere"], 2, "is not HOST:PORT"),
        (
            ["-f", SITES / "large-depot.yaml"],
            2,
            "declares OSCP sources dnsp-north, dnsp-south; choose one with --source ID",
        ),
        (
            ["-f", SITES / "au-bus-depot.yaml", "--source", "dnsp"],
            2,
            "no OSCP source 'dnsp'; it has ausgrid-oscp",
        ),
    ],
    ids=["no-oscp-source", "silent-for-alone", "listen", "several-sources", "unknown-source"],
)
def test_refusals_name_the_thing_and_what_to_do(
    tmp_path: Path, args: list[str | Path], code: int, says: str
) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE)
    result = _derms(*args, "--profile", profile, env={TOKEN_ENV: INITIAL_TOKEN})
    assert result.exit_code == code, result.output
    assert says in " ".join(result.output.split())


def test_the_initial_token_unset_is_a_usage_error_naming_its_variable(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE)
    result = CliRunner().invoke(
        app, ["sim", "derms", "-f", str(SITES / "au-bus-depot.yaml"), "--profile", str(profile)]
    )
    assert result.exit_code == 2
    assert TOKEN_ENV in result.output and "initial OSCP token" in result.output


def test_a_bad_profile_is_refused_at_its_place_and_an_https_source_needs_listen(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "forecasts:\n  - blocks:\n      - {start: '+1h', duration: 1h, capacity: 5 kWh}\n"
    )
    site = SITES / "au-bus-depot.yaml"
    env = {TOKEN_ENV: INITIAL_TOKEN}
    refused = _derms("-f", site, "--profile", bad, env=env)
    assert refused.exit_code == 1
    assert "forecasts[0].blocks[0].capacity" in " ".join(refused.output.split())
    good = tmp_path / "good.yaml"
    good.write_text(PROFILE)
    https = _derms("-f", site, "--profile", good, env=env)
    assert https.exit_code == 2
    assert "give --listen HOST:PORT" in " ".join(https.output.split())
