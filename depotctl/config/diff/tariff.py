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
    Section,
    Subject,
    compare,
    keyed,
    present,
    shown,
    value_at,
)
from depotctl.config.schema import (
    DemandWindow,
    EnergyWindow,
    Season,
    TariffRef,
    TariffSpec,
)
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
        return Change(
            Action.CHANGE,
            Kind.TARIFF,
            Section.TARIFF,
            "spec.tariff.ref",
            message,
            field="ref",
            old="inline",
            new=new.ref,
        )
    if isinstance(old, TariffRef):
        message = f"tariff now written inline (was ref {old.ref})"
        return Change(
            Action.CHANGE,
            Kind.TARIFF,
            Section.TARIFF,
            "spec.tariff.ref",
            message,
            field="ref",
            old=old.ref,
            new="inline",
        )
    return None


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
    before, after = keyed(old, lambda s: s.name), keyed(new, lambda s: s.name)
    changes: list[Change] = []
    for name, season in after.items():
        subject = _child(_TARIFF, "season", name, "seasons")
        previous = before.get(name)
        if previous is None:
            count = len(season.energy)
            details = f"{season.from_} to {season.to}, {count} energy window{'s' * (count != 1)}"
            changes.append(_whole(Action.ADD, subject, f"{subject.name} added ({details})"))
            continue
        changes += present(
            [
                compare(subject, "from", "start", previous.from_, season.from_),
                compare(subject, "to", "end", previous.to, season.to),
            ]
        )
        changes += _energy_changes(subject, previous.energy, season.energy)
        changes += _demand_changes(subject, previous.demand, season.demand)
    for name in [n for n in before if n not in after]:
        subject = _child(_TARIFF, "season", name, "seasons")
        changes.append(_whole(Action.REMOVE, subject, f"{subject.name} removed"))
    return changes


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
    """Windows matched by name: added, removed, or changed field by field."""
    before: dict[str, Window] = keyed(old, lambda w: w.name)
    after: dict[str, Window] = keyed(new, lambda w: w.name)
    changes: list[Change] = []
    for name, window in after.items():
        subject = _child(parent, noun, name, key)
        previous = before.get(name)
        if previous is None:
            message = f"{subject.name} added ({_window_phrase(window)}, {shown(window.price)})"
            changes.append(_whole(Action.ADD, subject, message))
            continue
        changes += _window_changes(subject, previous, window, fields)
    for name in [n for n in before if n not in after]:
        subject = _child(parent, noun, name, key)
        changes.append(_whole(Action.REMOVE, subject, f"{subject.name} removed"))
    return changes


def _window_changes(
    subject: Subject,
    old: EnergyWindow | DemandWindow,
    new: EnergyWindow | DemandWindow,
    fields: tuple[tuple[str, str], ...],
) -> list[Change]:
    changes = present(
        compare(subject, key, label, value_at(old, key), value_at(new, key))
        for key, label in fields
    )
    if days_of(old.days) != days_of(new.days):
        changes += present([compare(subject, "days", "days", old.days, new.days)])
    return changes


def days_of(days: str | list[str]) -> frozenset[str]:
    """The day names a ``days`` value covers: ``weekdays`` and ``[mon, …, fri]`` are equal."""
    names = [days] if isinstance(days, str) else days
    return frozenset(day for name in names for day in DAY_GROUPS.get(name, (name,)))


def _window_phrase(window: EnergyWindow | DemandWindow) -> str:
    """``weekdays 15:00–21:00`` (or ``in peak`` for a demand charge tied to a window)."""
    if isinstance(window, DemandWindow) and window.period is not None:
        return f"{shown(window.days)} in {window.period}"
    return f"{shown(window.days)} {window.from_}–{window.to}"


def _child(parent: Subject, noun: str, name: str, key: str) -> Subject:
    """``tariff season summer window peak`` at ``spec.tariff.seasons[summer].energy[peak]``,
    id ``summer/peak``."""
    return Subject(
        f"{parent.name} {noun} {name}",
        Kind.TARIFF,
        Section.TARIFF,
        f"{parent.path}.{key}[{name}]",
        f"{parent.id}/{name}" if parent.id else name,
    )


def _whole(action: Action, subject: Subject, message: str) -> Change:
    return Change(action, subject.kind, subject.section, subject.path, message, id=subject.id)
