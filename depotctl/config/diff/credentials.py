"""Credentials are compared by reference and never shown: an environment variable's name
or a file's path is not secret, a password or token written inline is."""

from __future__ import annotations

from depotctl.config.diff.change import ARROW, Action, Change, Subject


def reference(settings: object, secret: str) -> str | None:
    """How ``settings`` names its ``secret``: ``password_env CP01_PASSWORD``,
    ``password_file /etc/…``, or ``inline password`` (never the value)."""
    if settings is None:
        return None
    parts = []
    env = getattr(settings, f"{secret}_env", None)
    file = getattr(settings, f"{secret}_file", None)
    if env is not None:
        parts.append(f"{secret}_env {env}")
    if file is not None:
        parts.append(f"{secret}_file {file}")
    if getattr(settings, secret, None) is not None:
        parts.append(f"inline {secret}")
    return ", ".join(parts) or None


def credentials_change(
    subject: Subject, field: str, label: str, old: object, new: object, secret: str
) -> Change | None:
    """The change in how ``old`` and ``new`` name their ``secret``; an inline value that
    changed is said to have changed, without either value."""
    before, after = reference(old, secret), reference(new, secret)
    inline_before = getattr(old, secret, None) if old is not None else None
    inline_after = getattr(new, secret, None) if new is not None else None
    inline_changed = inline_before is not None and inline_after not in (None, inline_before)
    if before == after and not inline_changed:
        return None
    path = f"{subject.path}.{field}"
    if before == after:
        action = Action.CHANGE
        message = f"{subject.name} inline {secret} changed (value not shown)"
    elif before is None:
        action, message = Action.ADD, f"{subject.name} {label} added ({after})"
    elif after is None:
        action, message = Action.REMOVE, f"{subject.name} {label} removed (was {before})"
    else:
        action = Action.CHANGE
        message = f"{subject.name} {label} changed ({_transition(before, after)})"
    return Change(
        action,
        subject.kind,
        subject.section,
        path,
        message,
        id=subject.id,
        field=field,
        old=before,
        new=after,
    )


def _transition(before: str, after: str) -> str:
    """``password_env CP01_PASSWORD → CP01_PW`` when only the name changed."""
    old_how, _, old_name = before.partition(" ")
    new_how, _, new_name = after.partition(" ")
    if old_how == new_how and "," not in before + after and old_name and new_name:
        return f"{old_how} {old_name} {ARROW} {new_name}"
    return f"{before} {ARROW} {after}"
