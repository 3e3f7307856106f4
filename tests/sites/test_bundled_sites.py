"""The bundled sites in ``sites/``: clean under validate, and true to what they model."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from depotctl.config import Charger, GridConnection, Site, SiteContext, load_file, validate_file
from tests.conftest import ACN_DATA, ROOT, SITES

BUNDLED = sorted(p for p in SITES.rglob("*") if p.suffix in (".yaml", ".yml"))
ACN_CSVS = sorted(ACN_DATA.glob("caltech_*.csv.gz"))


def _site(name: str) -> SiteContext:
    path = SITES / name
    loaded = load_file(path)
    model = loaded.documents[0].model
    assert isinstance(model, Site), loaded.report.diagnostics
    return SiteContext(model, path.parent, path)


def _station_ids(path: Path) -> set[str]:
    with gzip.open(path, "rt", newline="") as stream:
        return {row["station_id"] for row in csv.DictReader(stream)}


def test_the_four_sites_and_their_tariffs_are_bundled() -> None:
    names = {p.relative_to(SITES).as_posix() for p in BUNDLED}
    assert {
        "au-bus-depot.yaml",
        "us-truck-depot.yaml",
        "large-depot.yaml",
        "caltech-acn.yaml",
        "tariffs/pge-a10-tou-2019.yaml",
        "tariffs/sce-tou-ev-4-2019.yaml",
    } <= names


@pytest.mark.parametrize("path", BUNDLED, ids=[p.relative_to(SITES).as_posix() for p in BUNDLED])
def test_bundled_file_has_no_diagnostics(path: Path) -> None:
    report = validate_file(path)
    assert [f"{d.rule} {d.span}: {d.message}" for d in report.diagnostics] == []


@pytest.mark.parametrize("path", BUNDLED, ids=[p.relative_to(SITES).as_posix() for p in BUNDLED])
def test_bundled_file_starts_with_its_schema_modeline(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    schema = "tariff" if path.parent.name == "tariffs" else "site"
    depth = "../" * len(path.relative_to(SITES).parts)
    assert first == f"# yaml-language-server: $schema={depth}schema/{schema}.schema.json"


def test_caltech_has_54_single_evse_chargers_named_by_acn_station_id() -> None:
    ctx = _site("caltech-acn.yaml")
    assert len(ctx.chargers) == 54
    assert all(len(c.evses) == 1 for c in ctx.chargers)
    external = [c.evses[0].external_id for c in ctx.chargers]
    assert len(set(external)) == 54
    assert all(c.ocpp.id == c.evses[0].external_id for c in ctx.chargers)


def test_caltech_phase_pairs_and_pods_match_acnportal() -> None:
    ctx = _site("caltech-acn.yaml")
    pairs = Counter(c.phase_rotation for c in ctx.chargers)
    assert pairs == {"L1-L2": 26, "L2-L3": 14, "L3-L1": 14}
    for pod in ("av-pod", "cc-pod"):
        members = [c for c in ctx.chargers if c.parent == pod]
        assert len(members) == 8
        assert {c.phase_rotation for c in members} == {"L1-L2"}
        limits = ctx.nodes[pod].limits  # type: ignore[union-attr]
        assert limits is not None and limits.current is not None
        assert limits.current.base == 80


def test_caltech_station_ids_cover_the_acn_data_sessions() -> None:
    """ACN-Data has sessions on 52 of the 54 stations in May-August 2019 (none on CA-149
    or CA-509) and on 53 over May-December (none on CA-149): every station in the data
    is in the model, and the model's extra stations are exactly those idle ones."""
    model = {c.evses[0].external_id for c in _site("caltech-acn.yaml").chargers}
    summer = _station_ids(ACN_DATA / "caltech_2019-05-01_2019-08-31.csv.gz")
    everything = set().union(*(_station_ids(p) for p in ACN_CSVS))
    assert summer <= model
    assert model - summer == {"CA-149", "CA-509"}
    assert everything <= model
    assert model - everything == {"CA-149"}


def test_large_depot_has_300_chargers_on_two_grid_connections() -> None:
    ctx = _site("large-depot.yaml")
    assert len(ctx.chargers) == 300
    grid = [n for n in ctx.node_list if isinstance(n, GridConnection)]
    assert sorted(n.id for n in grid) == ["gc-north", "gc-south"]
    below = Counter(ctx.ancestors(c)[-1].id for c in ctx.chargers)
    assert below == {"gc-north": 150, "gc-south": 150}


def test_large_depot_is_the_generators_current_output() -> None:
    script = ROOT / "scripts" / "generate_large_site.py"
    spec = importlib.util.spec_from_file_location("generate_large_site", script)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = generator  # its dataclasses look their module up
    try:
        spec.loader.exec_module(generator)
    finally:
        del sys.modules[spec.name]
    text = (SITES / "large-depot.yaml").read_text(encoding="utf-8")
    assert generator.render() == text
    assert 3000 <= text.count("\n") <= 4000


def test_truck_depot_line_to_line_chargers_are_balanced_across_the_pairs() -> None:
    ctx = _site("us-truck-depot.yaml")
    line_to_line = [c for c in ctx.chargers if c.phase_connection is not None and c.phases == 1]
    pairs = Counter(c.phase_rotation for c in line_to_line)
    assert set(pairs) == {"L1-L2", "L2-L3", "L3-L1"}
    assert len(set(pairs.values())) == 1
    for charger in line_to_line:
        assert ctx.voltage_of(charger).volts == pytest.approx(208 / 3**0.5, abs=0.1)
        assert any(a.type == "transformer" for a in ctx.ancestors(charger))


def test_truck_depot_dc_chargers_are_on_the_480_v_side() -> None:
    ctx = _site("us-truck-depot.yaml")
    dc = [c for c in ctx.chargers if isinstance(c, Charger) and c.supply == "dc"]
    assert len(dc) == 6
    for charger in dc:
        assert ctx.voltage_of(charger).volts == 277
        assert all(a.type != "transformer" for a in ctx.ancestors(charger))
