"""``GET /api/v1/journal`` a page at a time, over real HTTP to the served app with a
real SQLite store holding a night of the AU bus depot (2,900 entries): pages chained
by their cursors give every entry once, in time order; ``until``; ``node``; the
errors a bad cursor or node gets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from depotctl.controller.store import NewJournalEntry
from tests.controller import test_inputs
from tests.controller.journal_night import a_night, journal_order, record
from tests.controller.test_inputs import START, Depot

# the served app for the module, a fresh controller (its own store) per test
server = test_inputs.server
depot = test_inputs.depot

NIGHT_START = START + timedelta(minutes=1)  # after the seeded revision's entries
NODES = ("gc-main", "db-dc-north", "db-dc-south", "row-1")
#: The chargers under db-dc-north in sites/au-bus-depot.yaml (row-1 and row-2).
NORTH_CHARGERS = {f"dc-{n:02d}" for n in range(1, 13)}


@pytest.fixture
def night(depot: Depot) -> list[NewJournalEntry]:
    """The night recorded into the depot's store; its entries in the journal's order."""
    evses = sorted(depot.controller.require_site().topology.evses)
    entries = a_night(evses, NODES, NIGHT_START)
    record(depot.controller.units(), entries)
    return journal_order(entries)


def page(depot: Depot, **params: str) -> dict[str, Any]:
    with depot.client() as client:
        response = client.get("/api/v1/journal", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def chained(depot: Depot, **params: str) -> tuple[list[str], int]:
    """Every page's messages, following ``next``, checking each page's count and
    ``next_at`` against the pages after it; and how many pages it took."""
    pages = [page(depot, **params)]
    while pages[-1]["next"] is not None:
        pages.append(page(depot, **params, cursor=pages[-1]["next"]))
    for number, answer in enumerate(pages[:-1]):
        later = [entry for after in pages[number + 1 :] for entry in after["entries"]]
        assert answer["remaining"] == len(later)
        assert answer["next_at"] == later[0]["at"]
    assert (pages[-1]["remaining"], pages[-1]["next_at"]) == (0, None)
    return [entry["message"] for answer in pages for entry in answer["entries"]], len(pages)


def test_a_nights_pages_chain_without_loss_or_repeat(
    depot: Depot, night: list[NewJournalEntry]
) -> None:
    messages, pages = chained(depot, since=NIGHT_START.isoformat(), limit="500")
    assert messages == [entry.message for entry in night]
    assert len(messages) == 2_900 and pages == 6


def test_without_a_cursor_the_first_page_is_the_old_answer_with_its_next(
    depot: Depot, night: list[NewJournalEntry]
) -> None:
    """The default page (1,000) holds the oldest entries, as before pages; the new
    fields say 1,900 more, from the 1,001st's time."""
    body = page(depot, since=NIGHT_START.isoformat())
    assert [e["message"] for e in body["entries"]] == [e.message for e in night[:1000]]
    assert body["remaining"] == 1_900
    assert body["next_at"] == night[1000].at.isoformat()


def test_until_and_evse_page_through_their_window_only(
    depot: Depot, night: list[NewJournalEntry]
) -> None:
    since, until = NIGHT_START + timedelta(hours=2), NIGHT_START + timedelta(hours=7)
    expected = [e.message for e in night if e.evse == "dc-03/1" and since <= e.at < until]
    assert len(expected) > 14
    params = {"since": since.isoformat(), "until": until.isoformat(), "evse": "dc-03/1"}
    messages, pages = chained(depot, **params, limit="7")
    assert messages == expected
    assert pages == -(-len(expected) // 7)


def test_a_node_is_its_evses_chargers_envelopes_and_alerts(
    depot: Depot, night: list[NewJournalEntry]
) -> None:
    def about_north(entry: NewJournalEntry) -> bool:
        charger = entry.evse or entry.data.get("charger") or ""
        subject = entry.data.get("subject", {}).get("id")
        return (
            charger.split("/")[0] in NORTH_CHARGERS
            or entry.data.get("target") == "db-dc-north"
            or subject == "db-dc-north"
        )

    expected = [e.message for e in night if about_north(e)]
    kinds = {e.kind for e in night if about_north(e)}
    assert {"charger.status", "envelope.received", "alert.raised"} <= kinds
    messages, _ = chained(depot, node="db-dc-north", limit="400")
    assert messages == expected
    # an envelope on row-1 (under db-dc-north) is row-1's, not db-dc-north's
    assert not any(e.data.get("target") == "row-1" for e in night if e.message in messages)


def test_a_charger_is_a_node_too(depot: Depot, night: list[NewJournalEntry]) -> None:
    expected = [
        e.message for e in night if (e.evse or e.data.get("charger", "")).startswith("dc-05")
    ]
    messages, _ = chained(depot, node="dc-05")
    assert messages == expected and expected


def test_a_cursor_not_given_by_the_controller_is_a_422_naming_it(depot: Depot) -> None:
    with depot.client() as client:
        response = client.get("/api/v1/journal", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert "cursor" in response.text and "pass a page's `next` unchanged" in response.text


def test_an_unknown_node_is_a_404_with_the_likely_one(depot: Depot) -> None:
    with depot.client() as client:
        response = client.get("/api/v1/journal", params={"node": "db-dc-nort"})
    assert response.status_code == 404
    body = response.json()
    assert 'has no node "db-dc-nort"' in body["message"]
    assert body["did_you_mean"] == "db-dc-north"
