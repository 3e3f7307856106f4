"""Hypothesis strategies from the OCPP JSON schemas the ``ocpp`` library ships:
payloads that follow a message's schema, the same payloads with one thing broken,
and raw frames of any shape.

The schemas (draft-04) use a small part of JSON Schema — ``type``, ``properties``,
``required``, ``additionalProperties``, ``$ref`` to ``definitions``, ``enum``,
``maxLength``, ``items`` with ``minItems``/``maxItems``, ``minimum``/``maximum``,
``multipleOf`` and the ``date-time`` format — and :func:`payloads` covers all of it;
anything else makes it raise, so a new schema feature cannot be skipped silently.
Whether a payload really is valid is decided by the library's own validator
(:func:`is_valid`), not assumed from how it was made.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from functools import cache
from typing import Any

import ocpp
from hypothesis import strategies as st
from ocpp.messages import MessageType, get_validator

_HANDLED = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "$ref",
    "definitions",
    "enum",
    "maxLength",
    "items",
    "minItems",
    "maxItems",
    "additionalItems",
    "minimum",
    "maximum",
    "multipleOf",
    "format",
    # words that say nothing about the values
    "$schema",
    "$id",
    "id",
    "description",
    "javaType",
    "comment",
    "title",
    "default",
}
#: Arrays are drawn at most this long (beyond their minimum), strings this long.
_ARRAY_MAX = 3
_STRING_MAX = 40
#: Values that reach past the first checks: the test chargers' EVSE numbers, the
#: transaction ids the test rig hands out, a station's own transaction ids (the
#: same connection serves many examples, so a transaction started by one is met by
#: the next).
_USUAL_INTEGERS = (0, 1, 2, 100, 101)
_USUAL_STRINGS = ("", "1", "100", "tx-1", "tx-2")
#: Values that break readers that assume small numbers.
_EXTREME_INTEGERS = (0, -1, 2**31 - 1, 2**31, -(2**31) - 1, 2**63, 10**300, -(10**300))
#: NaN and the infinities are not JSON, but Python reads them (``NaN``, ``Infinity``)
#: and the schema's ``number`` takes them.
_EXTREME_NUMBERS = (
    0.0,
    -0.0,
    1e-300,
    1e300,
    -1e300,
    1.7976931348623157e308,
    math.nan,
    math.inf,
    -math.inf,
)


@cache
def schema(action: str, version: str) -> dict[str, Any]:
    """The library's schema of ``action``'s request in ``version`` (``1.6``, ``2.0.1``)."""
    name = action if version == "1.6" else f"{action}Request"
    folder = "v16" if version == "1.6" else "v201"
    path = os.path.join(os.path.dirname(ocpp.__file__), folder, "schemas", f"{name}.json")
    with open(path, encoding="utf-8-sig") as file:
        loaded: dict[str, Any] = json.load(file)
    return loaded


def is_valid(action: str, version: str, payload: Any, kind: int = MessageType.Call) -> bool:
    """What the library's validator says of ``payload`` (as it reads it from JSON)."""
    return bool(get_validator(kind, action, version).is_valid(json.loads(json.dumps(payload))))


