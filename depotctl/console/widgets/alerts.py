"""The alert banner: one line above the panes naming the open alerts — red while one
is critical (a node over-committed), yellow otherwise — hidden when there are none.
The text is ``depotctl status``'s alerts line, in the site's time."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from depotctl.client.alerts import alerts_line
from depotctl.console.model import Model


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
