"""The controller itself: liveness, the role a token grants, and its clock."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from depotctl.api.base import ApiModel, Instant


class Health(ApiModel):
    """``GET /healthz``."""

    status: Literal["ok"]
    revision: int | None = Field(description="The revision in force; null before the first.")


class WhoAmI(ApiModel):
    """``GET /api/v1/whoami``: what the presented token may do."""

    role: Literal["admin", "readonly"]
    may_write: bool


class Clock(ApiModel):
    """``GET /api/v1/clock``: the controller's time; every policy duration is measured
    on it."""

    time: Instant
    speed: float = Field(description="Simulated seconds per real second (1 for real time).")
    kind: Literal["real", "sim"]
    timezone: str | None = Field(
        None, description="The site's time zone (IANA name; null before the first revision)."
    )
