"""The header line (site, revision, the controller's clock, the connection) and the
banner shown while the controller cannot be reached."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from depotctl.console.model import Link, Model
from depotctl.domain.instants import format_instant


def header_text(model: Model) -> Text:
    """``● connected  au-bus-depot  rev 1 8ee20a66  2026-03-03 01:00:00+11:00 sim ×60``,
    then ``⚠ 2 chargers uncontrollable`` while any is; looking back, ``PAST`` before
    the past cycle's time."""
    text = Text(" ")
    link = model.connection.link
    if link is Link.CONNECTED:
        text.append("● connected", "bold green")
    elif link is Link.CONNECTING:
        text.append("○ connecting", "yellow")
    elif link is Link.REFUSED:
        text.append("✖ TOKEN REFUSED", "bold red")
    else:
        text.append("✖ UNREACHABLE", "bold red")
    text.append(f"  {model.site_name or '…'}", "bold")
    if model.revision is not None:
        text.append(f"  rev {model.revision}")
        if model.revision_hash:
            text.append(f" {model.revision_hash[:8]}", "dim")
    if model.time is not None:
        shown = format_instant(model.time, model.local)
        wall = len("2026-03-03 01:00:00")  # the offset after it is dimmed
        if model.past is not None:  # the time shown is the past cycle's, not the clock's
            text.append("  ")
            text.append("PAST", "bold reverse")
        text.append("  " + shown[:wall])
        text.append(shown[wall:], "dim")
        if model.clock_kind == "sim":
            speed = f"×{model.speed:g}" if model.speed else "paused"
            text.append(f" sim {speed}", "yellow")
    if model.planner is not None and model.planner.state != "off":
        text.append(*plan_words(model))
    if not model.may_write and link is Link.CONNECTED:
        text.append("  read-only", "dim")
    uncontrollable = model.uncontrollable_chargers
    if uncontrollable:
        noun = "charger" if uncontrollable == 1 else "chargers"
        text.append(f"  ⚠ {uncontrollable} {noun} uncontrollable", "bold yellow")
    return text


#: how the header colours the planner's state
PLAN_STYLES = {"following": "green", "failed": "bold red", "stale": "yellow"}


def plan_words(model: Model) -> tuple[str, str]:
    """``  plan following`` (green), ``  plan failed since 18:07:12`` (red), ``  plan
    stale since …``, ``  plan waiting``: the planner's state and its style (a site
    that does not plan shows none)."""
    planner = model.planner
    assert planner is not None
    since = planner.since if planner.state in ("failed", "stale") else None
    when = f" since {since.astimezone(model.local):%H:%M:%S}" if since is not None else ""
    return f"  plan {planner.state}{when}", PLAN_STYLES.get(planner.state, "dim")


def banner_text(model: Model) -> Text:
    connection = model.connection
    if connection.link is Link.REFUSED:
        return refused_text(model)
    text = Text(f"Controller unreachable at {connection.url}", "bold")
    text.append(f"\n{connection.error or 'no answer'}")
    text.append(
        f"\nretrying in {connection.retry_in:g} s (attempt {connection.attempt}); "
        "the data below is from the last answer",
        "italic",
    )
    return text


def refused_text(model: Model) -> Text:
    """A token the controller refuses: a configuration error, with its fix."""
    connection = model.connection
    text = Text(f"The controller at {connection.url} refuses the console's token", "bold")
    text.append(f"\n{connection.error or 'refused'}")
    source = connection.token_source or "the token the console was started with"
    text.append(
        f"\nThe token is read from {source}. Give the console this controller's token: "
        "STATE_DIR/tokens/admin.token on its host (readonly.token to only look), with "
        "--token-file FILE or in a context (depotctl context add NAME --server "
        f"{connection.url} --token-file FILE)."
    )
    kept = "; the data below is from the last answer" if model.loaded else ""
    text.append(f"\nAsking again every {connection.retry_in:g} s{kept}", "italic")
    return text


class StatusBar(Static):
    """One line (its height is fixed in the CSS): a new text needs no layout."""

    def update_model(self, model: Model) -> None:
        self.update(header_text(model), layout=False)


class Banner(Static):
    """Visible only while reconnecting, or while the controller refuses the token."""

    def update_model(self, model: Model) -> None:
        down = model.connection.link in (Link.RECONNECTING, Link.REFUSED)
        self.display = down
        if down:
            self.update(banner_text(model))
