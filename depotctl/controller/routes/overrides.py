"""``/api/v1/overrides`` and ``/api/v1/evses/{evse}/override``: list, pause or cap,
resume (:mod:`..services.overrides`). An author or reason with a control character in
it is refused (422: ``plain_text``). The responses carry the EVSE's live allocation
after the change (``/state``'s EVSE JSON).
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

from depotctl import api
from depotctl.config import AmpsValue, SchemaModel, Units
from depotctl.controller.auth import Role, authorize
from depotctl.controller.deps import ControllerDep
from depotctl.controller.plain_text import OneLine
from depotctl.controller.routes import answering
from depotctl.controller.service import LiveState
from depotctl.controller.services.overrides import (
    OverrideChange,
    OverrideTerms,
    clear_override,
    list_overrides,
    set_override,
    terms_data,
)
from depotctl.domain import Dimension, format_number
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.quantity import BOUNDS, in_bounds
from depotctl.views import evse_json

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
    router = APIRouter(tags=["overrides"])

    @answering(router.get, "/overrides", api.Overrides, "Every operator override in force")
    def overrides(controller: ControllerDep) -> dict[str, Any]:
        listed = list_overrides(controller)
        live = _live_evses(listed.live, listed.overrides)
        return {
            "time": listed.at.isoformat(),
            "overrides": [
                {**override_json(o), "allocation": live.get(evse_id)}
                for evse_id, o in listed.overrides.items()
            ],
        }

    @answering(
        router.put,
        "/evses/{evse_id:path}/override",
        api.OverrideSet,
        "Pause or cap an EVSE (EVSE id URL-encoded: chg-01%2F1)",
    )
    def set_one(
        evse_id: str, body: OverrideInput, controller: ControllerDep, role: RoleDep
    ) -> dict[str, Any]:
        terms = OverrideTerms(body.paused, body.cap, body.reason)
        author = body.author or role.value
        change = set_override(controller, evse_id, terms, author=author, role=role.value)
        return change_json(change)

    @answering(
        router.delete,
        "/evses/{evse_id:path}/override",
        api.OverrideCleared,
        "Resume an EVSE: remove its override (404 no_override when it has none)",
    )
    def clear_one(
        evse_id: str, controller: ControllerDep, role: RoleDep, author: AuthorQuery = None
    ) -> dict[str, Any]:
        who = author or role.value
        return change_json(clear_override(controller, evse_id, author=who, role=role.value))

    return router


def override_json(override: EvseOverride) -> dict[str, Any]:
    return {
        "evse": override.evse_id,
        **terms_data(override),
        "set_at": override.set_at.astimezone(UTC).isoformat(),
        "author": override.author,
    }


def change_json(change: OverrideChange) -> dict[str, Any]:
    """A set (``override``, ``changed``) or a clearance (``override`` null,
    ``cleared``), with the EVSE's allocation after it."""
    allocation = _live_evses(change.live, [change.evse_id]).get(change.evse_id)
    if change.cleared is not None:
        return {
            "override": None,
            "cleared": override_json(change.cleared),
            "allocation": allocation,
        }
    assert change.override is not None
    return {
        "override": override_json(change.override),
        "changed": change.changed,
        "allocation": allocation,
    }


def _live_evses(live: LiveState | None, evse_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """These EVSEs' live allocation (``/state``'s EVSE JSON); none without a site."""
    if live is None:
        return {}
    snapshot, allocation = live.snapshot, live.allocation
    return {
        evse_id: evse_json(snapshot, allocation, allocation.evses[evse_id], candidates=False)
        for evse_id in evse_ids
        if evse_id in allocation.evses
    }
