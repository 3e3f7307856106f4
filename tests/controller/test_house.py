"""The controller stays easy to change: no module under depotctl/controller over 450
lines, and no route handler (a function decorated by a router method) over 30 lines —
a route parses, calls one service and renders (:mod:`depotctl.controller.routes`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

CONTROLLER = ROOT / "depotctl" / "controller"
MAX_MODULE_LINES = 450
MAX_HANDLER_LINES = 30
ROUTER_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "api_route"}
ROUTER_METHODS |= {"websocket", "websocket_route", "route"}


def modules() -> list[Path]:
    found = sorted(CONTROLLER.rglob("*.py"))
    assert found
    return found


def is_router_method(expression: ast.expr | None) -> bool:
    return isinstance(expression, ast.Attribute) and expression.attr in ROUTER_METHODS


def is_route_decorator(decorator: ast.expr) -> bool:
    """``@router.get(...)``, ``@app.websocket(...)``: a router method called; or
    ``@answering(router.get, ...)``: a route helper given one."""
    return isinstance(decorator, ast.Call) and (
        is_router_method(decorator.func) or is_router_method(next(iter(decorator.args), None))
    )


def handler_lengths(source: str) -> Iterator[tuple[str, int]]:
    """Each route handler in ``source``: its name and its lines, ``def`` to its end."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            is_route_decorator(d) for d in node.decorator_list
        ):
            assert node.end_lineno is not None
            yield node.name, node.end_lineno - node.lineno + 1


def test_no_controller_module_is_over_450_lines() -> None:
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in modules()
    }
    assert {path: n for path, n in lengths.items() if n > MAX_MODULE_LINES} == {}


def test_no_route_handler_is_over_30_lines() -> None:
    handlers = {
        f"{path.relative_to(ROOT)}:{name}": lines
        for path in modules()
        for name, lines in handler_lengths(path.read_text(encoding="utf-8"))
    }
    assert len(handlers) >= 25  # the routes are found
    assert {where: n for where, n in handlers.items() if n > MAX_HANDLER_LINES} == {}


def test_a_handler_is_measured_from_def_to_its_end() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(30))
    source = (
        "@router.get('/a', summary='s')\n"
        f"def long() -> None:\n{body}\n\n"
        "@router.post('/b')\nasync def short() -> None:\n    pass\n\n"
        "@answering(router.put, '/c', Model, 's')\ndef helped() -> None:\n    pass\n\n"
        "@staticmethod\ndef not_a_route() -> None:\n    pass\n"
    )
    assert dict(handler_lengths(source)) == {"long": 31, "short": 2, "helped": 2}
