"""Why the horizon planner gave a session the rate it follows now: the note a
following snapshot carries for each planned session, read by ``explain``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PlanNote:
    """One session's plan at an instant: the energy price per kWh of the block now;
    the first later block the plan charges it in at a lower price (its price and
    start; None when it charges at no cheaper block); its departure (aware, UTC) and
    slack (the hours it could still wait and charge at its maximum power until it
    departs).

    A price is what the plan pays at the margin in its block: 0 where the plan
    imports nothing there (forecast solar covers the load; export earns nothing),
    else the tariff's. ``grid_price_now`` is the tariff's price now when that margin
    is solar (None otherwise); ``cheaper_solar`` says the cheaper block is so."""

    session_id: str
    price_now: float
    cheaper_price: float | None
    cheaper_from: datetime | None
    departure: datetime
    slack_h: float
    grid_price_now: float | None = None
    cheaper_solar: bool = False
