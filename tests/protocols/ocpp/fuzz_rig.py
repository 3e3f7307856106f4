"""What the OCPP fuzzers share: the endpoint served from an event loop in a thread of
its own (hypothesis drives a synchronous test), chargers on plain blocking websockets
that send any frame, what a right answer is, and a watch on the log.

A frame is checked by sending it and then a Heartbeat with a fresh message id: the
endpoint handles a connection's frames in order, so whatever comes back before the
Heartbeat's answer is the frame's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import Any, TypeVar
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st
from ocpp.messages import MessageType, get_validator
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.protocols.ocpp.chargers import PASSWORD, basic
from tests.protocols.ocpp.schema_strategies import broken, frames, is_valid, payloads

T = TypeVar("T")

#: Long enough to tell a hang from a busy machine: never a measure of speed.
HANG_S = 30.0

#: The CallError codes of each version (OCPP-J 1.6 §4.2.3, OCPP 2.0.1 part 4 §4.3).
CODES = {
    "1.6": {
        "NotImplemented",
        "NotSupported",
        "InternalError",
        "ProtocolError",
        "SecurityError",
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
    },
    "2.0.1": {
        "FormatViolation",
        "GenericError",
        "InternalError",
        "MessageTypeNotSupported",
        "NotImplemented",
        "NotSupported",
        "OccurrenceConstraintViolation",
        "PropertyConstraintViolation",
        "ProtocolError",
        "RpcFrameworkError",
        "SecurityError",
        "TypeConstraintViolation",
    },
}
#: The codes a payload that breaks its schema is answered with.
SCHEMA_CODES = {
    "1.6": {
        "FormationViolation",
        "TypeConstraintViolation",
        "ProtocolError",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
    },
    "2.0.1": {
        "FormatViolation",
        "TypeConstraintViolation",
        "ProtocolError",
        "PropertyConstraintViolation",
        "OccurrenceConstraintViolation",
    },
}


def handled_actions(handler: type) -> list[str]:
    """The actions a handler class answers (its ``@on`` methods)."""
    return sorted(
        {
            str(getattr(member._on_action, "value", member._on_action))
            for name in dir(handler)
            for member in [getattr(handler, name)]
            if hasattr(member, "_on_action")
        }
    )


@contextmanager
def in_thread(factory: Callable[[], AbstractAsyncContextManager[T]]) -> Iterator[T]:
    """Enter ``factory()`` on an event loop in a thread of its own and yield what it
    gives, until the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    ready: concurrent.futures.Future[T] = concurrent.futures.Future()
    stop = asyncio.Event()

    async def hold() -> None:
        try:
            async with factory() as value:
                ready.set_result(value)
                await stop.wait()
        except BaseException as error:
            if not ready.done():
                ready.set_exception(error)
            raise

    running = asyncio.run_coroutine_threadsafe(hold(), loop)
    try:
        yield ready.result(HANG_S)
    finally:
        loop.call_soon_threadsafe(stop.set)
        with contextlib.suppress(Exception):
            running.result(HANG_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(HANG_S)
        loop.close()


class Link:
    """A charger's blocking websocket to the endpoint (see :func:`linked`)."""

    def __init__(self, websocket: ClientConnection, version: str) -> None:
        self.websocket = websocket
        self.version = version

    def answers_to(self, frame: str | bytes) -> list[Any]:
        """What the endpoint answers ``frame`` with (none, one, …)."""
        sentinel = f"sentinel-{uuid.uuid4()}"
        self.websocket.send(frame)
        self.websocket.send(json.dumps([2, sentinel, "Heartbeat", {}]))
        answers = []
        while True:
            answer = json.loads(self.websocket.recv(timeout=HANG_S))
            if isinstance(answer, list) and len(answer) > 1 and answer[1] == sentinel:
                assert answer[0] == MessageType.CallResult and "currentTime" in answer[2], answer
                return answers
            answers.append(answer)

    def heartbeat(self) -> None:
        """The connection still serves."""
        assert self.answers_to(json.dumps([2, "beat", "Heartbeat", {}]))[0][0] == 3


@contextmanager
def linked(url: str, ocpp_id: str, subprotocol: str) -> Iterator[Link]:
    """A charger connected as ``ocpp_id`` with its credentials, until the block ends."""
    with connect(
        f"{url}/{quote(ocpp_id, safe='')}",
        subprotocols=[Subprotocol(subprotocol)],
        additional_headers={"Authorization": basic(ocpp_id, PASSWORD)},
        open_timeout=HANG_S,
        close_timeout=1,
        max_size=None,
    ) as websocket:
        yield Link(websocket, subprotocol.removeprefix("ocpp"))


def fuzz_payloads(
    fuzzed: Link,
    neighbour: Link,
    action: str,
    examples: int,
    *,
    advance: Callable[[float], None],
    errors: ErrorRecords,
) -> None:
    """Send ``action`` payloads from its schema, half of them broken, checking each
    answer, the neighbour and the log. ``advance(s)`` moves the controller's clock
    (each example brings the charger's allowance of calls back)."""
    version = fuzzed.version

    @settings(max_examples=examples)
    @given(st.data())
    def fuzz(data: st.DataObject) -> None:
        advance(1)
        errors.clear()  # what this example logs, not an earlier one
        payload = data.draw(payloads(action, version), label="payload")
        if data.draw(st.booleans(), label="broken"):
            payload = data.draw(broken(payload), label="broken payload")
        frame = json.dumps([2, "fuzz", action, payload])
        check_payload_answer(fuzzed.answers_to(frame), action, version, "fuzz", payload)
        neighbour.heartbeat()
        assert not errors.records, errors.text()

    fuzz()


def fuzz_frames(
    fuzzed: Link,
    neighbour: Link,
    actions: list[str],
    examples: int,
    *,
    advance: Callable[[float], None],
    errors: ErrorRecords,
) -> None:
    """Send raw frames of any shape, checking each answer, the neighbour and the log."""

    @settings(max_examples=examples)
    @given(frame=frames(actions))
    def fuzz(frame: str | bytes) -> None:
        advance(1)
        errors.clear()
        check_frame_answer(fuzzed.answers_to(frame), frame, fuzzed.version)
        neighbour.heartbeat()
        assert not errors.records, errors.text()

    fuzz()


def check_payload_answer(
    answers: list[Any], action: str, version: str, unique_id: str, payload: Any
) -> None:
    """A payload that follows the schema gets a CALLRESULT that follows the response's
    schema; one that breaks it, a CALLERROR with a schema code."""
    [answer] = answers
    if is_valid(action, version, payload):
        assert answer[:2] == [MessageType.CallResult, unique_id], answer
        get_validator(MessageType.CallResult, action, version).validate(answer[2])
    else:
        assert answer[:2] == [MessageType.CallError, unique_id], answer
        assert answer[2] in SCHEMA_CODES[version], answer
        _check_call_error(answer, version)


def check_frame_answer(answers: list[Any], frame: str | bytes, version: str) -> None:
    """A response is never answered; anything else gets exactly one answer, a
    CALLRESULT or a CALLERROR with a code of the version (never InternalError), for
    the frame's message id when it has a readable one."""
    message = _json(frame)
    if isinstance(message, list) and message and message[0] in (3, 4):
        assert answers == [], (frame, answers)
        return
    [answer] = answers
    assert isinstance(answer, list) and answer[0] in (3, 4), answer
    unique_id = message[1] if isinstance(message, list) and len(message) > 1 else None
    if isinstance(unique_id, str) and message[0] == MessageType.Call:
        assert answer[1] == unique_id, (frame, answer)
    if answer[0] == MessageType.CallResult:
        assert len(answer) == 3 and isinstance(answer[2], dict), answer
    else:
        _check_call_error(answer, version)


def _check_call_error(answer: list[Any], version: str) -> None:
    assert len(answer) == 5, answer
    assert answer[2] in CODES[version] and answer[2] != "InternalError", answer
    assert isinstance(answer[3], str) and len(answer[3]) <= 255, answer
    assert isinstance(answer[4], dict), answer


def _json(frame: str | bytes) -> Any:
    try:
        return json.loads(frame)
    except (ValueError, RecursionError):
        return None


class ErrorRecords(logging.Handler):
    """Every record at ERROR or above, from any thread, while attached (to the root
    logger and ``depotctl``'s, in case it does not propagate)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self._lock_records = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_records:
            if record not in self.records:
                self.records.append(record)

    def clear(self) -> None:
        with self._lock_records:
            self.records.clear()

    def text(self) -> str:
        return "\n".join(
            f"{r.name}: {r.getMessage()}\n{logging.Formatter().formatException(r.exc_info)}"
            if r.exc_info
            else f"{r.name}: {r.getMessage()}"
            for r in self.records
        )

    @contextmanager
    def watching(self) -> Iterator[ErrorRecords]:
        loggers = [logging.getLogger(), logging.getLogger("depotctl")]
        for logger in loggers:
            logger.addHandler(self)
        try:
            yield self
        finally:
            for logger in loggers:
                logger.removeHandler(self)
