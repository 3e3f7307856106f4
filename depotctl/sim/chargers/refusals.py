"""What a simulated charger says when the controller refuses its connection: the HTTP
status, what the controller means by it (README, "OCPP endpoint"), and where the reason
is. The controller itself answers a bare status, so that an outsider learns nothing;
it journals the reason as ``charger.refused``."""

from __future__ import annotations

#: What each status the controller refuses with means, for the charger's operator.
MEANINGS = {
    400: "its OCPP version is not the one the site gives it",
    401: "its identity is not one of the site's, or its password is not the controller's",
    403: "the controller has no password configured for it",
    429: "too many refused attempts from this address: refused unchecked for a while",
    503: "the controller cannot read its password: its password_file or password_env",
}

#: The command that shows the controller's reasons.
JOURNAL_COMMAND = "depotctl journal --kind charger.refused"


def refusal(status: int) -> str:
    """``refused by the controller: HTTP 503 (…); depotctl journal --kind
    charger.refused says why``."""
    meaning = MEANINGS.get(status)
    said = f" ({meaning})" if meaning else ""
    return f"refused by the controller: HTTP {status}{said}; {JOURNAL_COMMAND} says why"
