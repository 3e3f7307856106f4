"""The controller's API, one method per endpoint (docs/api.md), each answering the
endpoint's model (:mod:`depotctl.api`): :class:`ControllerClient` over sync httpx for
the CLI, :class:`AsyncControllerClient` over async httpx for the console, which never
blocks its UI thread. Both are :class:`ControllerApi`: the endpoints are declared
once, the clients differ only in how they send.

An error answer is :class:`ApiError` (its status, stable ``code``, ``message`` and
body); a controller that cannot be reached, or whose answer does not read as the API's,
is :class:`Unreachable`, naming the URL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Unpack
from urllib.parse import quote

import httpx

from depotctl.api import (
    AdjustmentQueued,
    Alerts,
    AppliedRevision,
    CarbonReport,
    Chargers,
    Clock,
    CostReport,
    DryRun,
    Envelope,
    Envelopes,
    Explanation,
    Health,
    Journal,
    OverrideCleared,
    Overrides,
    OverrideSet,
    PastDecisions,
    Plan,
    ReadinessReport,
    Revisions,
    RevisionText,
    RolledBackRevision,
    SessionAt,
    SessionRecord,
    Sessions,
    SiteRevision,
    SnapshotDocument,
    State,
    TelemetryAccepted,
    TelemetryHistory,
    WhoAmI,
    json_of,
)
from depotctl.api.journal import JournalFilters
from depotctl.api.lineage import Lineage
from depotctl.api.timeline import Timeline
from depotctl.client.calls import (
    API,
    Answer,
    Call,
    Endpoint,
    answer_of,
    only_given,
    reading,
    transport_errors,
)
from depotctl.client.errors import ApiError, Unreachable


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _id(value: str) -> str:
    """A path segment: an EVSE id's ``/`` and every other reserved character encoded."""
    return quote(value, safe="")


