"""The tariff: where it is written (inline or ``ref``), and its content — currency,
seasons, time-of-use energy windows, demand charges and the fixed charge.

A referenced tariff's content is compared when the caller has loaded it; paths
into it are written as if it were inline (``spec.tariff.seasons[summer]…``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from depotctl.config.diff.change import (
    Action,
    Change,
    Kind,
    Listing,
    Section,
    Subject,
    compare,
    present,
    shown,
)
from depotctl.config.schema import DemandWindow, EnergyWindow, Season, TariffRef, TariffSpec
from depotctl.config.schema.prices import Prices
from depotctl.domain.tariff_calendar import DAY_GROUPS

TariffSetting = TariffSpec | TariffRef | None

_TARIFF = Subject("tariff", Kind.TARIFF, Section.TARIFF, "spec.tariff")
_ENERGY_FIELDS = (("price", "price"), ("from", "start"), ("to", "end"))
_DEMAND_FIELDS = (("price", "price"), ("from", "start"), ("to", "end"), ("period", "period"))


def tariff_changes(
    old: TariffSetting,
    new: TariffSetting,
    old_content: TariffSpec | None = None,
    new_content: TariffSpec | None = None,
) -> list[Change]:
    """Where the tariff is written, then what it says. ``*_content`` is a referenced
    tariff's spec, loaded by the caller; without it only the ref is compared."""
    if old is None and new is None:
        return []
    if old is None or new is None:
        return [_added_or_removed(old, new, old_content, new_content)]
    changes = present([_placement(old, new)])
    before = old if isinstance(old, TariffSpec) else old_content
    after = new if isinstance(new, TariffSpec) else new_content
    if before is not None and after is not None:
        changes += content_changes(before, after)
    return changes


def _added_or_removed(
    old: TariffSetting,
    new: TariffSetting,
    old_content: TariffSpec | None,
    new_content: TariffSpec | None,
) -> Change:
    setting, content = (new, new_content) if old is None else (old, old_content)
    spec = setting if isinstance(setting, TariffSpec) else content
    details = [f"ref {setting.ref}"] if isinstance(setting, TariffRef) else []
    if spec is not None:
        details.append(_spec_summary(spec))
    detail = f" ({', '.join(details)})" if details else ""
    action, verb = (Action.ADD, "added") if old is None else (Action.REMOVE, "removed")
    return Change(action, Kind.TARIFF, Section.TARIFF, "spec.tariff", f"tariff {verb}{detail}")


def _spec_summary(spec: TariffSpec) -> str:
    seasons = len(spec.seasons)
    fixed = f", fixed {shown(spec.fixed)}" if spec.fixed is not None else ""
    return f"{spec.currency}, {seasons} season{'s' * (seasons != 1)}{fixed}"


def _placement(old: TariffSpec | TariffRef, new: TariffSpec | TariffRef) -> Change | None:
    """A ref that changed, or a tariff moved into or out of its own file."""
    if isinstance(old, TariffRef) and isinstance(new, TariffRef):
        if posixpath.normpath(old.ref) == posixpath.normpath(new.ref):
            return None
        return compare(_TARIFF, "ref", "ref", old.ref, new.ref)
    if isinstance(new, TariffRef):
        message = f"tariff moved to its own file {new.ref} (was inline)"
        return _ref_change(message, "inline", new.ref)
    if isinstance(old, TariffRef):
        return _ref_change(f"tariff now written inline (was ref {old.ref})", old.ref, "inline")
    return None


def _ref_change(message: str, old: str, new: str) -> Change:
    """The tariff moved into or out of its own file (``inline`` where it is not one)."""
    path = "spec.tariff.ref"
    return Change(
        Action.CHANGE, Kind.TARIFF, Section.TARIFF, path, message, field="ref", old=old, new=new
    )


def content_changes(old: TariffSpec, new: TariffSpec) -> list[Change]:
    changes = present(
        [
            compare(_TARIFF, "currency", "currency", old.currency, new.currency),
            compare(_TARIFF, "fixed", "fixed charge", old.fixed, new.fixed),
        ]
    )
    changes += _season_changes(old.seasons, new.seasons)
    changes += _demand_changes(_TARIFF, old.demand, new.demand)
    return changes


def _season_changes(old: Sequence[Season], new: Sequence[Season]) -> list[Change]:
    return _SEASONS.changes(old, new)


def _season_added(subject: Subject, season: Season) -> str:
    count = len(season.energy)
    details = f"{season.from_} to {season.to}, {count} energy window{'s' * (count != 1)}"
    return f"{subject.name} added ({details})"


def _season_windows(subject: Subject, old: Season, new: Season) -> list[Change]:
    changes = _energy_changes(subject, old.energy, new.energy)
    return changes + _demand_changes(subject, old.demand, new.demand)


_SEASONS: Listing[str, Season] = Listing(
    key=lambda season: season.name,
    subject=lambda name: _TARIFF.part("season", name, "seasons"),
    fields=(("from", "start"), ("to", "end")),
    added=_season_added,
    removed=lambda subject, _: f"{subject.name} removed",
    nested=_season_windows,
)


Window = EnergyWindow | DemandWindow


def _energy_changes(
    season: Subject, old: Sequence[EnergyWindow], new: Sequence[EnergyWindow]
) -> list[Change]:
    return _windows_changes(season, old, new, "window", "energy", _ENERGY_FIELDS)


def _demand_changes(
    parent: Subject, old: Sequence[DemandWindow], new: Sequence[DemandWindow]
) -> list[Change]:
    return _windows_changes(parent, old, new, "demand charge", "demand", _DEMAND_FIELDS)


def _windows_changes(
    parent: Subject,
    old: Sequence[Window],
    new: Sequence[Window],
    noun: str,
    key: str,
    fields: tuple[tuple[str, str], ...],
) -> list[Change]:
    """Windows matched by name: added, removed, or changed field by field (and their
    days by the days they cover)."""
    listing: Listing[str, Window] = Listing(
        key=lambda window: window.name,
        subject=lambda name: parent.part(noun, name, key),
        fields=fields,
        added=lambda s, w: f"{s.name} added ({_window_phrase(w)}, {shown(w.price)})",
        removed=lambda subject, _: f"{subject.name} removed",
        nested=_days_changes,
    )
    return listing.changes(old, new)


def _days_changes(subject: Subject, old: Window, new: Window) -> list[Change]:
    if days_of(old.days) == days_of(new.days):
        return []
    return present([compare(subject, "days", "days", old.days, new.days)])


def days_of(days: str | list[str]) -> frozenset[str]:
    """The day names a ``days`` value covers: ``weekdays`` and ``[mon, …, fri]`` are equal."""
    names = [days] if isinstance(days, str) else days
    return frozenset(day for name in names for day in DAY_GROUPS.get(name, (name,)))


def _window_phrase(window: EnergyWindow | DemandWindow) -> str:
    """``weekdays 15:00–21:00`` (or ``in peak`` for a demand charge tied to a window)."""
    if isinstance(window, DemandWindow) and window.period is not None:
        return f"{shown(window.days)} in {window.period}"
    return f"{shown(window.days)} {window.from_}–{window.to}"


_PRICES = Subject("prices", Kind.TARIFF, Section.TARIFF, "spec.prices")


def price_changes(old: Prices | None, new: Prices | None) -> list[Change]:
    """The dynamic price series named, added or removed (its file's content is not read)."""
    before, after = (p.series if p is not None else None for p in (old, new))
    return present([compare(_PRICES, "series", "price series", before, after)])
