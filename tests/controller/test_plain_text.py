"""Free text the API keeps and shows to people — an override's author and reason, a
revision's author, message and file name — refused with 422 when it holds a control
character, over real HTTP; nothing is stored or journaled then."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from depotctl.controller.plain_text import one_line, paragraph
from tests.controller.test_inputs import (
    Depot,
    problem,
    server,  # noqa: F401  (a fixture)
)
from tests.controller.test_inputs import depot as inputs_depot  # noqa: F401  (a fixture)

EVSE = "dc-01/1"
HOSTILE = [
    ("\x1b[2Jmallory", "U+001B (a control character)"),
    ("cable\r\nEVSE dc-01/1 resumed by alice", "U+000D (a control character)"),
    ("bell\x07", "U+0007 (a control character)"),
    ("csi\x9b31m", "U+009B (a control character)"),
    ("txt\u202eexe.pdf", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("two\u2028lines", "U+2028 (LINE SEPARATOR)"),
]


@pytest.fixture
def depot(inputs_depot: Depot) -> Depot:  # noqa: F811
    return inputs_depot


@pytest.mark.parametrize(("text", "named"), HOSTILE, ids=[n.split()[0] for _, n in HOSTILE])
@pytest.mark.parametrize("field", ["author", "reason"])
def test_an_override_with_a_control_character_is_refused_and_not_kept(
    depot: Depot, field: str, text: str, named: str
) -> None:
    body = {"paused": True, "author": "alice", "reason": "cable damaged", field: text}
    with depot.client() as client:
        response = client.put(f"/api/v1/evses/{quote(EVSE, safe='')}/override", json=body)
        refused = problem(response, 422, "invalid_request")
        assert refused["message"].startswith(f"body.{field}: holds {named} at position")
        assert text not in response.text  # the text is named, never echoed
        assert client.get("/api/v1/overrides").json()["overrides"] == []
    assert depot.journal(kind="override.set") == []


def test_a_resume_whose_author_holds_a_control_character_is_refused(depot: Depot) -> None:
    with depot.client() as client:
        url = f"/api/v1/evses/{quote(EVSE, safe='')}/override"
        assert client.put(url, json={"paused": True, "author": "alice"}).status_code == 200
        response = client.delete(url, params={"author": "bob\x1b]0;x\x07"})
        assert problem(response, 422, "invalid_request")["message"].startswith("query.author")
        assert len(client.get("/api/v1/overrides").json()["overrides"]) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("author", "ops\x1b[8m"), ("message", "fix\rforged"), ("path", "site\x07.yaml")],
)
def test_a_rollback_or_apply_with_a_control_character_is_refused(
    depot: Depot, field: str, value: str
) -> None:
    with depot.client() as client:
        before = client.get("/api/v1/revisions").json()
        body = {"revision": 1, field: value} if field != "path" else {"site": "x", field: value}
        route = "/api/v1/rollback" if field != "path" else "/api/v1/apply"
        response = client.post(route, json=body)
        assert problem(response, 422, "invalid_request")["message"].startswith(f"body.{field}:")
        assert client.get("/api/v1/revisions").json() == before


def test_a_message_may_have_lines_and_tabs_and_any_script() -> None:
    assert paragraph("Raise db-1\n\t- new breaker, 250 A\nZürich 東京 ☕") is not None
    assert one_line("Zoë O'Brien — Zürich 東京") == "Zoë O'Brien — Zürich 東京"
    with pytest.raises(ValueError, match=r"U\+000A"):
        one_line("two\nlines")