class ControllerApi:
    """Every endpoint, as the call it makes (see :class:`~depotctl.client.calls.Endpoint`)."""

    base_url: str

    # The controller and the site

    health = reading("/healthz", Health)
    whoami = reading(
        API + "/whoami",
        WhoAmI,
        "What the token may do (the console hides its actions for a read-only one).",
    )
    clock = reading(API + "/clock", Clock)
    site = reading(API + "/site", SiteRevision)
    revisions = reading(API + "/revisions", Revisions)

    @Endpoint
    def revision(number: int) -> Call[RevisionText]:
        """One revision, with its site text."""
        return Call("GET", f"{API}/revisions/{number}", RevisionText)

    state = reading(API + "/state", State)

    @Endpoint
    def explain(evse: str) -> Call[Explanation]:
        return Call("GET", f"{API}/explain/{_id(evse)}", Explanation)

    snapshot = reading(
        API + "/snapshot",
        SnapshotDocument,
        "The live state as a snapshot document (JSON), with the site embedded.",
    )

    # Time travel: the cycle at or before a past instant, recomputed from its inputs

    @Endpoint
    def state_at(at: datetime) -> Call[State]:
        return Call("GET", API + "/state", State, {"at": at.isoformat()})

    @Endpoint
    def explain_at(evse: str, at: datetime) -> Call[Explanation]:
        return Call("GET", f"{API}/explain/{_id(evse)}", Explanation, {"at": at.isoformat()})

    @Endpoint
    def snapshot_at(at: datetime) -> Call[SnapshotDocument]:
        return Call("GET", API + "/snapshot", SnapshotDocument, {"at": at.isoformat()})

    @Endpoint
    def decisions(at: datetime, evse: str | None = None) -> Call[PastDecisions]:
        """Each EVSE's (or ``evse``'s) last journaled limit change at or before ``at``."""
        params = only_given(at=at.isoformat(), evse=evse)
        return Call("GET", API + "/decisions", PastDecisions, params)

    @Endpoint
    def alerts(
        *, include_cleared: bool = False, since: datetime | None = None, limit: int | None = None
    ) -> Call[Alerts]:
        """The open alerts; with ``include_cleared`` every cleared one still kept, with
        ``since`` those cleared from then; at most ``limit`` cleared ones (the most
        recently cleared; the controller's default 1,000, at most 10,000)."""
        params = only_given(all="true" if include_cleared else None, since=_iso(since), limit=limit)
        return Call("GET", API + "/alerts", Alerts, params)

    chargers = reading(API + "/chargers", Chargers, "Every charger as the controller sees it.")

    @Endpoint
    def journal(**filters: Unpack[JournalFilters]) -> Call[Journal]:
        """Entries matching every filter given, oldest first (the controller's default
        limit 1,000, at most 10,000)."""
        given = {name: _iso(v) if isinstance(v, datetime) else v for name, v in filters.items()}
        return Call("GET", API + "/journal", Journal, only_given(**given))

    @Endpoint
    def lineage(
        subject: str, since: datetime | None = None, until: datetime | None = None
    ) -> Call[Lineage]:
        """An EVSE's, session's or vehicle's sessions from arrival to outcome, or what
        an envelope cost each EVSE it limited."""
        params = only_given(since=_iso(since), until=_iso(until))
        return Call("GET", f"{API}/lineage/{_id(subject)}", Lineage, params)

    @Endpoint
    def timeline(
        subject: str, since: datetime | None = None, until: datetime | None = None
    ) -> Call[Timeline]:
        """An EVSE's or a node's load against its limit over ``[since, until)`` (the
        controller's default: the last 12 h), with the envelopes that applied."""
        params = only_given(since=_iso(since), until=_iso(until))
        return Call("GET", f"{API}/timeline/{_id(subject)}", Timeline, params)

    # GitOps

    @Endpoint
    def plan(
        site_text: str, path: str | None = None, files: dict[str, str] | None = None
    ) -> Call[Plan]:
        """What applying ``site_text`` (read from ``path``, with the ``files`` it refers
        to) would change, now."""
        body = {"site": site_text, "path": path, **only_given(files=files)}
        return Call("POST", API + "/plan", Plan, body=body)

    @Endpoint
    def apply(
        *,
        base_revision: int | None,
        site_text: str | None = None,
        path: str | None = None,
        plan: Plan | None = None,
        message: str | None = None,
        author: str | None = None,
        files: dict[str, str] | None = None,
    ) -> Call[AppliedRevision]:
        """Apply a site text (with the ``files`` it refers to) or a saved plan, if the
        controller is still at ``base_revision`` (``If-Match``; a 409 ``conflict``
        otherwise)."""
        body: dict[str, Any] = {"message": message, "author": author}
        if plan is not None:
            body["plan"] = json_of(plan)
        else:
            body |= {"site": site_text, **only_given(files=files)}
        body |= only_given(path=path)
        headers = {"If-Match": f'"{base_revision}"'} if base_revision is not None else {}
        return Call("POST", API + "/apply", AppliedRevision, body=body, headers=headers)

    @Endpoint
    def dry_run(
        site_text: str, path: str | None = None, files: dict[str, str] | None = None
    ) -> Call[DryRun]:
        """Validate and plan ``site_text`` as apply would; store nothing."""
        body = {"site": site_text, "path": path, **only_given(files=files)}
        return Call("POST", API + "/apply", DryRun, {"dry_run": "true"}, body)

    @Endpoint
    def rollback(
        revision: int,
        *,
        base_revision: int,
        message: str | None = None,
        author: str | None = None,
    ) -> Call[RolledBackRevision]:
        """Apply ``revision``'s site again, as a new revision, if the controller is
        still at ``base_revision`` (``If-Match``)."""
        body = {"revision": revision, "message": message, "author": author}
        headers = {"If-Match": f'"{base_revision}"'}
        return Call("POST", API + "/rollback", RolledBackRevision, body=body, headers=headers)

    # Inputs

    envelopes = reading(API + "/envelopes", Envelopes)

    @Endpoint
    def submit_envelope(
        *,
        envelope_id: str,
        target: str,
        limit: str,
        start: datetime,
        end: datetime | None = None,
        direction: str | None = None,
        mode: str | None = None,
        source: str | None = None,
        phases: list[str] | None = None,
        priority: int | None = None,
    ) -> Call[Envelope]:
        """An envelope: ``limit`` (``"200 kW"``, ``"150 A"``) on ``target`` over
        ``[start, end)``; the fields left out take the API's defaults."""
        body = {
            "id": envelope_id,
            "target": target,
            "limit": limit,
            **only_given(direction=direction, mode=mode, source=source, phases=phases),
            **only_given(priority=priority, start=_iso(start), end=_iso(end)),
        }
        return Call("POST", API + "/envelopes", Envelope, body=body)

    @Endpoint
    def withdraw_envelope(envelope_id: str) -> Call[Envelope]:
        return Call("POST", f"{API}/envelopes/{_id(envelope_id)}/withdraw", Envelope)

    @Endpoint
    def request_adjustment(source: str, adjustment: dict[str, Any]) -> Call[AdjustmentQueued]:
        """Ask OSCP source ``source``'s grid operator for capacity (``adjustment``: a
        forecast type and its ``forecasted_blocks``)."""
        url = f"{API}/envelope-sources/{_id(source)}/adjustments"
        return Call("POST", url, AdjustmentQueued, body=adjustment)

    @Endpoint
    def sessions(*, include_ended: bool = False) -> Call[Sessions]:
        """Sessions, each with its ``outlook`` at departure while open."""
        return Call(
            "GET", API + "/sessions", Sessions, only_given(all="true" if include_ended else None)
        )

    @Endpoint
    def session(session_id: str) -> Call[SessionAt]:
        """One session with its ``outlook`` at departure."""
        return Call("GET", f"{API}/sessions/{_id(session_id)}", SessionAt)

    @Endpoint
    def start_session(
        *,
        session_id: str,
        evse: str,
        started: datetime | None = None,
        energy_delivered: str | None = None,
        energy: str | None = None,
        departure: datetime | None = None,
        vehicle_max_current: str | None = None,
        priority_class: int | None = None,
        vehicle: str | None = None,
        fleet: str | None = None,
    ) -> Call[SessionRecord]:
        """A session starting on ``evse``; with ``energy`` and ``departure``, its
        requirement (else the site's default applies)."""
        requirement = {"energy": energy, "departure": _iso(departure)} if energy else None
        body = {
            "id": session_id,
            "evse": evse,
            **only_given(started=_iso(started), energy_delivered=energy_delivered),
            **only_given(requirement=requirement, vehicle_max_current=vehicle_max_current),
            **only_given(priority_class=priority_class, vehicle=vehicle, fleet=fleet),
        }
        return Call("POST", API + "/sessions", SessionRecord, body=body)

    @Endpoint
    def end_session(
        session_id: str, *, ended_at: datetime | None = None, energy_delivered: str | None = None
    ) -> Call[SessionRecord]:
        body = only_given(ended_at=_iso(ended_at), energy_delivered=energy_delivered)
        return Call("POST", f"{API}/sessions/{_id(session_id)}/end", SessionRecord, body=body)

    @Endpoint
    def set_requirement(
        session_id: str, *, energy: str, departure: datetime
    ) -> Call[SessionRecord]:
        """The fleet's schedule for a running session: ``energy`` in all by ``departure``."""
        body = {"energy": energy, "departure": departure.isoformat()}
        path = f"{API}/sessions/{_id(session_id)}/requirement"
        return Call("PUT", path, SessionRecord, body=body)

    @Endpoint
    def set_vehicle(
        session_id: str, *, vehicle: str | None, fleet: str | None = None
    ) -> Call[SessionRecord]:
        """The vehicle a running session (by id, or a vehicle's) charges; None: unknown."""
        body = {"vehicle": vehicle, "fleet": fleet}
        path = f"{API}/sessions/{_id(session_id)}/vehicle"
        return Call("PUT", path, SessionRecord, body=body)

    @Endpoint
    def submit_readings(readings: list[dict[str, Any]]) -> Call[TelemetryAccepted]:
        """Readings of meters that are not chargers (``{"node", "at", "power"}``…)."""
        return Call("POST", API + "/telemetry", TelemetryAccepted, body={"readings": readings})

    @Endpoint
    def telemetry_history(node: str, *, limit: int = 10000) -> Call[TelemetryHistory]:
        """A node's (or meter's) telemetry, one row per minute it reported in."""
        return Call("GET", f"{API}/telemetry/{_id(node)}", TelemetryHistory, {"limit": limit})

    # Reports (docs/reports.md)

    @Endpoint
    def cost_report(
        *,
        since: datetime,
        until: datetime | None = None,
        by: str | None = None,
        vehicle: str | None = None,
    ) -> Call[CostReport]:
        """What the energy of ``[since, until)`` cost (``by`` day or session), and the
        bills of the billing windows it touches; of one ``vehicle``'s sessions (no
        bills) when given."""
        return Call(
            "GET", API + "/reports/cost", CostReport, _report_query(since, until, by, vehicle)
        )

    @Endpoint
    def carbon_report(
        *,
        since: datetime,
        until: datetime | None = None,
        by: str | None = None,
        vehicle: str | None = None,
    ) -> Call[CarbonReport]:
        """What the energy of ``[since, until)`` emitted (``by`` day or session)."""
        return Call(
            "GET", API + "/reports/carbon", CarbonReport, _report_query(since, until, by, vehicle)
        )

    @Endpoint
    def readiness_report(
        *,
        since: datetime,
        until: datetime | None = None,
        by: str | None = None,
        vehicle: str | None = None,
    ) -> Call[ReadinessReport]:
        """What each session departing in ``[since, until)`` got by its departure."""
        path = API + "/reports/readiness"
        return Call("GET", path, ReadinessReport, _report_query(since, until, by, vehicle))

    # Operator overrides

    overrides = reading(
        API + "/overrides",
        Overrides,
        "Every override in force, each with its EVSE's live allocation.",
    )

    @Endpoint
    def set_override(
        evse: str,
        *,
        paused: bool = False,
        cap: str | float | None = None,
        reason: str | None = None,
        author: str | None = None,
    ) -> Call[OverrideSet]:
        """Pause the EVSE and/or cap it (``"16 A"``, or a number of amps), replacing any
        override it had; the answer has the override and the EVSE's live allocation."""
        body = {"paused": paused, "cap": cap, "reason": reason, "author": author}
        return Call("PUT", f"{API}/evses/{_id(evse)}/override", OverrideSet, body=body)

    @Endpoint
    def clear_override(evse: str, *, author: str | None = None) -> Call[OverrideCleared]:
        """Resume the EVSE: remove its override (404 ``no_override`` when it has none)."""
        params = only_given(author=author)
        return Call("DELETE", f"{API}/evses/{_id(evse)}/override", OverrideCleared, params)


