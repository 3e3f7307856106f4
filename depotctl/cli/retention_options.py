"""``depotctl serve --keep-decisions/--keep-telemetry/--keep-inputs``: how long the
controller's store keeps each kind of history (docs/retention.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from depotctl.cli.parameters import bare_option, positive_seconds

if TYPE_CHECKING:
    from depotctl.controller.retention import Retention

KeepDecisionsOption = Annotated[
    str,
    bare_option(
        "--keep-decisions",
        metavar="DURATION",
        help="How long the journal (every decision) and the telemetry's quarter hours are kept.",
    ),
]
KeepTelemetryOption = Annotated[
    str,
    bare_option(
        "--keep-telemetry",
        metavar="DURATION",
        help="How long telemetry is kept per minute before it is folded into quarter hours. "
        "Default: 30d.",
    ),
]
KeepInputsOption = Annotated[
    str,
    bare_option(
        "--keep-inputs",
        metavar="DURATION",
        help="How long the control cycles' inputs are kept (explain --at recomputed). "
        "Default: 35d.",
    ),
]

DEFAULT_DECISIONS, DEFAULT_TELEMETRY, DEFAULT_INPUTS = "400d", "30d", "35d"


def retention_of(decisions: str, telemetry: str, inputs: str) -> Retention:
    """The retention the three flags give, else a usage error naming the flag."""
    from depotctl.controller.retention import Retention

    kept = {
        flag: timedelta(seconds=positive_seconds(text, flag, what="the retention"))
        for flag, text in (
            ("--keep-decisions", decisions),
            ("--keep-telemetry", telemetry),
            ("--keep-inputs", inputs),
        )
    }
    for flag in ("--keep-telemetry", "--keep-inputs"):
        if kept[flag] > kept["--keep-decisions"]:
            raise typer.BadParameter(
                f"{flag} {telemetry if flag == '--keep-telemetry' else inputs} is longer "
                f"than --keep-decisions {decisions}; keep the decisions at least as long",
                param_hint=flag,
            )
    return Retention(
        decisions=kept["--keep-decisions"],
        raw_telemetry=kept["--keep-telemetry"],
        inputs=kept["--keep-inputs"],
    )
