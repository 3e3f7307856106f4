"""Peer quirks: deviations from OSCP 2.0 seen in real implementations, each off unless a
site declares it for a source (``envelope_sources[].oscp.quirks``).

- ``acknowledge_path``: the peer's endpoint for ``HandshakeAcknowledge`` is not
  ``handshake_acknowledge`` (pyoscp uses ``handshake_acknowledgment``): this
  controller sends its acknowledgement there, and accepts the peer's at the same
  path below its own base URL;
- ``naive_zone``: the peer writes datetimes without an offset, meaning this zone
  (without it, such a datetime is refused);
- ``trailing_slash``: the peer's endpoints end in ``/`` (``…/2.0/heartbeat/``);
- ``omits_measurement_configuration``: the peer's ``required_behaviour`` lacks
  ``measurement_configuration`` (pyoscp's acknowledgement): read as ``[]``, no
  configuration (without it, such a body is refused: the field is required).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

#: The specification's path for the acknowledgement of a handshake.
ACKNOWLEDGE_PATH = "handshake_acknowledge"


@dataclass(frozen=True, slots=True)
class PeerQuirks:
    """The quirks of one peer (see the module docstring); the default is none."""

    acknowledge_path: str = ACKNOWLEDGE_PATH
    naive_zone: ZoneInfo | None = None
    trailing_slash: bool = False
    omits_measurement_configuration: bool = False

    def endpoint(self, name: str) -> str:
        """The peer's path for the endpoint the specification calls ``name``."""
        return self.acknowledge_path if name == ACKNOWLEDGE_PATH else name

    def written(self, body: Any) -> Any:
        """``body`` as the peer reads it: with ``naive_zone``, every datetime
        (``2026-03-02T06:05:00Z``) as a naive local time (``2026-03-02 17:05:00``)."""
        zone = self.naive_zone
        if zone is None:
            return body
        if isinstance(body, dict):
            return {key: self.written(value) for key, value in body.items()}
        if isinstance(body, list):
            return [self.written(value) for value in body]
        if isinstance(body, str) and _DATETIME.fullmatch(body):
            at = datetime.fromisoformat(body.replace("Z", "+00:00"))
            return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        return body

    def read(self, body: bytes) -> bytes:
        """``body`` as the specification has it: with
        ``omits_measurement_configuration``, a ``required_behaviour`` without
        ``measurement_configuration`` gets ``[]``. Anything else is left to the
        message's parser, unchanged."""
        if not self.omits_measurement_configuration:
            return body
        try:
            message = json.loads(body)
        except ValueError:
            return body
        behaviour = message.get("required_behaviour") if isinstance(message, dict) else None
        if not isinstance(behaviour, dict) or "measurement_configuration" in behaviour:
            return body
        behaviour["measurement_configuration"] = []
        return json.dumps(message).encode()


_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


#: No quirks: the specification as written.
NO_QUIRKS = PeerQuirks()
