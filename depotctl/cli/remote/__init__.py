"""Commands against a running controller: ``context``, ``status``, ``revisions``,
``plan``, ``apply``, ``rollback``, ``journal``, ``envelopes``, ``requirements``,
``override``, ``chargers``, ``report`` (and
``explain EVSE`` without ``--snapshot``, registered in :mod:`depotctl.cli.allocate`).

The HTTP client (:mod:`depotctl.client`) is imported inside the commands, so that
``validate`` and the other offline commands never load it. Exit codes: 0 ok; 1
changes present (``plan --detailed-exitcode``) or the site is invalid; 2 usage (also
an unknown EVSE, envelope or session, a refused request body, a missing ``--yes``);
3 I/O (the controller unreachable, a token refused, a file unreadable); 4 conflict
(the controller moved since the plan, a concurrent apply).
"""

from depotctl.cli.remote import (  # noqa: F401  (register the commands)
    chargers,
    contexts,
    inputs,
    journal,
    lineage,
    overrides,
    report,
    revisions,
)
from depotctl.cli.remote.connection import (
    Connection,
    ContextOption,
    Remote,
    ServerOption,
    TokenFileOption,
    YesOption,
    talking,
)
from depotctl.cli.remote.journal import explain_live, journal_line
from depotctl.cli.remote.revisions import plan_text
from depotctl.cli.render_explain import explain_text  # the same text offline and live

__all__ = [
    "Connection",
    "ContextOption",
    "Remote",
    "ServerOption",
    "TokenFileOption",
    "YesOption",
    "explain_live",
    "explain_text",
    "journal_line",
    "plan_text",
    "talking",
]