def _report_query(
    since: datetime, until: datetime | None, by: str | None, vehicle: str | None
) -> dict[str, Any]:
    return only_given(since=_iso(since), until=_iso(until), by=by, vehicle=vehicle)


def _settings(base_url: str, token: str, timeout: float) -> dict[str, Any]:
    """The httpx client's settings: the controller's URL, the bearer token, JSON."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    return {"base_url": base_url, "headers": headers, "timeout": timeout}


def _request(http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
    return http.build_request(
        call.method, call.path, params=call.params, json=call.body, headers=call.headers
    )


class ControllerClient(ControllerApi):
    """The API of one controller at ``base_url`` (``http://host:port``), with a bearer
    ``token``, over sync httpx."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(**_settings(self.base_url, token, timeout), transport=transport)

    def send(self, call: Call[Answer]) -> Answer:
        with transport_errors(self.base_url):
            response = self._http.send(_request(self._http, call))
        return answer_of(call, response, self.base_url)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ControllerClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class AsyncControllerClient(ControllerApi):
    """The same API over async httpx (a shorter default timeout: the console polls)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            **_settings(self.base_url, token, timeout), transport=transport
        )

    async def send(self, call: Call[Answer]) -> Answer:
        with transport_errors(self.base_url):
            response = await self._http.send(_request(self._http, call))
        return answer_of(call, response, self.base_url)

    async def aclose(self) -> None:
        await self._http.aclose()


__all__ = [
    "ApiError",
    "AsyncControllerClient",
    "ControllerApi",
    "ControllerClient",
    "Unreachable",
]
