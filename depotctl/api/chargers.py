"""The chargers (``GET /api/v1/chargers``): each charger of the site in force as the
controller sees it — online, controllable or why not, its fallback, the limits its
EVSEs may be drawing under."""

from __future__ import annotations

from pydantic import Field

from depotctl.api.base import ApiModel, Instant


class HeldLimit(ApiModel):
    """A limit an EVSE may be drawing under: one its charger accepted, or one sent and
    never answered (it may have been applied)."""

    limit_a: float = Field(description="Amps per line.")
    until: Instant | None = Field(description="When it lapses to the fallback (null: never).")
    holds: bool = Field(description="Still valid at the answer's time.")


class Charger(ApiModel):
    """A charger of the site and what the controller knows of it."""

    id: str
    evses: list[str] = Field(description='Its EVSEs, "<charger id>/<evse id>", in site order.')
    heard_from: bool = Field(
        description="False: it never connected; shown as the controller counts it."
    )
    online: bool
    controllable: bool = Field(
        description="Online, its fallback accepted and its last command accepted."
    )
    reason: str | None = Field(
        description="Why it is not controllable (its open alert's reason, else the "
        "controller's record); null while it is."
    )
    since: Instant | None = Field(
        description="Uncontrollable since (its open charger_uncontrollable alert); null "
        "while controllable or before the alert is raised."
    )
    fallback_accepted: bool
    last_outcome: str | None = Field(description="accepted, rejected, timeout or offline.")
    last_command_at: Instant | None
    last_accepted_limit_a: float | None = Field(
        description="The last limit it acknowledged for any EVSE, amps per line."
    )
    held: dict[str, list[HeldLimit]] = Field(description="Per EVSE id, the limits it may be under.")


class Chargers(ApiModel):
    """Every charger of the site in force, by id."""

    time: Instant
    timezone: str = Field(description="The site's.")
    uncontrollable: int = Field(description="How many are not controllable.")
    chargers: list[Charger]
