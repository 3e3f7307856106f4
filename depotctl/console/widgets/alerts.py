"""The open alerts: the banner, one line above the panes naming them — red while one
is critical (a node over-committed), yellow otherwise — hidden when there are none
(``depotctl status``'s alerts line, in the site's time); and the alerts pane, one row
each — the critical first — with since when and for how long, and why."""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text
from textual.widgets import DataTable, Static

from depotctl.client.alerts import alerts_line, clock_text, headline
from depotctl.client.figures import for_people
from depotctl.console.model import Model

#: The alerts pane's columns: key, title, width (fixed, as the EVSE table's).
ALERT_COLUMNS = (
    ("severity", "", 8),
    ("alert", "Alert", 34),
    ("since", "Since", 28),
    ("why", "Why", 120),
)


def alert_text(model: Model) -> Text:
    """``⚠ alerts: 2 — node gc-main over-committed since 18:05 (…); …``."""
    line = alerts_line(model.alerts, model.local, model.time)
    return Text(f"⚠ alerts: {line}", "bold")


class AlertBanner(Static):
    """One line (its height is fixed in the CSS); shown while an alert is open."""

    def update_model(self, model: Model) -> None:
        shown = bool(model.alerts)
        self.display = shown
        if not shown:
            return
        critical = any(alert.is_critical for alert in model.alerts)
        self.set_class(critical, "critical")
        self.set_class(not critical, "warning")
        self.update(alert_text(model), layout=False)


def for_how_long(since: datetime, now: datetime | None) -> str:
    """``45 s``, ``58 min``, ``2 h 05 min``, ``3 d 4 h``: from ``since`` to ``now``."""
    if now is None:
        return ""
    seconds = max(0, int((now - since) / timedelta(seconds=1)))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 60:
        return f"{seconds} s"
    if minutes < 60:
        return f"{minutes} min"
    if hours < 24:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{days} d {hours % 24} h"


def alert_rows(model: Model) -> list[tuple[str, tuple[Text | str, ...]]]:
    """One row per open alert (its id as the key), the critical first."""
    rows: list[tuple[str, tuple[Text | str, ...]]] = []
    for alert in model.alerts:
        severity = Text(alert.severity.upper(), "bold red" if alert.is_critical else "yellow")
        since = clock_text(alert.since, model.local, model.time)
        lasted = for_how_long(alert.since, model.time)
        why = for_people(alert.reason, model.local, alert.since) if alert.reason else ""
        rows.append(
            (
                str(alert.id),
                (severity, headline(alert), f"{since} ({lasted})" if lasted else since, why),
            )
        )
    return rows


class AlertsTable(DataTable[Text | str]):
    """The open alerts, one a row; a row names none while there are none (or, looking
    back, that alerts are shown for now only)."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        for key, title, width in ALERT_COLUMNS:
            self.add_column(title, key=key, width=width)

    def update_model(self, model: Model) -> None:
        self.clear()
        rows = alert_rows(model)
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if not rows:
            words = "alerts are shown at now only (esc)" if model.past else "no open alerts"
            self.add_row("", Text(words, "dim"), "", "", key="none")
