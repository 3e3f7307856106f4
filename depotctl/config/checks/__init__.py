"""Semantic checks: the rules a schema-valid site must still satisfy.

Importing this package registers every check and its rules.
"""

from depotctl.config.checks import (  # noqa: F401  (each module registers its checks)
    assets,
    carbon,
    electrical,
    envelopes,
    planner,
    prices,
    references,
    safety,
    site,
    tariff,
    topology,
    vehicles,
)
from depotctl.config.checks.context import (
    SITE_CHECKS,
    TARIFF_CHECKS,
    SiteContext,
    TariffContext,
    describe,
    site_check,
    tariff_check,
)

__all__ = [
    "SITE_CHECKS",
    "TARIFF_CHECKS",
    "SiteContext",
    "TariffContext",
    "describe",
    "site_check",
    "tariff_check",
]
