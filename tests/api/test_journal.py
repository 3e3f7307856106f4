"""The journal's filters: one set of names for the query of ``GET /api/v1/journal``,
the client and the store."""

from __future__ import annotations

import json

from depotctl.api.journal import JournalFilters
from tests.conftest import ROOT


def test_the_filters_are_the_query_of_the_journal_endpoint() -> None:
    document = json.loads((ROOT / "schema" / "openapi.json").read_text(encoding="utf-8"))
    query = {
        parameter["name"]
        for parameter in document["paths"]["/api/v1/journal"]["get"]["parameters"]
        if parameter["in"] == "query"
    }
    assert query == set(JournalFilters.__annotations__)
    assert JournalFilters.__required_keys__ == frozenset()
