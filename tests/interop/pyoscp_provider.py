"""pyoscp (https://github.com/NOWUM/pyoscp, on the registry; not written here) as the
Capacity Provider: its Flask-RESTX ``cp/2.0`` namespace, validating every body
against its message models, served by werkzeug on loopback in a thread.

Registration is pyoscp's own :class:`oscp.RegistrationManager.RegistrationDictMan`
(tokens, the peer's base URL and required behaviour, heartbeat deadlines, in a JSON
file); what it does on its own schedule (acknowledge a handshake, send heartbeats) is
its ``_background_job``, which the test runs when it says, never its timer thread.
The messages of the capacity endpoints (measurements, compliance errors, adjustment
requests) go to :class:`RecordingCapacityProvider`, the part pyoscp leaves to its
user.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flask
from oscp import createBlueprint
from oscp.RegistrationManager import RegistrationDictMan
from werkzeug.serving import make_server

#: The path of pyoscp's Capacity Provider endpoints.
CP_PATH = "/oscp/cp/2.0"


@dataclass(frozen=True)
class Handled:
    """A message pyoscp validated and handed on: which, its body as pyoscp parsed it,
    the token it came with, and its headers."""

    endpoint: str
    payload: dict[str, Any]
    token: str
    headers: dict[str, str]


@dataclass
class RecordingCapacityProvider:
    """What pyoscp calls for its capacity endpoints (its ``capacityprovider``)."""

    handled: list[Handled] = field(default_factory=list)

    def handleUpdateGroupMeasurements(self, payload: dict[str, Any], token: str) -> None:
        self._record("update_group_measurements", payload, token)

    def handleGroupCapacityComplianceError(self, payload: dict[str, Any], token: str) -> None:
        self._record("group_capacity_compliance_error", payload, token)

    def handleAdjustGroupCapacityForecast(self, payload: dict[str, Any], token: str) -> None:
        self._record("adjust_group_capacity_forecast", payload, token)

    def of(self, endpoint: str) -> list[Handled]:
        return [h for h in self.handled if h.endpoint == endpoint]

    def _record(self, endpoint: str, payload: dict[str, Any], token: str) -> None:
        headers = {k.lower(): v for k, v in flask.request.headers.items()}
        self.handled.append(Handled(endpoint, payload, token, headers))


@dataclass
class PyoscpProvider:
    """The served provider: its ``base_url`` (``…/oscp/cp/2.0``), pyoscp's
    registrations and the capacity messages it handled."""

    url: str
    registrations: RegistrationDictMan
    capacity: RecordingCapacityProvider

    @property
    def base_url(self) -> str:
        return self.url + CP_PATH

    def endpoints(self) -> dict[str, Any]:
        """pyoscp's registrations by the token it accepts: the peer's token and base
        URL, its required behaviour, the deadline its last heartbeat named."""
        entries: dict[str, Any] = self.registrations.getEndpoints()
        return entries

    def background_job(self) -> None:
        """One run of pyoscp's background job: acknowledge new handshakes, send the
        heartbeats due."""
        self.registrations._background_job()


@contextmanager
def pyoscp_provider(tmp_path: Path, initial_token: str) -> Iterator[PyoscpProvider]:
    """pyoscp serving the Capacity Provider's endpoints on 127.0.0.1 (a free port),
    accepting ``initial_token`` for a first ``register``."""
    versions = [{"version": "2.0", "base_url": ""}]  # the URL once the port is known
    registrations = _registrations(tmp_path / "pyoscp-cp.json", versions, initial_token)
    capacity = RecordingCapacityProvider()
    injected = {"registrationmanager": registrations, "capacityprovider": capacity}
    with _served(injected, "cp") as url:
        versions[0]["base_url"] = url + CP_PATH
        yield PyoscpProvider(url, registrations, capacity)


@dataclass
class RecordingFlexibilityProvider:
    """What pyoscp calls for a forecast it accepted (its ``flexibilityprovider``)."""

    forecasts: list[dict[str, Any]] = field(default_factory=list)

    def handleUpdateGroupCapacityForecast(self, payload: dict[str, Any], token: str) -> None:
        self.forecasts.append(payload)


@contextmanager
def pyoscp_flexibility_provider(
    tmp_path: Path, token: str
) -> Iterator[tuple[str, RecordingFlexibilityProvider]]:
    """pyoscp serving the Flexibility Provider's endpoints (``…/oscp/fp/2.0``),
    accepting ``token``; yields the base URL and what it accepted."""
    versions = [{"version": "2.0", "base_url": "http://127.0.0.1/oscp/fp/2.0"}]
    registrations = _registrations(tmp_path / "pyoscp-fp.json", versions, token)
    flexibility = RecordingFlexibilityProvider()
    injected = {"registrationmanager": registrations, "flexibilityprovider": flexibility}
    with _served(injected, "fp") as url:
        yield url + "/oscp/fp/2.0", flexibility


def _registrations(path: Path, versions: list[dict[str, str]], token: str) -> RegistrationDictMan:
    registrations = RegistrationDictMan(versions, filename=str(path))
    registrations._updateService(token)  # agreed out of band
    return registrations


@contextmanager
def _served(injected: dict[str, object], actor: str) -> Iterator[str]:
    """pyoscp's blueprint for ``actor`` on werkzeug, in a thread; yields its URL."""
    app = flask.Flask(f"pyoscp-{actor}")
    app.register_blueprint(createBlueprint(injected, actor))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="pyoscp", daemon=True
    )
    thread.start()  # the socket listens already: requests queue until it serves
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
