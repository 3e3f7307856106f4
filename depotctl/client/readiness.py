"""The sessions' readiness forecasts (``readiness`` in ``GET /api/v1/sessions``) for
people: which will be short, and the lines ``depotctl status`` prints about them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import tzinfo
from typing import Any

from depotctl.api import Session, Sessions
from depotctl.api.base import json_of
from depotctl.client.figures import for_people
from depotctl.domain.readiness import Readiness


def forecasts_of(sessions: Iterable[Session]) -> list[Readiness]:
    """The forecasts of the open sessions that have one, by EVSE (each with its
    session's vehicle, when known, to name it by)."""
    found = [
        replace(s.readiness.forecast(), vehicle_id=s.vehicle)
        for s in sessions
        if s.readiness is not None
    ]
    return sorted(found, key=lambda f: (f.evse_id, f.session_id))


def short_json(answer: Sessions) -> dict[str, Any]:
    """``{"short": [...]}``: the short sessions' ``readiness`` as the API gave it, the
    most short first."""
    readiness = [s.readiness for s in answer.sessions if s.readiness is not None]
    short = [(r.forecast().short_wh, r) for r in readiness if r.forecast().is_short]
    short.sort(key=lambda pair: -pair[0])
    return {"short": [json_of(r) for _, r in short]}


def readiness_text(answer: Sessions, zone: tzinfo) -> str:
    """:func:`readiness_lines` as text, one line each."""
    return "".join(line + "\n" for line in readiness_lines(answer.sessions, zone))


def readiness_lines(sessions: Iterable[Session], zone: tzinfo) -> list[str]:
    """``ready     2 of 5 sessions will be short``, then each short one in words, its times
    whole in ``zone`` with their offset as every command prints them (the console, whose
    header states the day, says them shorter); ``ready     every session (5)``;
    ``ready     no open session``."""
    listed = list(sessions)
    every = forecasts_of(listed)
    short = _most_short_first(every)
    if not every:
        opened = any(s.open for s in listed)
        return [
            "ready     " + ("not forecast (an older controller)" if opened else "no open session")
        ]
    if not short:
        return [f"ready     every session ({len(every)})"]
    noun = "session" if len(every) == 1 else "sessions"
    head = f"ready     {len(short)} of {len(every)} {noun} will be short"
    return [head, *(f"  {for_people(f.words(None), zone)}" for f in short)]


def _most_short_first(forecasts: Iterable[Readiness]) -> list[Readiness]:
    return sorted((f for f in forecasts if f.is_short), key=lambda f: -f.short_wh)
