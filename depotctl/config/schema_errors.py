"""pydantic's validation errors → findings with a rule, a data path and a hint.

pydantic's ``loc`` mixes data keys with union tags (``charger``) and member
names; we walk the data alongside it to recover the real path, and the model
classes alongside it to offer "did you mean" for unknown fields.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from depotctl.config.rules import (
    RULES,
    SCHEMA_INVALID_VALUE,
    SCHEMA_MISSING_FIELD,
    SCHEMA_UNKNOWN_FIELD,
    SCHEMA_WRONG_TYPE,
    Finding,
    Path,
)

_WRONG_TYPE = {
    "dict_type",
    "model_type",
    "model_attributes_type",
    "list_type",
    "tuple_type",
    "string_type",
    "int_type",
    "int_parsing",
    "int_from_float",
    "float_type",
    "float_parsing",
    "bool_type",
    "bool_parsing",
    "is_instance_of",
}


#: Fields that exist only so that validate can refuse them with a clear rule.
NEVER_SUGGEST = frozenset({"password", "token"})


def data_path(data: Any, loc: tuple[int | str, ...]) -> Path:
    """The path in ``data`` that pydantic's ``loc`` refers to (union tags skipped)."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, dict):
            if part not in current:
                continue  # a union member's tag, not a key of the data
        elif not (isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)):
            continue
        path.append(part)
        current = current[part]
    return tuple(path)


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _models_in(typing.get_args(annotation)[0])
    elif origin in (typing.Union, types.UnionType, list, dict, tuple):
        for arg in typing.get_args(annotation):
            yield from _models_in(arg)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation


def _field_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _model_at(root: type[BaseModel], data: Any, path: Path) -> type[BaseModel] | None:
    """The model class that validated the mapping at ``path`` (choosing among union
    members by their ``type`` tag, or by which one knows all the keys)."""
    candidates: list[type[BaseModel]] = [root]
    current = data
    for part in path:
        if isinstance(part, str):
            model = _choose(candidates, current)
            info = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
            if info is None:
                return None
            candidates = list(_models_in(info.annotation))
            if not candidates:
                return None
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            current = current[part]
        else:
            current = None
    return _choose(candidates, current)


def _choose(candidates: list[type[BaseModel]], value: Any) -> type[BaseModel]:
    if isinstance(value, dict) and len(candidates) > 1:
        tag = value.get("type")
        for candidate in candidates:
            type_field = candidate.model_fields.get("type")
            if type_field is not None and tag in typing.get_args(type_field.annotation):
                return candidate
        for candidate in candidates:
            if set(value) <= set(_field_names(candidate)):
                return candidate
    return candidates[0]


def _describe_place(data: Any, path: Path) -> str:
    """``charger "chg-01" rating.power`` for a path in a node; the dotted path otherwise."""
    if len(path) >= 3 and path[:2] == ("spec", "nodes") and isinstance(path[2], int):
        nodes = data["spec"]["nodes"]
        node = nodes[path[2]] if isinstance(nodes, list) and path[2] < len(nodes) else None
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            kind = str(node.get("type", "node")).replace("_", " ")
            rest = dotted(path[3:])
            return f'{kind} "{node["id"]}"' + (f" {rest}" if rest else "")
    return dotted(path) or "the document"


def dotted(path: Path) -> str:
    """``spec.nodes[3].limits``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def findings_from(error: ValidationError, data: Any, root: type[BaseModel]) -> list[Finding]:
    """One finding per pydantic error, each with the rule it breaks."""
    findings: list[Finding] = []
    seen: set[tuple[str, Path]] = set()
    for detail in error.errors(include_url=False):
        finding = _finding(detail, data, root)
        key = (finding.rule.id, finding.path)
        if key not in seen:
            seen.add(key)
            findings.append(finding)
    return findings


def _finding(detail: ErrorDetails, data: Any, root: type[BaseModel]) -> Finding:
    kind = detail["type"]
    path = data_path(data, detail["loc"])
    ctx = detail.get("ctx") or {}
    hint = ctx.get("hint") if isinstance(ctx.get("hint"), str) else None
    if kind == "missing":
        field = detail["loc"][-1]
        place = _describe_place(data, path)
        return SCHEMA_MISSING_FIELD.at(
            path, f'{place} is missing required field "{field}"', hint or f'add "{field}: …"'
        )
    if kind == "extra_forbidden":
        key = path[-1] if path else detail["loc"][-1]
        model = _model_at(root, data, path[:-1])
        fields = [f for f in (_field_names(model) if model else []) if f not in NEVER_SUGGEST]
        close = difflib.get_close_matches(str(key), fields, n=1, cutoff=0.6)
        place = _describe_place(data, path[:-1])
        suggestion = f'did you mean "{close[0]}"? ' if close else ""
        known = f"known fields: {', '.join(fields)}" if fields else "remove it"
        return SCHEMA_UNKNOWN_FIELD.at(
            path, f'unknown field "{key}" in {place}', f"{suggestion}{known}", at_key=True
        )
    if kind == "union_tag_invalid":
        tag = ctx.get("tag")
        expected = str(ctx.get("expected_tags", ""))
        options = [t.strip(" '") for t in expected.split(",")]
        close = difflib.get_close_matches(str(tag), options, n=1, cutoff=0.6)
        return SCHEMA_INVALID_VALUE.at(
            (*path, "type"),
            f'unknown node type "{tag}"',
            (f'did you mean "{close[0]}"? ' if close else "") + f"node types: {expected}",
        )
    if kind == "union_tag_not_found":
        return SCHEMA_MISSING_FIELD.at(
            path,
            f'{_describe_place(data, path)} is missing required field "type"',
            "add type: grid_connection, transformer, circuit, charger_group, charger, …",
        )
    rule = RULES.get(kind)
    if rule is None:
        rule = SCHEMA_WRONG_TYPE if kind in _WRONG_TYPE else SCHEMA_INVALID_VALUE
    message = detail["msg"]
    if message and rule.category != "quantity":
        message = message[0].lower() + message[1:]
    if kind == "literal_error" and "expected" in ctx:
        hint = hint or f"accepted values: {ctx['expected']}"
    return rule.at(path, f"{_describe_place(data, path)}: {message}", hint)
