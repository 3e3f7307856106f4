"""The site's vehicles: an id listed twice, or an idTag given to two vehicles (in any
case), is named at the repeat's file:line:col; a well-formed list is clean and
becomes the roster the controller reads tokens by."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from depotctl.config import site_vehicles
from depotctl.config.schema import Site
from depotctl.domain.vehicles import token_key
from tests.config.checks.validating import diagnostics, only


def test_vehicles_with_their_own_ids_and_tags_are_clean(
    tmp_path: Path, minimal_site_text: str
) -> None:
    text = minimal_site_text + (
        "  vehicles:\n"
        "    - {id: bus-42, fleet: sydney-buses, id_tags: [04A1B2C3, '12345678']}\n"
        "    - {id: bus-43, id_tags: [04A1B2C4]}\n"
    )
    assert diagnostics(tmp_path, text) == []


def test_a_vehicle_listed_twice_is_named_at_the_repeat(
    tmp_path: Path, minimal_site_text: str
) -> None:
    text = minimal_site_text + (
        "  vehicles:\n    - {id: bus-42, id_tags: [A1]}\n    - {id: bus-42, id_tags: [A2]}\n"
    )
    found = only(diagnostics(tmp_path, text), "vehicles/duplicate-id")
    assert found.message == 'vehicle id "bus-42" is already listed at spec.vehicles[0]'
    assert found.span is not None
    assert (found.span.line, found.span.column) == (len(text.splitlines()), 12)


@pytest.mark.parametrize("repeat", ["04a1b2c3", "04A1B2C3"])
def test_a_tag_given_to_two_vehicles_is_named_in_any_case(
    tmp_path: Path, minimal_site_text: str, repeat: str
) -> None:
    text = minimal_site_text + (
        "  vehicles:\n"
        "    - {id: bus-42, id_tags: [04A1B2C3]}\n"
        f"    - {{id: bus-43, id_tags: [X9, {repeat}]}}\n"
    )
    found = only(diagnostics(tmp_path, text), "vehicles/duplicate-id-tag")
    assert found.message == (
        f'idTag "{repeat}" of vehicle bus-43 already belongs to vehicle bus-42 (spec.vehicles[0])'
    )
    line = text.splitlines()[-1]
    assert found.span is not None
    assert (found.span.line, found.span.column) == (len(text.splitlines()), line.index(repeat) + 1)
    assert found.location == f"{found.file}:{len(text.splitlines())}:{line.index(repeat) + 1}"


@pytest.mark.parametrize(
    ("tag", "rule"), [("'has space'", "schema/invalid-value"), ("12345678", "schema/wrong-type")]
)
def test_a_tag_that_is_no_token_is_a_schema_error(
    tmp_path: Path, minimal_site_text: str, tag: str, rule: str
) -> None:
    text = minimal_site_text + f"  vehicles:\n    - {{id: bus-42, id_tags: [{tag}]}}\n"
    found = only(diagnostics(tmp_path, text), rule)
    assert found.hint is not None and '"12345678"' in found.hint


def test_the_roster_finds_a_vehicle_by_any_case_of_its_tag(minimal_site_text: str) -> None:
    text = (
        minimal_site_text
        + "  vehicles:\n    - {id: bus-42, fleet: sydney-buses, id_tags: [04A1B2C3]}\n"
    )
    roster = site_vehicles(Site.model_validate(yaml.safe_load(text)))
    found = roster.of_token(" 04a1b2c3 ")
    assert found is not None and (found.id, found.fleet) == ("bus-42", "sydney-buses")
    assert roster.of_token("04A1B2C4") is None
    assert roster.of_token(None) is None
    assert token_key(" ab ") == "AB"
