"""Carbon factors: a constant, a daily profile (a file or 24 values), or a dated series."""

from __future__ import annotations

from collections.abc import Sequence

from depotctl.config.diff.change import (
    ARROW,
    Action,
    Change,
    Kind,
    Section,
    Subject,
    compare,
    present,
    same,
    shown,
)
from depotctl.config.schema import Carbon

_CARBON = Subject("carbon", Kind.CARBON, Section.CARBON, "spec.carbon")


def describe_carbon(carbon: Carbon) -> str:
    """``constant 0.66 kg/kWh``, ``daily profile carbon/x.csv``, ``series carbon/y.csv``."""
    if carbon.constant is not None:
        return f"constant {shown(carbon.constant)}"
    if isinstance(carbon.profile, str):
        return f"daily profile {carbon.profile}"
    if carbon.profile is not None:
        return f"daily profile of {len(carbon.profile)} inline values"
    return f"series {carbon.series}"


def carbon_changes(old: Carbon | None, new: Carbon | None) -> list[Change]:
    """The carbon source added, removed or changed; and its price, old → new."""
    changes = _source_changes(old, new)
    if old is not None and new is not None:
        changes += present([compare(_CARBON, "price", "price", old.price, new.price)])
    return changes


def _source_changes(old: Carbon | None, new: Carbon | None) -> list[Change]:
    if old is None:
        return [] if new is None else [_whole(Action.ADD, None, describe_carbon(new))]
    if new is None:
        return [_whole(Action.REMOVE, describe_carbon(old), None)]
    if _form(old) != _form(new):
        before, after = describe_carbon(old), describe_carbon(new)
        return [
            Change(
                Action.CHANGE,
                Kind.CARBON,
                Section.CARBON,
                "spec.carbon",
                f"carbon source {before} {ARROW} {after}",
                old=before,
                new=after,
            )
        ]
    if isinstance(old.profile, list) and isinstance(new.profile, list):
        return present([_inline_profile_change(old.profile, new.profile)])
    return present(
        [
            compare(_CARBON, "constant", "constant", old.constant, new.constant),
            compare(_CARBON, "profile", "daily profile", old.profile, new.profile),
            compare(_CARBON, "series", "series", old.series, new.series),
        ]
    )


def _form(carbon: Carbon) -> str:
    if carbon.constant is not None:
        return "constant"
    if carbon.profile is not None:
        return "profile file" if isinstance(carbon.profile, str) else "profile values"
    return "series"


def _inline_profile_change(old: Sequence[object], new: Sequence[object]) -> Change | None:
    if same(old, new):
        return None
    if len(old) != len(new):
        detail = f"{len(old)} values {ARROW} {len(new)} values"
    else:
        hours = [str(h) for h, (a, b) in enumerate(zip(old, new, strict=True)) if not same(a, b)]
        detail = f"hour{'s' * (len(hours) != 1)} {', '.join(hours)}"
    return Change(
        Action.CHANGE,
        Kind.CARBON,
        Section.CARBON,
        "spec.carbon.profile",
        f"carbon daily profile changed ({detail})",
        field="profile",
    )


def _whole(action: Action, before: str | None, after: str | None) -> Change:
    """A carbon source added or removed."""
    verb = "added" if action is Action.ADD else "removed"
    return Change(
        action,
        Kind.CARBON,
        Section.CARBON,
        "spec.carbon",
        f"carbon source {verb} ({after or before})",
        old=before,
        new=after,
    )
