"""Site metadata: the time zone is an IANA zone.

Tariff windows, departure times and billing months are local times in this zone, so
a wrong zone shifts every one of them.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator

from depotctl.config.checks.context import SiteContext, closest, site_check
from depotctl.config.rules import Finding, error

INVALID_TIMEZONE = error(
    "site/invalid-timezone",
    "metadata.timezone is not an IANA time zone",
    "use a tz database name such as Australia/Sydney or America/Los_Angeles",
)

#: Names the tz files hold that are not zones: the machine's own setting, and build leftovers.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
_NOT_ZONE_PREFIXES = ("posix/", "right/")
_OFFSET = re.compile(r"(?:UTC|GMT|Z)?\s*[+\u2212-]\s*\d{1,2}(?::?\d{2})?", re.IGNORECASE)
_ABBREVIATION = re.compile(r"[A-Z]{2,5}")


def zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA zone called ``name``, or None when there is none."""
    if name in _NOT_ZONES or name.startswith(_NOT_ZONE_PREFIXES):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def likely_zone(name: str) -> str | None:
    """The zone a mistyped ``name`` most likely means (``australia/sydney``, ``Sydney``,
    ``New York``); computed only for an invalid name, as listing the zones is slow."""
    zones = sorted(zoneinfo.available_timezones() - _NOT_ZONES)
    wanted = name.strip().replace(" ", "_").lower()
    by_name = {z.lower(): z for z in zones}
    if wanted in by_name:
        return by_name[wanted]
    places = [z for z in zones if "/" in z and not z.startswith("Etc/")]
    by_city = {z.rsplit("/", 1)[-1].lower(): z for z in places}
    if wanted in by_city:
        return by_city[wanted]
    if "/" not in name:  # "AEST" is not a typo of "EST": guess only at Region/City names
        return None
    return closest(name, places)


def _hint(name: str) -> str | None:
    guess = likely_zone(name)
    if guess is not None:
        return f'did you mean "{guess}"?'
    if _OFFSET.fullmatch(name.strip()):
        return (
            "an offset is not a zone: it ignores daylight saving (and Etc/GMT+10 means UTC-10); "
            "use the Region/City name of the depot's location, e.g. Australia/Sydney"
        )
    if _ABBREVIATION.fullmatch(name.strip()):
        return (
            "an abbreviation such as AEST or PST is not a zone (AEST becomes AEDT in summer); "
            "use the Region/City name of the depot's location, e.g. Australia/Sydney"
        )
    return None


@site_check
def timezone(ctx: SiteContext) -> Iterator[Finding]:
    name = ctx.site.metadata.timezone
    where = ("metadata", "timezone")
    if zone(name) is None:
        yield INVALID_TIMEZONE.at(
            where, f'time zone "{name}" is not an IANA time zone', _hint(name)
        )
