"""Operator overrides: pause an EVSE, cap it, resume it — each journaled with who did
it and why, and acted on at once (``controller.changed``: the control loop runs a
cycle, so a paused EVSE is sent 0 A within the same second).

An override lasts until it is cleared, across sessions; on an EVSE without a session
it changes nothing until one starts. The author is the request's ``author`` (the CLI
sends the local user name) or else the token's role; the journal keeps both. An author
or reason with a control character in it is refused (422: ``plain_text``). The
responses carry the EVSE's live allocation after the change (``/state``'s EVSE JSON).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field, TypeAdapter, model_validator
from pydantic.functional_validators import PlainValidator
from pydantic.json_schema import WithJsonSchema
from pydantic_core import PydanticCustomError

from depotctl.config.schema.base import SchemaModel
from depotctl.config.schema.types import Units
from depotctl.config.snapshot.checks import likely_id
from depotctl.config.snapshot.schema import AmpsValue
from depotctl.controller.auth import Role, authorize
from depotctl.controller.deps import ControllerDep
from depotctl.controller.errors import ApiError
from depotctl.controller.plain_text import OneLine
from depotctl.controller.service import AppliedSite, Controller, NoSite
from depotctl.controller.store import JournalKind, NewJournalEntry
from depotctl.domain import Current, Dimension, format_number
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.quantity import BOUNDS, in_bounds
from depotctl.views import evse_json

#: The stable code of a resume on an EVSE that has no override (404).
NO_OVERRIDE = "no_override"


#: The quantity grammar of every other input, for a current per line.
_AMPS = Units((Dimension.CURRENT,), "A current per line: A.", positive=False)


def _cap(value: Any) -> float | None:
    """A cap in the quantity grammar (``"16 A"``, ``"16A"``) or a JSON number of amps;
    never negative, never NaN or infinite, never beyond the bound of every current."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        big = isinstance(value, int) and abs(value) > 10**300  # beyond a float: ±inf
        amps = (math.inf if value > 0 else -math.inf) if big else float(value)
    elif isinstance(value, str):
        amps = _AMPS.validate(value).base
    else:
        raise PydanticCustomError(
            "quantity/malformed", 'a cap is a current like "16 A", or a number of amps'
        )
    if amps < 0:
        raise PydanticCustomError(
            "quantity/not-positive",
            f"a cap must be a number of amps, 0 or more, not {format_number(amps)}",
        )
    if not in_bounds(Dimension.CURRENT, amps):
        raise PydanticCustomError(
            "quantity/out-of-range",
            f"{format_number(amps)} A is out of range: no depot has a current beyond "
            f"{BOUNDS[Dimension.CURRENT].written}",
        )
    return amps


Cap = Annotated[
    float | None,
    PlainValidator(_cap),
    WithJsonSchema(
        {
            "anyOf": [
                TypeAdapter(AmpsValue).json_schema(),
                {"type": "number", "minimum": 0, "maximum": BOUNDS[Dimension.CURRENT].largest},
                {"type": "null"},
            ],
            "description": 'At most this current per line: "16 A", or a number of amps.',
        }
    ),
]


class OverrideInput(SchemaModel):
    """An override to set: pause the EVSE, cap it, or both (a pause wins)."""

    paused: bool = False
    cap: Cap = None
    reason: OneLine | None = Field(None, max_length=500, description="Why, in a few words.")
    author: OneLine | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Who asks (default: the token's role).",
    )

    @model_validator(mode="after")
    def _pauses_or_caps(self) -> OverrideInput:
        if not self.paused and self.cap is None:
            raise ValueError(
                'an override must pause the EVSE (paused: true) or cap it (cap: "16 A"); '
                "to resume it, DELETE its override"
            )
        return self


RoleDep = Annotated[Role, Depends(authorize)]
AuthorQuery = Annotated[
    OneLine | None,
    Query(min_length=1, max_length=200, description="Who asks (default: the token's role)."),
]


