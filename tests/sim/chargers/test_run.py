"""From flags to a fleet: random fault drills are drawn once for the whole fleet, from
the seed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from depotctl.sim.chargers.run import Options, prepare
from tests.conftest import EXAMPLES


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The minimal depot (two chargers), its passwords at hand."""
    text = (EXAMPLES / "minimal.yaml").read_text()
    text = text.replace("password_file: /etc/depotctl/cp02.secret", "password_file: cp02.secret")
    (tmp_path / "cp02.secret").write_text("two\n")
    monkeypatch.setenv("CP01_PASSWORD", "one")
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return path


def reboots(site: Path, seed: int, *modes: str) -> dict[str, tuple[float, ...]]:
    options = Options(site=site, controller="ws://127.0.0.1:9/ocpp", misbehave=modes, seed=seed)
    setup = asyncio.run(prepare(options))
    return {c.ocpp_id: c.misbehaviour.reboots.at_s for c in setup.fleet.chargers}


def test_random_reboots_are_drawn_for_the_fleet_from_the_seed(site: Path) -> None:
    drill = "*:reboot=random 50%/1h"
    drawn = reboots(site, 3, drill)
    assert sorted(len(at) for at in drawn.values()) == [0, 1]  # one of the two
    assert all(0 <= t < 3600 for at in drawn.values() for t in at)
    assert reboots(site, 3, drill) == drawn
    seeds = {tuple(sorted(reboots(site, seed, drill).items())) for seed in range(6)}
    assert len(seeds) > 1


def test_drawn_outages_reach_the_chargers(site: Path) -> None:
    options = Options(
        site=site,
        controller="ws://127.0.0.1:9/ocpp",
        misbehave=("*:offline=5min@random 100%/1h",),
        seed=2,
    )
    setup = asyncio.run(prepare(options))
    outages = [c.misbehaviour.outages for c in setup.fleet.chargers]
    assert [len(o) for o in outages] == [1, 1]
    assert all(o[0].duration_s == 300 and o[0].after_s < 3600 for o in outages)


def test_drawn_reboots_add_to_the_charger_s_own(site: Path) -> None:
    drawn = reboots(site, 1, "CP-01:reboot=random 100%/1h", "CP-01:reboot@2h")
    assert len(drawn["CP-01"]) == 2 and 7200.0 in drawn["CP-01"]
    assert drawn["CP-02"] == ()
