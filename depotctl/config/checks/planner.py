"""The planner's settings: a horizon of 1–48 h in whole blocks, a block that divides an
hour."""

from __future__ import annotations

from collections.abc import Iterator

from depotctl.config.checks.context import SiteContext, site_check
from depotctl.config.rules import Finding, error

HORIZON = error(
    "planner/horizon",
    "a planner horizon under 1 h, over 48 h, or not a whole number of blocks",
    "plan 1 h to 48 h ahead (24 h covers a night and a day), in whole blocks",
)
BLOCK = error(
    "planner/block",
    "a planner block that does not divide an hour into whole minutes",
    "use 5, 10, 15, 20, 30 or 60 min (15 min matches most tariffs and envelopes)",
)
_HOUR_S = 3600.0


@site_check
def planner(ctx: SiteContext) -> Iterator[Finding]:
    settings = ctx.site.spec.planner
    at = ("spec", "planner")
    block_s = settings.block.seconds
    if block_s % 60 or _HOUR_S % block_s:
        yield BLOCK.at(
            (*at, "block"), f"planner block {settings.block} does not divide an hour in minutes"
        )
        return
    horizon_s = settings.horizon.seconds
    if not _HOUR_S <= horizon_s <= 48 * _HOUR_S:
        yield HORIZON.at(
            (*at, "horizon"), f"planner horizon {settings.horizon} is outside 1 h to 48 h"
        )
    elif horizon_s % block_s:
        yield HORIZON.at(
            (*at, "horizon"),
            f"planner horizon {settings.horizon} is not a whole number of {settings.block} blocks",
        )
