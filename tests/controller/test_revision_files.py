"""A revision carries the files its site refers to (a shared tariff, carbon CSVs): the
controller runs what was planned, whatever later happens to the directory the site
came from; plans show what changed in those files; rollbacks bring them back."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from depotctl.cli.remote.revisions import _bundle
from depotctl.config import BundleError, check_bundle, referenced_files
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.routes.plans import plan_json
from depotctl.controller.service import Controller, checked_site
from depotctl.controller.services.revisions import apply_site, plan_site, rollback
from depotctl.controller.store import Store
from tests.conftest import SITES
from tests.controller.test_app import serving

TRUCKS = SITES / "us-truck-depot.yaml"
TARIFF = "tariffs/pge-a10-tou-2019.yaml"
PEAK = "price: 0.23223 /kWh"


@pytest.fixture
def depot(tmp_path: Path) -> Iterator[tuple[Controller, Path]]:
    """The truck depot copied into a working tree of its own (``tmp_path/git``) and
    seeded from there into a store in ``tmp_path/state``."""
    tree = tmp_path / "git"
    (tree / "tariffs").mkdir(parents=True)
    shutil.copy(TRUCKS, tree / "site.yaml")
    shutil.copy(SITES / TARIFF, tree / TARIFF)
    (tmp_path / "state").mkdir()
    clock = SimClock(datetime(2026, 3, 2, 18, 0, tzinfo=UTC), monotonic=lambda: 0.0)
    controller = Controller(Store.open(tmp_path / "state" / "s.sqlite"), clock, base_dir=tree)
    controller.seed(tree / "site.yaml", (tree / "site.yaml").read_text(), author="test")
    yield controller, tree
    controller.close()


def peak_price(controller: Controller) -> str:
    applied = controller.require_site()
    return (controller.base_dir_of(applied.revision) / TARIFF).read_text()


def test_the_seed_keeps_its_tariff_whatever_happens_to_the_working_tree(
    depot: tuple[Controller, Path],
) -> None:
    controller, tree = depot
    assert referenced_files(controller.require_site().site) == [TARIFF]
    assert controller.units().revisions.files(1) == {TARIFF: (tree / TARIFF).read_text()}
    (tree / TARIFF).write_text("not a tariff any more\n")  # the working tree moves on
    controller.reload()  # e.g. a restart: the revision still compiles, from its own files
    assert PEAK in peak_price(controller)
    assert controller.base_dir_of(controller.require_site().revision).is_relative_to(
        controller.store.path.parent / "revisions"
    )


def test_a_plan_with_only_the_tariff_changed_shows_the_tariff_change(
    depot: tuple[Controller, Path],
) -> None:
    controller, tree = depot
    text = (tree / "site.yaml").read_text()
    dearer = (tree / TARIFF).read_text().replace(PEAK, "price: 0.31 /kWh")
    plan = plan_json(plan_site(controller, text, path="site.yaml", files={TARIFF: dearer}))
    assert not plan["no_changes"]
    assert any("tariff" in change["path"] for change in plan["changes"]), plan["changes"]
    same = plan_json(plan_site(controller, text, files={TARIFF: (tree / TARIFF).read_text()}))
    assert same["no_changes"]


def test_apply_keeps_the_bundled_files_and_rollback_brings_back_the_old_ones(
    depot: tuple[Controller, Path],
) -> None:
    controller, tree = depot
    text = (tree / "site.yaml").read_text()
    dearer = (tree / TARIFF).read_text().replace(PEAK, "price: 0.31 /kWh")
    second = apply_site(
        controller, text, expected=1, author="t", message="dearer", files={TARIFF: dearer}
    )
    assert controller.units().revisions.files(second.number) == {TARIFF: dearer}
    assert "price: 0.31 /kWh" in peak_price(controller)
    third = rollback(controller, 1, expected=second.number, author="t", message=None)
    assert controller.units().revisions.files(third.number) == controller.units().revisions.files(1)
    assert PEAK in peak_price(controller)


def test_apply_without_files_bundles_what_resolves_on_the_host(
    depot: tuple[Controller, Path],
) -> None:
    controller, tree = depot
    text = (tree / "site.yaml").read_text() + "\n# a comment\n"
    revision = apply_site(controller, text, expected=1, author="t", message="m")
    assert controller.units().revisions.files(
        revision.number
    ) == controller.units().revisions.files(1)


@pytest.mark.parametrize("name", ["../escape.yaml", "/etc/passwd", "a/../../b", "a\\b", "", "a//b"])
def test_a_bundled_name_outside_the_site_directory_is_refused(name: str) -> None:
    with pytest.raises(BundleError):
        check_bundle({name: "x"})


def test_the_api_refuses_a_bad_bundle_and_a_tampered_saved_plan(
    depot: tuple[Controller, Path],
) -> None:
    controller, tree = depot
    text = (tree / "site.yaml").read_text()
    tokens = load_or_create_tokens(controller.store.path.parent)
    with serving(create_app(controller, tokens)) as url:
        headers = {"Authorization": f"Bearer {tokens.admin}"}
        with httpx.Client(base_url=url, headers=headers) as http:
            bad = http.post("/api/v1/plan", json={"site": text, "files": {"../x": "y"}})
            assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
            files = {TARIFF: (tree / TARIFF).read_text().replace(PEAK, "price: 0.3 /kWh")}
            plan = http.post("/api/v1/plan", json={"site": text, "files": files}).json()
            assert plan["files"] == files and plan["files_hash"]
            plan["files"] = {TARIFF: (tree / TARIFF).read_text()}  # edited after review
            refused = http.post("/api/v1/apply", json={"plan": plan}, headers={"If-Match": '"1"'})
            assert refused.status_code == 422 and refused.json()["code"] == "invalid_plan"
            assert controller.units().revisions.current().number == 1  # type: ignore[union-attr]


def test_the_cli_bundles_the_files_the_site_refers_to(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    shutil.copy(TRUCKS, site)
    (tmp_path / "tariffs").mkdir()
    shutil.copy(SITES / TARIFF, tmp_path / TARIFF)
    assert _bundle(site, site.read_text()) == {TARIFF: (SITES / TARIFF).read_text()}
    assert _bundle(site, "not: [a site") == {}
    checked_site(site.read_text(), path=site)  # the bundle is what validation reads
