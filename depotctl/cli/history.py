"""``depotctl history ship``: one controller's journal, sessions, telemetry and revisions
into the fleet's PostgreSQL history database (docs/history.md). The driver is the
optional extra ``history``, loaded only when the command runs."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from depotctl.cli.app import command_group
from depotctl.cli.failures import refused
from depotctl.cli.parameters import bare_option, positive_seconds
from depotctl.domain.refusal import Refusal

if TYPE_CHECKING:
    from depotctl.history.shipping import Shipped, Shipper
    from depotctl.history.target import HistoryTarget

history_app = command_group(
    "history",
    "Fleet history: ship a controller's journal, sessions and telemetry to a PostgreSQL "
    "database that many depots share.",
)


@history_app.command("ship")
def ship(
    history_url: Annotated[
        str,
        bare_option(
            "--history-url",
            metavar="URL",
            help="The history database, postgresql://[USER@]HOST[:PORT]/DBNAME (or "
            "?host=/socket/dir), never with a password.",
        ),
    ],
    state_dir: Annotated[
        Path | None,
        bare_option(
            "--state-dir",
            metavar="DIR",
            help="The controller's state directory (its store is read, never written). "
            "Default: $XDG_STATE_HOME/depotctl, else ~/.local/state/depotctl.",
        ),
    ] = None,
    depot: Annotated[
        str | None,
        bare_option(
            "--depot",
            metavar="NAME",
            help="The depot's name on every row. Default: the site's metadata.name.",
        ),
    ] = None,
    password_env: Annotated[
        str | None,
        bare_option("--password-env", metavar="VAR", help="Read the password from VAR."),
    ] = None,
    password_file: Annotated[
        Path | None,
        bare_option("--password-file", metavar="FILE", help="Read the password from FILE."),
    ] = None,
    once: Annotated[
        bool, bare_option("--once", help="Ship the backlog once and exit (cron, a test).")
    ] = False,
    interval: Annotated[
        str, typer.Option("--interval", metavar="DURATION", help="Time between rounds.")
    ] = "10 s",
) -> None:
    """Ship a controller's journal, sessions, telemetry and site revisions to PostgreSQL.

    Reads the store of STATE_DIR read-only, beside a running `depotctl serve`, and
    upserts its rows into the history database under the depot's name, each batch with
    its cursor in one transaction: at least once, never doubled. While the database is
    unreachable the backlog waits in the store and the shipper retries each round.
    Without `--password-env` or `--password-file`, libpq's PGPASSFILE (or ~/.pgpass)
    gives the password. Needs the `history` extra (`pip install 'depotctl[history]'`).

    Exit codes: 0 shipped (`--once`) or stopped with Ctrl-C, 2 usage (a password in
    the URL), 3 the store or the database cannot be used (`--once`), 4 another store
    ships under this depot's name.

    **Examples**

    ```
    depotctl history ship --state-dir /var/lib/depotctl \\
        --history-url postgresql://shipper@pg.example/fleet \\
        --password-env HISTORY_PW
    PGPASSFILE=/etc/depotctl/pgpass depotctl history ship --once \\
        --history-url postgresql://shipper@pg.example/fleet
    ```
    """
    from depotctl.api.state_dir import StateDir
    from depotctl.cli.serve import default_state_dir

    every_s = positive_seconds(interval, "--interval", what="the interval")
    try:
        target = checked_target(history_url, password_env, password_file)
        shipper = open_shipper(target, StateDir(state_dir or default_state_dir()).store, depot)
    except Refusal as refusal:
        raise refused("history ship", refusal) from None
    try:
        ship_rounds(shipper, once=once, every_s=every_s)
    except Refusal as refusal:
        raise refused("history ship", refusal) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
    finally:
        shipper.close()
        shipper.backlog.close()


def checked_target(url: str, password_env: str | None, password_file: Path | None) -> HistoryTarget:
    """The history database of ``--history-url``, its password read; a :class:`Refusal`
    for a URL with a password, a password source that cannot be used, or no driver."""
    try:
        from depotctl.history.target import history_target
    except ImportError as error:
        raise Refusal(
            f"the PostgreSQL driver is not installed ({error.name}): pip install"
            " 'depotctl[history]'",
            3,
        ) from None
    return history_target(url, password_env=password_env, password_file=password_file)


def open_shipper(target: HistoryTarget, store: Path, depot: str | None) -> Shipper:
    """A shipper of the store at ``store`` under ``depot``, by default the site's name."""
    from depotctl.history.backlog import StoreBacklog
    from depotctl.history.shipping import Shipper

    backlog = StoreBacklog.open(store)
    name = depot or backlog.site_name()
    if not name:
        backlog.close()
        raise Refusal(
            f"{backlog.path} has no site revision to name the depot: give --depot NAME", 2
        )
    return Shipper(backlog, target, name)


def _warn(line: str) -> None:
    sys.stderr.write(f"depotctl history ship: {line}\n")


def ship_rounds(
    shipper: Shipper,
    *,
    once: bool,
    every_s: float,
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[str], None] = typer.echo,
    warn: Callable[[str], None] = _warn,
) -> None:
    """Ship a round every ``every_s`` (``sleep`` waits), saying (``say``) what it shipped,
    and warning (``warn``) when the database went away (once) and when it is back; with
    ``once``, one round, a :class:`Refusal` when it cannot."""
    from psycopg import Error as DatabaseError

    from depotctl.history.shipping import HistoryUnavailable

    where = f"{shipper.target.shown} as depot {shipper.depot}"
    down = False
    while True:
        try:
            shipped = shipper.ship_round()
        except HistoryUnavailable as error:
            if once:
                raise Refusal(f"the history database {where} is unreachable: {error}", 3) from None
            if not down:
                warn(
                    f"{shipper.target.shown} is unreachable ({error}); the backlog waits in"
                    f" the store, retrying every {every_s:g} s"
                )
            down = True
        except DatabaseError as error:
            raise Refusal(f"the history database {where} refused a batch: {error}", 3) from None
        except sqlite3.Error as error:  # the store, mid-migration or on a failing disk
            if once:
                raise Refusal(f"{shipper.backlog.path} cannot be read: {error}", 3) from None
            warn(f"{shipper.backlog.path} cannot be read ({error}); retrying in {every_s:g} s")
        else:
            if down:
                warn(f"{shipper.target.shown} is back")
            down = False
            if once or any(shipped):
                say(f"shipped {_counts(shipped)} to {where}")
        if once:
            return
        sleep(every_s)


def _counts(shipped: Shipped) -> str:
    """The three streams always, the quarter hours and revisions when there were any."""
    return ", ".join(
        _count(n, *words)
        for n, words, always in (
            (shipped.journal, ("journal entry", "journal entries"), True),
            (shipped.sessions, ("session", "sessions"), True),
            (shipped.telemetry, ("telemetry minute", "telemetry minutes"), True),
            (shipped.quarters, ("telemetry quarter hour", "telemetry quarter hours"), False),
            (shipped.revisions, ("site revision", "site revisions"), False),
        )
        if always or n
    )


def _count(number: int, one: str, many: str) -> str:
    return f"{number:,} {one if number == 1 else many}"
