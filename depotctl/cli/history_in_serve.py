"""``depotctl serve --history-url``: the history shipper beside the controller, in a
thread of its own (docs/history.md). It starts once the controller's store has its
site revision, ships a round every 10 s, logs through the controller's log (logger
``depotctl.history``), and nothing it meets stops the controller: SQLite stays the
controller's store, PostgreSQL only a copy."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from depotctl.cli.failures import refused
from depotctl.cli.history import checked_target, open_shipper, ship_rounds
from depotctl.cli.parameters import bare_option
from depotctl.domain.refusal import Refusal

if TYPE_CHECKING:
    from depotctl.history.shipping import Shipper
    from depotctl.history.target import HistoryTarget

log = logging.getLogger("depotctl.history")

#: Seconds between rounds.
EVERY_S = 10.0

_URL_HELP = (
    "Also ship the journal, sessions and telemetry to this PostgreSQL database, as `depotctl"
    " history ship` does; never with a password (PGPASSFILE, or the next two flags)."
)
HistoryUrlOption = Annotated[
    str | None, bare_option("--history-url", metavar="URL", help=_URL_HELP)
]
HistoryPasswordEnvOption = Annotated[
    str | None,
    bare_option("--history-password-env", metavar="VAR", help="The history password from VAR."),
]
HistoryPasswordFileOption = Annotated[
    Path | None,
    bare_option("--history-password-file", metavar="FILE", help="The history password from FILE."),
]


class _Stopped(Exception):
    """The controller stops: the shipper's wait ends."""


class ShippingBeside:
    """A context that ships the store at ``store`` to ``target`` while it is entered
    (``target`` None: it does nothing)."""

    def __init__(self, target: HistoryTarget | None, store: Path) -> None:
        self._target, self._store = target, store
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._ship, name="history-ship", daemon=True)

    def __enter__(self) -> ShippingBeside:
        if self._target is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _wait(self, seconds: float) -> None:
        if self._stopping.wait(seconds):
            raise _Stopped

    def _ship(self) -> None:
        shipper: Shipper | None = None
        try:
            while (shipper := self._shipper()) is None:
                self._wait(1.0)
            ship_rounds(
                shipper,
                once=False,
                every_s=EVERY_S,
                sleep=self._wait,
                say=log.info,
                warn=log.warning,
            )
        except _Stopped:
            pass
        except Refusal as refusal:
            log.error("history shipping stopped, the controller goes on: %s", refusal.message)
        except Exception:  # never the controller's end
            log.exception("history shipping stopped by an internal error, the controller goes on")
        finally:
            if shipper is not None:
                shipper.close()
                shipper.backlog.close()

    def _shipper(self) -> Shipper | None:
        """The shipper, once the store has its tables and site revision."""
        assert self._target is not None
        if not self._store.exists():
            return None
        try:
            return open_shipper(self._target, self._store, None)
        except Refusal:  # the controller is still creating the store
            return None


def history_beside(
    url: str | None, password_env: str | None, password_file: Path | None, state_dir: Path
) -> ShippingBeside:
    """``serve``'s shipping (nothing without ``url``); a URL or password source that
    cannot be used ends ``serve`` before it creates anything (exit 2 or 3)."""
    from depotctl.api.state_dir import StateDir

    try:
        target = None if url is None else checked_target(url, password_env, password_file)
    except Refusal as refusal:
        raise refused("serve", refusal) from None
    return ShippingBeside(target, StateDir(state_dir).store)
