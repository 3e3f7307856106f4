"""The console and the CLI's remote commands read the controller's answers as the
API's models (:mod:`depotctl.api`), never as JSON: no ``.get("key")`` and no
``["key"]`` anywhere in them. A new read of the API goes through a model's field —
where it is typed, documented in the OpenAPI document, and checked against the real
app (tests/api)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("depotctl/console", "depotctl/cli/remote")


def string_keyed(tree: ast.AST) -> list[tuple[int, str]]:
    """Where ``tree`` looks a value up by a string literal: ``x.get("k")``, ``x["k"]``."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, ast.unparse(node)))
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_check_finds_string_keys() -> None:
    code = 'a = body.get("evse")\nb = body["limits"][0]\nc = table.get(kind, "")\n'
    assert [line for line, _ in string_keyed(ast.parse(code))] == [1, 2]


@pytest.mark.parametrize(
    "path",
    sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py")),
    ids=lambda p: str(Path(p).relative_to(ROOT)),
)
def test_no_string_keyed_access_to_answers(path: Path) -> None:
    found = string_keyed(ast.parse(path.read_text(encoding="utf-8")))
    assert found == [], f"{path.relative_to(ROOT)} reads JSON by key: {found}"
