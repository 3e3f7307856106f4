"""The coordinator (Home Assistant's pattern): one poller fetches what the console
shows from the controller's API, about once a second, and hands every widget the
same :class:`~depotctl.console.model.Model`. The measured draws (the telemetry in
``/snapshot``, a heavier answer) are fetched every ``telemetry_every`` polls.

Bursts are coalesced: :meth:`Coordinator.wake` asks for a poll now, and any number of
wakes during a poll make one more poll, never one each. A failed poll keeps the last
data, marks the connection ``reconnecting`` with the error, and retries with a
backoff that doubles up to ``max_backoff``. A controller that answers but refuses the
token (401, 403) is a configuration error, not a lost connection: the connection is
``refused``, with where the token is read from, and asked again every ``max_backoff``.

The past (:meth:`Coordinator.travel`): the depot as the control cycle at or before an
instant left it (``/state?at=``, its telemetry from ``/snapshot?at=``), asked once per
instant — the past does not change — while the journal and the connection stay live.

Every answer is escaped for the terminal here, as it arrives
(:func:`~depotctl.client.terminal_text.escaped_model`): no widget ever holds a
control character the controller sent (an operator's reason, a charger's id).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from depotctl.api import Envelope, Envelopes, Explanation, JournalEntry, Sessions, SiteRevision
from depotctl.api.timeline import Timeline
from depotctl.client.api import ApiError, AsyncControllerClient, Unreachable
from depotctl.client.terminal_text import escaped, escaped_model
from depotctl.console.model import Connection, Link, Model, build, draws_of, tail
from depotctl.console.timeline import night_since

Answer = TypeVar("Answer")

#: How far back the journal tail starts, on the controller's clock.
TAIL_SPAN = timedelta(hours=6)
#: Entries per journal request, and the most requests for one catch-up.
JOURNAL_PAGE = 1000
JOURNAL_PAGES = 10


class Coordinator:
    """Polls the controller and keeps the one model; ``on_update`` is called (on the
    event loop) after every poll, successful or not."""

    def __init__(
        self,
        client: AsyncControllerClient,
        *,
        interval: float = 1.0,
        first_backoff: float = 0.5,
        max_backoff: float = 10.0,
        min_gap: float = 0.1,
        journal_keep: int = 500,
        telemetry_every: int = 5,
        read_only: bool = False,
        on_update: Callable[[Model], None] | None = None,
        token_source: str | None = None,
    ) -> None:
        self.client = client
        self.interval = interval
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.min_gap = min_gap
        self.journal_keep = journal_keep
        self.telemetry_every = telemetry_every
        self.read_only = read_only
        self.on_update = on_update
        self.token_source = token_source
        self.model = Model(connection=Connection(url=client.base_url))
        self.polls = 0
        self._wake = asyncio.Event()
        self._cursor: int | None = None
        self._journal: tuple[JournalEntry, ...] = ()
        self._site: SiteRevision | None = None
        self._site_key: tuple[int, str] | None = None
        self._may_write: bool | None = None
        self._draws: dict[str, float] = {}
        self._polls_ok = 0
        #: the instant asked about while the console looks at the past; None live
        self.at: datetime | None = None
        self._past_of: datetime | None = None  # the instant the model's past answers
        #: the controller's time at the last poll (the model's is the past's, looking back)
        self.now: datetime | None = None
        #: why the controller could not show the instant asked (the console is back at
        #: now); the app says it once and clears it
        self.past_refused: str | None = None
        #: how many timelines were asked for (one per selection once keys settle)
        self.timelines_asked = 0

    def wake(self) -> None:
        """Poll as soon as the current poll (if any) is done."""
        self._wake.set()

    def travel(self, at: datetime | None) -> None:
        """Show the depot at ``at`` (None: now) from the next poll, which starts now."""
        self.at = at
        self.wake()

    def forbid_writes(self) -> None:
        """The controller refused a write (403): hide the actions from now on."""
        self._may_write = False
        self.model = replace(self.model, may_write=False)

    async def run(self) -> None:
        """Poll until cancelled."""
        failures = 0
        while True:
            self._wake.clear()
            try:
                self.model = await self.poll()
                failures = 0
                delay = self.interval
            except (Unreachable, ApiError, KeyError, TypeError, ValueError) as error:
                failures += 1
                refused = isinstance(error, ApiError) and error.status in (401, 403)
                delay = (
                    self.max_backoff
                    if refused
                    else min(self.max_backoff, self.first_backoff * 2 ** (failures - 1))
                )
                self._may_write = None  # ask again once back: the token may have changed
                self.model = replace(
                    self.model,
                    connection=Connection(
                        url=self.client.base_url,
                        link=Link.REFUSED if refused else Link.RECONNECTING,
                        error=_words(error),
                        attempt=failures,
                        retry_in=delay,
                        token_source=self.token_source,
                    ),
                )
            self.polls += 1
            if self.on_update is not None:
                self.on_update(self.model)
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                continue
            await asyncio.sleep(self.min_gap)  # let a burst of wakes gather

    async def poll(self) -> Model:
        """One round of requests; raises :class:`Unreachable` or :class:`ApiError`."""
        at = self.at
        if at is not None:
            try:
                return await self._past(at)
            except ApiError as error:
                if error.status not in (400, 404, 422):
                    raise
                self.at = None
                self.past_refused = f"{error.status} {error.code}: {error.message}"
        answers = await asyncio.gather(
            self.client.state(),
            self.client.sessions(),
            self.client.clock(),
            self.client.envelopes(),
            _unless_missing(self.client.alerts()),  # a controller from before alerts
            _unless_missing(self.client.chargers()),  # … or before /chargers
            return_exceptions=True,  # every request done before a failure is raised
        )
        state = escaped_model(_answered(answers[0]))
        sessions = escaped_model(_answered(answers[1]))
        clock = escaped_model(_answered(answers[2]))
        self.now = clock.time
        envelopes = escaped_model(_answered(answers[3]))
        alerts = _answered(answers[4])
        chargers = _answered(answers[5])
        key = (state.revision.number, state.revision.hash)
        if self._site is None or key != self._site_key:
            self._site = await self._site_or_none()
            self._site_key = key
        await self._follow_journal(clock.time)
        if self._may_write is None:
            self._may_write = not self.read_only and (await self.client.whoami()).may_write
        if self.telemetry_every and self._polls_ok % self.telemetry_every == 0:
            self._draws = draws_of(escaped_model(await self.client.snapshot()))
        self._polls_ok += 1
        return build(
            self.model,
            connection=Connection(url=self.client.base_url, link=Link.CONNECTED),
            state=state,
            sessions=sessions,
            clock=clock,
            envelopes=envelopes,
            site=self._site,
            journal=self._journal,
            may_write=self._may_write,
            draws=self._draws,
            alerts=escaped_model(alerts) if alerts is not None else None,
            chargers=chargers,
        )

    async def _past(self, at: datetime) -> Model:
        """The model at ``at``: asked once per instant; the journal followed as live."""
        if self._past_of == at and self.model.past is not None:
            live = escaped_model(await self.client.clock()).time
            self.now = live
            await self._follow_journal(live)
            return replace(self.model, journal=self._journal, live=live)
        state, snapshot, clock, envelopes = await asyncio.gather(
            self.client.state_at(at),
            self.client.snapshot_at(at),
            self.client.clock(),
            self.client.envelopes(),
        )
        state, clock = escaped_model(state), escaped_model(clock)
        self.now = clock.time
        if state.past is None:
            raise ValueError(f"the controller answered /state?at={at.isoformat()} with no past")
        cycle_at = state.past.cycle_at
        await self._follow_journal(clock.time)
        model = build(
            self.model,
            connection=Connection(url=self.client.base_url, link=Link.CONNECTED),
            state=state,
            sessions=Sessions(time=cycle_at, sessions=[]),  # the allocations name them
            clock=clock,
            envelopes=_in_force_at(escaped_model(envelopes), cycle_at),
            site=self._site,
            journal=self._journal,
            may_write=False,
            draws=draws_of(escaped_model(snapshot)),
        )
        self._past_of = at
        return replace(model, time=cycle_at, past=cycle_at, live=clock.time)

    async def explain(self, evse: str) -> tuple[Explanation, list[JournalEntry]]:
        """An EVSE's explanation (at the instant shown: now, or the past) and its
        recent journal entries (newest last)."""
        now = self.model.time
        explained, journal = await asyncio.gather(
            self.client.explain(evse) if self.at is None else self.client.explain_at(evse, self.at),
            self.client.journal(
                evse=evse,
                since=now - TAIL_SPAN if now is not None else None,
                limit=JOURNAL_PAGE,
            ),
        )
        return escaped_model(explained), list(escaped_model(journal).entries)

    async def timeline(self, subject: str, at: datetime | None) -> Timeline:
        """``subject``'s timeline over the last night up to ``at`` (None: now), as its
        :func:`~depotctl.console.timeline.night_since` reads it in the site's time."""
        until = at if at is not None else self.now
        if until is None:
            raise ValueError("the controller's time is not known yet")
        since = night_since(until, self.model.local)
        self.timelines_asked += 1
        return escaped_model(await self.client.timeline(subject, since=since, until=until))

    async def _site_or_none(self) -> SiteRevision | None:
        try:
            return escaped_model(await self.client.site())
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    async def _follow_journal(self, now: datetime | None) -> None:
        new: list[JournalEntry] = []
        for _ in range(JOURNAL_PAGES):
            if self._cursor is None:
                since = now - TAIL_SPAN if now is not None else None
                page = await self.client.journal(since=since, limit=JOURNAL_PAGE)
            else:
                page = await self.client.journal(after_id=self._cursor, limit=JOURNAL_PAGE)
            entries = escaped_model(page).entries
            new.extend(entries)
            if entries:  # an empty tail keeps asking by time until the first entry
                self._cursor = max(self._cursor or 0, *(e.id for e in entries))
            if len(entries) < JOURNAL_PAGE:
                break
        if new:
            self._journal = tail([*self._journal, *new], self.journal_keep)