def override_routes() -> APIRouter:
    """List, set and clear overrides (mounted with ``include_api``)."""
    router = APIRouter()

    @router.get("/overrides", tags=["overrides"], summary="Every operator override in force")
    def list_overrides(controller: ControllerDep) -> dict[str, Any]:
        overrides = controller.store.overrides()
        live = _live_evses(controller, overrides)
        return {
            "time": controller.clock.now().astimezone(UTC).isoformat(),
            "overrides": [
                {**override_json(o), "allocation": live.get(evse_id)}
                for evse_id, o in overrides.items()
            ],
        }

    @router.put(
        "/evses/{evse_id:path}/override",
        tags=["overrides"],
        summary="Pause or cap an EVSE (EVSE id URL-encoded: chg-01%2F1)",
    )
    def set_override(
        evse_id: str, body: OverrideInput, controller: ControllerDep, role: RoleDep
    ) -> dict[str, Any]:
        _check_evse(_applied(controller), evse_id)
        store = controller.store
        now = controller.clock.now()
        author = body.author or role.value
        override = EvseOverride(
            evse_id=evse_id,
            paused=body.paused,
            cap_a=body.cap,
            set_at=now,
            author=author,
            reason=body.reason,
        )
        with store.transaction():
            previous = store.overrides().get(evse_id)
            changed = previous is None or _terms(previous) != _terms(override)
            if changed:
                store.put_override(override)
                store.append_journal(
                    [
                        NewJournalEntry(
                            at=now,
                            kind=JournalKind.OVERRIDE_SET,
                            message=f"{evse_id} {_words(override)} by operator {author}"
                            + (f": {override.reason}" if override.reason else ""),
                            evse=evse_id,
                            session=_session_on(controller, evse_id),
                            data={
                                **_terms_json(override),
                                "evse": evse_id,
                                "author": author,
                                "role": role.value,
                                "previous": _terms_json(previous) if previous else None,
                            },
                        )
                    ]
                )
            else:
                assert previous is not None
                override = previous
        if changed:
            controller.changed(f"override on {evse_id}")
        return {
            "override": override_json(override),
            "changed": changed,
            "allocation": _live_evses(controller, [evse_id]).get(evse_id),
        }

    @router.delete(
        "/evses/{evse_id:path}/override",
        tags=["overrides"],
        summary="Resume an EVSE: remove its override (404 no_override when it has none)",
    )
    def clear_override(
        evse_id: str, controller: ControllerDep, role: RoleDep, author: AuthorQuery = None
    ) -> dict[str, Any]:
        store = controller.store
        now = controller.clock.now()
        who = author or role.value
        with store.transaction():
            previous = store.overrides().get(evse_id)
            if previous is None:
                applied = _applied(controller)
                _check_evse(applied, evse_id)
                raise ApiError(
                    404,
                    NO_OVERRIDE,
                    f"EVSE {evse_id} has no override: it is neither paused nor capped",
                    evse=evse_id,
                )
            store.clear_override(evse_id)
            store.append_journal(
                [
                    NewJournalEntry(
                        at=now,
                        kind=JournalKind.OVERRIDE_CLEARED,
                        message=f"{evse_id} resumed by operator {who} (was "
                        f"{_words(previous)} by {previous.author} since "
                        f"{previous.set_at.astimezone(UTC).isoformat()})",
                        evse=evse_id,
                        session=_session_on(controller, evse_id),
                        data={
                            "evse": evse_id,
                            "author": who,
                            "role": role.value,
                            "previous": _terms_json(previous),
                        },
                    )
                ]
            )
        controller.changed(f"override on {evse_id} cleared")
        return {
            "override": None,
            "cleared": override_json(previous),
            "allocation": _live_evses(controller, [evse_id]).get(evse_id),
        }

    return router


# JSON and words


def override_json(override: EvseOverride) -> dict[str, Any]:
    return {
        "evse": override.evse_id,
        **_terms_json(override),
        "set_at": override.set_at.astimezone(UTC).isoformat(),
        "author": override.author,
    }


def _terms(override: EvseOverride) -> tuple[bool, float | None, str | None]:
    """What an override says (not who said it, or when)."""
    return override.paused, override.cap_a, override.reason


def _terms_json(override: EvseOverride) -> dict[str, Any]:
    return {
        "paused": override.paused,
        "cap": str(Current.of(override.cap_a)) if override.cap_a is not None else None,
        "cap_a": override.cap_a,
        "reason": override.reason,
    }


def _words(override: EvseOverride) -> str:
    if override.paused:
        return "paused"
    assert override.cap_a is not None
    return f"capped at {Current.of(override.cap_a)}"


# Lookups


def _applied(controller: Controller) -> AppliedSite:
    try:
        return controller.require_site()
    except NoSite as error:
        raise ApiError(404, "not_found", str(error)) from None


def _check_evse(applied: AppliedSite, evse_id: str) -> None:
    """404 ``not_found`` with the likely id for an EVSE the site in force lacks."""
    known = sorted(applied.topology.evses)
    if evse_id in applied.topology.evses:
        return
    own = [k for k in known if k.startswith(evse_id + "/")]  # a charger id: its first EVSE
    close = own[0] if own else likely_id(evse_id, known)
    message = f'site has no EVSE "{evse_id}" (EVSE ids are "<charger id>/<evse id>")'
    if close:
        message += f'; did you mean "{close}"?'
    raise ApiError(404, "not_found", message, evse=evse_id, did_you_mean=close)


def _session_on(controller: Controller, evse_id: str) -> str | None:
    """The open session on the EVSE, for the journal's lineage."""
    for record in controller.store.sessions(open_only=True):
        if record.session.evse_id == evse_id:
            return record.session.id
    return None


def _live_evses(controller: Controller, evse_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """These EVSEs' live allocation (``/state``'s EVSE JSON); none without a site."""
    try:
        live = controller.live()
    except NoSite:
        return {}
    snapshot, allocation = live.snapshot, live.allocation
    return {
        evse_id: evse_json(snapshot, allocation, allocation.evses[evse_id], candidates=False)
        for evse_id in evse_ids
        if evse_id in allocation.evses
    }
