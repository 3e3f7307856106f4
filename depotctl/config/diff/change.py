"""What a diff is made of: typed changes, each already phrased in an engineer's terms.

A :class:`Change` says what happened (``action``), to what (``kind``, ``id``,
``path``, ``field``), the values before and after as written (``old``, ``new``),
and a ``message`` such as ``circuit db-1 current limit 250 A → 200 A (−20 %),
6 chargers below it``. Values are compared by meaning: ``400 kW`` and ``0.4 MW``
are the same value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel

from depotctl.domain import Quantity, format_number

T = TypeVar("T")
K = TypeVar("K")

MINUS = "−"
ARROW = "→"


class Action(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    CHANGE = "change"
    MOVE = "move"

    @classmethod
    def of(cls, before: object, after: object) -> Action:
        """``add`` where there was nothing before, ``remove`` where nothing is left,
        else ``change``."""
        if before is None:
            return cls.ADD
        return cls.REMOVE if after is None else cls.CHANGE

    @property
    def symbol(self) -> str:
        """``+``, ``-`` or ``~``, as terraform shows them."""
        return {"add": "+", "remove": "-"}.get(self.value, "~")


class Kind(StrEnum):
    NODE = "node"
    LIMIT = "limit"
    EVSE = "evse"
    CONNECTOR = "connector"
    METER = "meter"
    ENVELOPE_SOURCE = "envelope_source"
    POLICY = "policy"
    TARIFF = "tariff"
    CARBON = "carbon"
    METADATA = "metadata"
    ELECTRICAL = "electrical"


class Section(StrEnum):
    """The headings of the text output, in the order they are shown."""

    TOPOLOGY = "Topology"
    LIMITS = "Limits"
    CHARGERS = "Chargers"
    ENVELOPE_SOURCES = "Envelope sources"
    POLICIES = "Policies"
    TARIFF = "Tariff"
    CARBON = "Carbon"
    METADATA = "Metadata"


@dataclass(frozen=True, slots=True)
class Change:
    """One semantic difference between two sites."""

    action: Action
    kind: Kind
    section: Section
    path: str
    message: str
    id: str | None = None
    field: str | None = None
    old: str | None = None  #: the old value as shown; None when it is added
    new: str | None = None  #: the new value as shown; None when it is removed
    change_pct: float | None = None  #: percent from old to new (quantities of one dimension)
    affected_chargers: int | None = None  #: chargers below a changed node


@dataclass(frozen=True, slots=True)
class SiteDiff:
    """Every change from an old site to a new one; empty when they mean the same."""

    old_name: str
    new_name: str
    changes: tuple[Change, ...]

    @property
    def is_empty(self) -> bool:
        return not self.changes

    @property
    def to_add(self) -> int:
        return sum(c.action is Action.ADD for c in self.changes)

    @property
    def to_change(self) -> int:
        """Changes and moves (a move is a change of parent)."""
        return sum(c.action in (Action.CHANGE, Action.MOVE) for c in self.changes)

    @property
    def to_remove(self) -> int:
        return sum(c.action is Action.REMOVE for c in self.changes)

    def in_section(self, section: Section) -> list[Change]:
        return [c for c in self.changes if c.section is section]


@dataclass(frozen=True, slots=True)
class Subject:
    """What a run of field changes is about: ``circuit db-1`` at ``spec.nodes[db-1]``."""

    name: str
    kind: Kind
    section: Section
    path: str
    id: str | None = None

    def part(self, noun: str, name: object, key: str, kind: Kind | None = None) -> Subject:
        """One of its parts: ``tariff season summer`` at ``spec.tariff.seasons[summer]``,
        id ``summer`` (``{its id}/summer`` when it has one), of its kind unless ``kind``."""
        return Subject(
            f"{self.name} {noun} {name}",
            kind or self.kind,
            self.section,
            f"{self.path}.{key}[{name}]",
            f"{self.id}/{name}" if self.id else str(name),
        )

    def whole(self, action: Action, message: str) -> Change:
        """The subject added or removed as a whole."""
        return Change(action, self.kind, self.section, self.path, message, id=self.id)


def shown(value: object) -> str | None:
    """A value as an engineer reads it: ``250 A``, ``true``, ``weekdays``, ``a=1, b=2``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Quantity):
        return str(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={shown(v)}" for k, v in sorted(value.items())) or "(none)"
    if isinstance(value, list | tuple):
        return ", ".join(str(shown(v)) for v in value) or "(none)"
    return str(value)


def same(old: object, new: object) -> bool:
    """Equal in meaning: quantities by value in their base unit, lists item by item."""
    if isinstance(old, Quantity) or isinstance(new, Quantity):
        return (
            isinstance(old, Quantity)
            and isinstance(new, Quantity)
            and old.dimension is new.dimension
            and old == new
        )
    if isinstance(old, list | tuple) and isinstance(new, list | tuple):
        return len(old) == len(new) and all(same(a, b) for a, b in zip(old, new, strict=True))
    return old == new


def percent_change(old: object, new: object) -> float | None:
    """``-20.0`` for 250 A → 200 A; None unless both are quantities of one dimension."""
    if not (isinstance(old, Quantity) and isinstance(new, Quantity)):
        return None
    if old.dimension is not new.dimension or old.base == 0:
        return None
    return round((new.base - old.base) / abs(old.base) * 100, 1)


def signed_percent(pct: float) -> str:
    """``+15.6 %``, ``−20 %`` (a true minus sign)."""
    sign = MINUS if pct < 0 else "+"
    return f"{sign}{format_number(abs(pct))} %"


def compare(
    subject: Subject,
    field: str,
    label: str,
    old: object,
    new: object,
    *,
    kind: Kind | None = None,
    section: Section | None = None,
    affected_chargers: int | None = None,
) -> Change | None:
    """The change of one field, or None when old and new mean the same.

    A value that appears is an ``add``, one that disappears a ``remove``.
    """
    if same(old, new):
        return None
    before, after = shown(old), shown(new)
    pct = percent_change(old, new)  # None unless both are there
    action = Action.of(before, after)
    message = {
        Action.ADD: f"{subject.name} {label} {after} added",
        Action.REMOVE: f"{subject.name} {label} {before} removed",
    }.get(action, f"{subject.name} {label} {before} {ARROW} {after}")
    if pct is not None:
        message += f" ({signed_percent(pct)})"
    if affected_chargers:
        message += f", {chargers_phrase(affected_chargers)} below it"
    return Change(
        action,
        kind or subject.kind,
        section or subject.section,
        f"{subject.path}.{field}",
        message,
        id=subject.id,
        field=field,
        old=before,
        new=after,
        change_pct=pct,
        affected_chargers=affected_chargers,
    )


def chargers_phrase(count: int) -> str:
    return f"{count} charger{'s' * (count != 1)}"


def present(changes: Iterable[Change | None]) -> list[Change]:
    """The changes that are there (``compare`` returns None for an unchanged field)."""
    return [c for c in changes if c is not None]


_ATTRIBUTES = {"import": "import_", "from": "from_"}


def value_at(model: object, field: str) -> object:
    """The value at a dotted key path as written in YAML (``limits.import``); None where
    any step is absent, so models of different types can be compared field by field.
    A whole mapping (a model) is not a value and counts as absent."""
    value = model
    for key in field.split("."):
        if value is None:
            return None
        value = getattr(value, _ATTRIBUTES.get(key, key), None)
    return None if isinstance(value, BaseModel) else value


def field_changes(
    subject: Subject, fields: Iterable[tuple[str, str]], old: object, new: object
) -> list[Change]:
    """The changes of ``fields`` (key path, label) from ``old`` to ``new``."""
    return present(
        compare(subject, key, label, value_at(old, key), value_at(new, key))
        for key, label in fields
    )


def _nothing_nested(subject: Subject, old: object, new: object) -> list[Change]:
    return []


@dataclass(frozen=True, slots=True)
class Listing(Generic[K, T]):
    """How a list's items are compared: matched by ``key`` (the first of a repeated
    one), each about its ``subject``; one in both lists by its ``fields`` (key path,
    label) and by what ``nested`` finds within it; one added or removed as a whole,
    with the message ``added`` or ``removed`` gives."""

    key: Callable[[T], K]
    subject: Callable[[K], Subject]
    fields: tuple[tuple[str, str], ...]
    added: Callable[[Subject, T], str]
    removed: Callable[[Subject, T], str]
    nested: Callable[[Subject, T, T], list[Change]] = _nothing_nested

    def changes(self, old: Iterable[T], new: Iterable[T]) -> list[Change]:
        """Those added or changed, in the new list's order; then those removed, in the
        old one's."""
        before, after = keyed(old, self.key), keyed(new, self.key)
        changes: list[Change] = []
        for item_key, item in after.items():
            subject = self.subject(item_key)
            previous = before.get(item_key)
            if previous is None:
                changes.append(subject.whole(Action.ADD, self.added(subject, item)))
                continue
            changes += field_changes(subject, self.fields, previous, item)
            changes += self.nested(subject, previous, item)
        for item_key, item in before.items():
            if item_key not in after:
                subject = self.subject(item_key)
                changes.append(subject.whole(Action.REMOVE, self.removed(subject, item)))
        return changes


def keyed(items: Iterable[T], key: Callable[[T], K]) -> dict[K, T]:
    """Items by their key, the first one winning (repeated ids are validate's business)."""
    found: dict[K, T] = {}
    for item in items:
        found.setdefault(key(item), item)
    return found
