"""A readiness forecast as the API's JSON (:class:`depotctl.api.readiness.Readiness`):
times in UTC, energies in Wh (3 decimals), the words with UTC times."""

from __future__ import annotations

from typing import Any

from depotctl.api.encoding import figure, utc_text
from depotctl.domain.readiness import Readiness, ReadinessCause

#: The forecast's energies, in Wh.
_ENERGIES = ("need_wh", "expected_wh", "short_wh")


def readiness_json(forecast: Readiness) -> dict[str, Any]:
    return {
        "session": forecast.session_id,
        "evse": forecast.evse_id,
        "basis": str(forecast.basis),
        "at": utc_text(forecast.at),
        "departure": utc_text(forecast.departure),
        **{name: figure(getattr(forecast, name)) for name in _ENERGIES},
        "cause": None if forecast.cause is None else _cause_json(forecast.cause),
        "text": forecast.words(),
    }


def _cause_json(cause: ReadinessCause) -> dict[str, Any]:
    since = utc_text(cause.since)
    return {
        "kind": cause.kind,
        "ref": cause.ref,
        "node": cause.node,
        "since": since,
        "detail": cause.detail,
    }
