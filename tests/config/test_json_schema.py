"""The JSON Schema export: draft-07, strict about unknown fields, true to the examples."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from depotctl.config.json_schema import json_schema, render_json_schema, to_draft_07
from tests.conftest import EXAMPLES, SITES

LATER_DRAFT_KEYWORDS = (
    "$defs",
    "prefixItems",
    "unevaluatedProperties",
    "dependentRequired",
    "dependentSchemas",
    "$anchor",
    "$dynamicRef",
    "$id",
    "discriminator",
)


@cache
def _validator(kind: str) -> jsonschema.Draft7Validator:
    schema = json_schema(kind)  # type: ignore[arg-type]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _documents(path: Path) -> list[Any]:
    return [d for d in YAML(typ="safe", pure=True).load_all(path.read_text()) if d is not None]


def _errors(document: Any) -> list[str]:
    kind = document.get("kind") if isinstance(document, dict) else None
    validator = _validator("Tariff" if kind == "Tariff" else "Site")
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


@pytest.mark.parametrize("kind", ["Site", "Tariff"])
def test_schema_is_draft_07_with_title_and_no_id(kind: str) -> None:
    schema = json_schema(kind)  # type: ignore[arg-type]

    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["title"] == f"depotctl {kind}"
    assert schema["description"]
    assert "$id" not in schema
    assert not set(_keys(schema)) & set(LATER_DRAFT_KEYWORDS)


@pytest.mark.parametrize("kind", ["Site", "Tariff"])
def test_every_ref_is_a_definition_that_exists(kind: str) -> None:
    schema = json_schema(kind)  # type: ignore[arg-type]
    refs = set(_refs(schema))

    assert refs
    for ref in refs:
        assert ref.startswith("#/definitions/"), ref
        assert ref.removeprefix("#/definitions/") in schema["definitions"], ref


@pytest.mark.parametrize("kind", ["Site", "Tariff"])
def test_every_object_rejects_unknown_fields(kind: str) -> None:
    schema = json_schema(kind)  # type: ignore[arg-type]

    assert schema["additionalProperties"] is False
    for name, definition in schema["definitions"].items():
        if definition.get("type") == "object" and "properties" in definition:
            assert definition.get("additionalProperties") is False, name


def test_aliased_fields_appear_under_their_alias() -> None:
    site = json_schema("Site")["definitions"]
    tariff = json_schema("Tariff")["definitions"]

    assert "import" in site["Limits"]["properties"]
    assert "import_" not in site["Limits"]["properties"]
    assert "from" in tariff["EnergyWindow"]["properties"]
    assert "from_" not in tariff["EnergyWindow"]["properties"]


def test_quantities_are_strings_with_a_unit_pattern() -> None:
    limits = json_schema("Site")["definitions"]["Limits"]["properties"]
    power = next(s for s in limits["import"]["anyOf"] if s.get("type") == "string")

    validator = jsonschema.Draft7Validator(power)
    assert validator.is_valid("400 kW")
    assert validator.is_valid("400kW")
    assert not validator.is_valid("400")
    assert not validator.is_valid("400 kWh")


def test_rendered_text_is_stable_json() -> None:
    text = render_json_schema("Site")

    assert text.endswith("}\n")
    assert json.loads(text) == json_schema("Site")
    assert text == render_json_schema("Site")


def test_minimal_example_validates() -> None:
    (document,) = _documents(EXAMPLES / "minimal.yaml")

    assert _errors(document) == []


VALID_EXAMPLES = sorted((EXAMPLES / "valid").rglob("*.yaml"))


@pytest.mark.parametrize(
    "path", VALID_EXAMPLES, ids=[str(p.relative_to(EXAMPLES)) for p in VALID_EXAMPLES]
)
def test_valid_examples_validate(path: Path) -> None:
    for document in _documents(path):
        assert _errors(document) == []


BUNDLED_SITES = sorted(SITES.rglob("*.yaml"))


@pytest.mark.skipif(not BUNDLED_SITES, reason="no bundled sites yet")
@pytest.mark.parametrize(
    "path", BUNDLED_SITES, ids=[str(p.relative_to(SITES)) for p in BUNDLED_SITES]
)
def test_bundled_sites_validate(path: Path) -> None:
    for document in _documents(path):
        assert _errors(document) == []


def _minimal() -> dict[str, Any]:
    (document,) = _documents(EXAMPLES / "minimal.yaml")
    assert isinstance(document, dict)
    return document


def test_unknown_field_is_rejected() -> None:
    document = _minimal()
    document["spec"]["nodes"][0]["limit"] = {"import": "100 kW"}  # typo for limits

    assert _errors(document)


def test_quantity_without_unit_is_rejected() -> None:
    document = _minimal()
    document["spec"]["nodes"][0]["limits"]["import"] = "100"

    assert any("spec/nodes/0" in e for e in _errors(document))


def test_unknown_node_type_and_wrong_kind_are_rejected() -> None:
    document = _minimal()
    document["spec"]["nodes"][1]["type"] = "busbar"
    assert _errors(document)

    document = _minimal()
    document["kind"] = "Depot"
    assert any(e.startswith("kind:") for e in _errors(document))


def test_draft_2020_keywords_are_converted() -> None:
    converted = to_draft_07(
        {
            "$defs": {
                "Pair": {
                    "prefixItems": [{"type": "string"}, {"type": "integer"}],
                    "items": False,
                    "$anchor": "pair",
                }
            },
            "type": "object",
            "properties": {"discriminator": {"type": "string"}, "pair": {"$ref": "#/$defs/Pair"}},
            "dependentRequired": {"a": ["b"]},
            "dependentSchemas": {"c": {"required": ["d"]}},
            "unevaluatedProperties": False,
            "discriminator": {"propertyName": "type"},
        }
    )

    assert converted == {
        "definitions": {
            "Pair": {"items": [{"type": "string"}, {"type": "integer"}], "additionalItems": False}
        },
        "type": "object",
        "properties": {"discriminator": {"type": "string"}, "pair": {"$ref": "#/definitions/Pair"}},
        "dependencies": {"a": ["b"], "c": {"required": ["d"]}},
        "additionalProperties": False,
    }
