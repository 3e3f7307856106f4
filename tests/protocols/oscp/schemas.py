"""The OSCP 2.0 JSON Schemas in ``schema/oscp/`` (written by hand from the
specification), for tests: :func:`assert_conforms` checks a message's JSON body against
its schema, :func:`schema_problems` lists what is wrong with it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from depotctl.protocols.oscp import MESSAGES

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schema" / "oscp"
#: The shared types every message schema refers to.
TYPES = "types.schema.json"


def schema_file(message_name: str) -> Path:
    """The schema of a message, by its name in the specification (``Heartbeat``)."""
    if message_name not in MESSAGES:
        raise KeyError(f"no OSCP message {message_name!r}; known: {', '.join(sorted(MESSAGES))}")
    return SCHEMA_DIR / f"{MESSAGES[message_name].endpoint}.schema.json"


@cache
def _registry() -> Registry[Any]:
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT202012))
        for path in sorted(SCHEMA_DIR.glob("*.schema.json"))
    ]
    return Registry().with_resources(resources)


@cache
def validator(message_name: str) -> Draft202012Validator:
    schema = json.loads(schema_file(message_name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry())


def schema_problems(message_name: str, json_body: object) -> list[str]:
    """What the schema finds wrong with a body (parsed JSON, or its text), each as
    ``path: message``; empty when it conforms."""
    body = json.loads(json_body) if isinstance(json_body, str | bytes) else json_body
    return sorted(
        f"{error.json_path}: {error.message}" for error in validator(message_name).iter_errors(body)
    )


def assert_conforms(message_name: str, json_body: object) -> None:
    """Fail unless a body (parsed JSON, or its text) is a valid ``message_name`` per
    its OSCP 2.0 schema."""
    problems = schema_problems(message_name, json_body)
    assert not problems, f"{message_name} does not conform to its schema: " + "; ".join(problems)