def payloads(action: str, version: str) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads of ``action`` that follow its schema."""
    root = schema(action, version)
    return _values(root, root)  # type: ignore[return-value]


def _values(node: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    unknown = set(node) - _HANDLED
    if unknown:
        raise NotImplementedError(f"schema keywords not drawn: {sorted(unknown)}")
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/definitions/")
        return st.deferred(lambda: _values(root["definitions"][name], root))
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type")
    if kind == "object":
        return _objects(node, root)
    if kind == "array":
        item = _values(node.get("items", {}), root)
        low = node.get("minItems", 0)
        return st.lists(
            item, min_size=low, max_size=min(node.get("maxItems", 99), low + _ARRAY_MAX)
        )
    if kind == "string":
        if node.get("format") == "date-time":
            return _timestamps()
        if node.get("format") == "uri":
            return st.just("https://example.invalid/x")
        longest = min(node.get("maxLength", _STRING_MAX), _STRING_MAX)
        usual = [text for text in _USUAL_STRINGS if len(text) <= longest]
        return st.one_of(st.sampled_from(usual), st.text(max_size=longest))
    if kind == "integer":
        low, high = _bound(node.get("minimum")), _bound(node.get("maximum"))
        usual = [n for n in _USUAL_INTEGERS if _within(n, low, high)]
        extremes = [n for n in _EXTREME_INTEGERS if _within(n, low, high)]
        return st.one_of(
            st.sampled_from(usual or [low or 0]),
            st.integers(low, high),
            st.sampled_from(extremes or [low or 0]),
        )
    if kind == "number":
        return _numbers(node)
    if kind == "boolean":
        return st.booleans()
    if kind is None:  # any JSON value (a vendor's data)
        return json_values()
    raise NotImplementedError(f"schema type not drawn: {kind!r}")


def _objects(node: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = node.get("properties", {})
    required = set(node.get("required", ()))
    return st.fixed_dictionaries(
        {name: _values(properties[name], root) for name in properties if name in required},
        optional={
            name: _values(properties[name], root) for name in properties if name not in required
        },
    )


def _numbers(node: dict[str, Any]) -> st.SearchStrategy[float]:
    low, high, step = node.get("minimum"), node.get("maximum"), node.get("multipleOf")
    if step is not None:
        first = None if low is None else -(-low // step)
        last = None if high is None else high // step
        return st.integers(first, last).map(lambda n: round(n * step, 6))
    extremes = [x for x in _EXTREME_NUMBERS if _within(x, low, high)]
    finite = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return st.one_of(finite, st.sampled_from(extremes)) if extremes else finite


def _bound(value: float | None) -> int | None:
    return None if value is None else int(value)


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _timestamps() -> st.SearchStrategy[str]:
    moments = st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
    )
    formatted = moments.map(lambda at: at.isoformat().replace("+00:00", "Z"))
    # a charger's clock gone wrong: the schema does not check the format
    odd = st.sampled_from(["", "now", "2026-13-45T99:00:00Z", "0000-00-00T00:00:00", "9" * 40])
    return st.one_of(formatted, odd)


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value (finite numbers; NaN is not JSON)."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=_STRING_MAX),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


# Breaking a payload


@st.composite
def broken(draw: st.DrawFn, payload: dict[str, Any]) -> Any:
    """``payload`` with one thing changed: a member removed or added, or a value
    replaced by one of another type, an unknown enum value or an over-long string.
    (It may still be valid: removing an optional member is.)"""
    copy = json.loads(json.dumps(payload))
    path = draw(st.sampled_from(_paths(copy)))
    how = draw(st.sampled_from(["remove", "add", "retype", "enum", "long"]))
    junk = json_values(4)
    if not path:  # the payload itself: it gets a member it does not know
        copy[draw(st.text(min_size=1, max_size=12))] = draw(junk)
        return copy
    parent, key = _at(copy, path[:-1]), path[-1]
    value = parent[key]
    if how == "remove":
        del parent[key]
    elif how == "add" and isinstance(value, dict):
        value[draw(st.text(min_size=1, max_size=12))] = draw(junk)
    elif how == "add" and isinstance(parent, list):
        parent.append(draw(junk))
    elif how == "add":
        parent[draw(st.text(min_size=1, max_size=12))] = draw(junk)
    elif how == "enum":
        parent[key] = draw(st.text(max_size=20))
    elif how == "long":
        parent[key] = "x" * draw(st.integers(21, 2600))
    else:
        parent[key] = draw(junk.filter(lambda other: type(other) is not type(value)))
    return copy


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


# Raw frames

#: Deeper than any OCPP message nests (the endpoint takes 64 levels).
MAX_NESTING_PROBE = 65
#: A frame's message type ids: CALL, the two responses, and ones OCPP does not have.
_TYPE_IDS = (2, 2, 2, 3, 4, 0, 1, 5, 7, -2, 2.0, "2", None, True)


def frames(actions: list[str]) -> st.SearchStrategy[str | bytes]:
    """Frames of any shape: text, JSON of every kind, four-element lists with each
    element right or wrong, and binary frames."""
    unique_ids = st.one_of(st.text(max_size=36), st.integers(), st.none(), st.just([]))
    names = st.one_of(
        st.sampled_from(actions), st.text(max_size=30), st.integers(), st.sampled_from(["", None])
    )
    parts = st.tuples(st.sampled_from(_TYPE_IDS), unique_ids, names, json_values(6), json_values(2))
    # the first n of the five: too few elements, the four of a CALL, or one too many
    shaped = st.tuples(parts, st.integers(0, 5)).map(lambda drawn: json.dumps(drawn[0][: drawn[1]]))
    hostile = st.one_of(
        st.integers(MAX_NESTING_PROBE, 3000).map(lambda n: "[" * n + "]" * n),
        st.integers(MAX_NESTING_PROBE, 3000).map(
            lambda n: '[2,"deep","DataTransfer",{"vendorId":"v","data":' + "[" * n + "]" * n + "}]"
        ),
        st.integers(4301, 6000).map(lambda n: '[2,"big","Heartbeat",{"n":' + "9" * n + "}]"),
        st.sampled_from(['[2,"nan","Heartbeat",NaN]', '[2,"inf",Infinity,{}]', "[NaN]"]),
    )
    return st.one_of(
        st.text(max_size=200),
        json_values().map(json.dumps),
        shaped,
        hostile,
        st.binary(max_size=200),
        st.binary(max_size=200).map(
            lambda raw: json.dumps([2, "bin", "Heartbeat", {}]).encode() + raw
        ),
    )
