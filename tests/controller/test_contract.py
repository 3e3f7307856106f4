"""The API's contract: the OpenAPI document the controller serves is the committed
``schema/openapi.json`` (a change to the contract shows in review), and every operation
answers a model (:mod:`depotctl.api`) but the few that cannot."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter

from depotctl.controller.app import create_app, include_api
from depotctl.controller.auth import Tokens, load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.service import Controller
from depotctl.controller.store import Store
from tests.conftest import ROOT
from tests.controller.test_app import AU_DEPOT, START, serving

COMMITTED = ROOT / "schema" / "openapi.json"
REGENERATE = "run `.venv/bin/python scripts/openapi.py` and review the diff of schema/openapi.json"

#: The operations whose success answer is no model, and why.
WITHOUT_MODEL = {
    # Prometheus' text exposition format, for scrapers
    "GET /metrics",
    # a kind: Snapshot document (JSON or YAML) in the contracts' snapshot format,
    # read by `depotctl allocate --snapshot`, not a model of this API
    "GET /api/v1/snapshot",
    # server-sent events (text/event-stream); each event's data is a journal entry
    "GET /api/v1/events",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The OpenAPI document a real controller serves at /openapi.json."""
    state_dir = tmp_path_factory.mktemp("contract")
    controller = Controller(
        Store.open(state_dir / "depotctl.sqlite"), SimClock(START), base_dir=AU_DEPOT.parent
    )
    controller.seed(AU_DEPOT, AU_DEPOT.read_text(encoding="utf-8"), author="test")
    try:
        with serving(create_app(controller, load_or_create_tokens(state_dir))) as url:
            response = httpx.get(url + "/openapi.json", timeout=60)
        assert response.status_code == 200
        yield response.json()
    finally:
        controller.close()


def differences(served: Any, committed: Any, where: str = "") -> Iterator[str]:
    """Where two JSON values differ, as JSON-pointer-like paths."""
    if isinstance(served, dict) and isinstance(committed, dict):
        for key in sorted(served.keys() | committed.keys()):
            if key not in committed:
                yield f"{where}/{key} (served, not committed)"
            elif key not in served:
                yield f"{where}/{key} (committed, no longer served)"
            else:
                yield from differences(served[key], committed[key], f"{where}/{key}")
    elif served != committed:
        yield where or "/"


def unmodelled_operations(document: dict[str, Any]) -> set[str]:
    """The operations (``METHOD /path``) none of whose success answers is a JSON model."""
    return {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if not any(
            "$ref" in json.dumps(content.get("schema", {}))
            for status, answer in operation["responses"].items()
            if status.startswith("2")
            for media, content in answer.get("content", {}).items()
            if media == "application/json"
        )
    }


def test_the_served_document_is_the_committed_one(served: dict[str, Any]) -> None:
    assert COMMITTED.exists(), f"{COMMITTED} is missing: {REGENERATE}"
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    changed = list(differences(served, committed))
    assert not changed, (
        f"the API's contract changed at {', '.join(changed[:8])}"
        f"{' …' if len(changed) > 8 else ''}: {REGENERATE}"
    )


def test_the_script_writes_what_is_committed() -> None:
    # scripts/openapi.py builds the app without a controller: its text is the file's
    spec = importlib.util.spec_from_file_location("openapi", ROOT / "scripts" / "openapi.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.document() == COMMITTED.read_text(encoding="utf-8"), REGENERATE


def test_every_operation_answers_a_model_but_the_explained_few(served: dict[str, Any]) -> None:
    assert unmodelled_operations(served) == WITHOUT_MODEL


def test_a_route_without_a_model_is_found() -> None:
    router = APIRouter()

    @router.get("/untyped")
    def untyped() -> dict[str, Any]:
        return {}

    app = create_app(None, Tokens(admin="", readonly=""))  # type: ignore[arg-type]
    include_api(app, router)
    assert unmodelled_operations(app.openapi()) == WITHOUT_MODEL | {"GET /api/v1/untyped"}