def _in_force_at(envelopes: Envelopes, at: datetime) -> Envelopes:
    """The envelopes (of those the controller lists now) that applied at ``at``."""
    kept = [e for e in envelopes.envelopes if _in_force(e, at)]
    return envelopes.model_copy(update={"envelopes": kept})


def _in_force(envelope: Envelope, at: datetime) -> bool:
    """Whether ``envelope`` applied at ``at`` (of those the controller lists now)."""
    ended = envelope.end is not None and envelope.end <= at
    withdrawn = envelope.withdrawn_at is not None and envelope.withdrawn_at <= at
    return envelope.start <= at and not ended and not withdrawn


async def _unless_missing(answer: Awaitable[Answer]) -> Answer | None:
    """The answer; None for a 404 (an endpoint this controller does not have)."""
    try:
        return await answer
    except ApiError as error:
        if error.status == 404:
            return None
        raise


def _answered(answer: Answer | BaseException) -> Answer:
    """An answer of a gathered request; a failure raised (the first, in order)."""
    if isinstance(answer, BaseException):
        raise answer
    return answer


def _words(error: Exception) -> str:
    if isinstance(error, Unreachable):
        return escaped(error.reason)
    if isinstance(error, ApiError):
        return escaped(f"{error.status} {error.code}: {error.message}")
    return escaped(f"unexpected answer from the controller: {type(error).__name__}: {error}")
