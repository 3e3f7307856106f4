"""depotctl's command line: thin commands that parse, call and render."""

from __future__ import annotations

import os
import sys

from depotctl.cli import allocate as _allocate  # noqa: F401  (registers allocate, explain)
from depotctl.cli import console as _console  # noqa: F401  (registers the command)
from depotctl.cli import demo as _demo  # noqa: F401  (registers the command)
from depotctl.cli import diff as _diff  # noqa: F401  (registers the command)
from depotctl.cli import history as _history  # noqa: F401  (registers history ship)
from depotctl.cli import remote as _remote  # noqa: F401  (registers the controller commands)
from depotctl.cli import schema as _schema  # noqa: F401  (registers the command)
from depotctl.cli import serve as _serve  # noqa: F401  (registers the command)
from depotctl.cli import sim as _sim  # noqa: F401  (registers the sim commands)
from depotctl.cli import snapshot as _snapshot  # noqa: F401  (registers snapshot export)
from depotctl.cli import validate as _validate  # noqa: F401  (registers the command)
from depotctl.cli.app import app


def main() -> None:
    """Console-script entry point; exit codes are the contracts' (0/1/2/3/4)."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:  # the last resort: exit 3 with a message, not a traceback
        if os.environ.get("DEPOTCTL_DEBUG"):
            raise
        sys.stderr.write(
            f"depotctl: internal error: {type(error).__name__}: {error}\n"
            "  run again with DEPOTCTL_DEBUG=1 for the traceback, and please report it\n"
        )
        sys.exit(3)


__all__ = ["app", "main"]
