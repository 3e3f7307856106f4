"""Every frame a charger sends gets an answer it can use, and none stops the
connection.

The ``ocpp`` library's ``route_message`` drops what it cannot unpack (invalid JSON,
a wrong element count, an unknown message type id) without answering, answers an
unknown action with the two "not implemented/supported" codes swapped, uses the
2.0.1 spelling of error codes on 1.6 connections, and queues a CALLRESULT that
answers no pending call for the next call to trip over. :class:`FrameGuard` routes
instead: each CALL that fails is answered with the protocol's CallError (unique id
``-1`` when it cannot be read), responses reach only the call awaiting them.

A charger's calls have an allowance (:data:`CALLS_BURST` in a burst, then
:data:`CALLS_PER_S` a second of the controller's clock; anything but a response
counts): past it, a CALL is answered at once with a ``GenericError`` CallError and
not handled (the charger may send it again later, as OCPP has it retry). Each
frame gives the event loop a turn first, so a charger's flood never holds up its
neighbours.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from ocpp import routing
from ocpp.exceptions import OCPPError, PropertyConstraintViolationError, ProtocolError
from ocpp.messages import Call, CallError, CallResult, MessageType
from websockets.exceptions import ConnectionClosed

from depotctl.protocols.ocpp.throttle import TokenBucket

#: The library's per-message logging (every frame at INFO): quiet unless asked.
FRAMES_LOG = logging.getLogger("depotctl.ocpp.frames")
if FRAMES_LOG.level == logging.NOTSET:
    FRAMES_LOG.setLevel(logging.WARNING)

log = logging.getLogger("depotctl.ocpp")

#: The CallError codes each version spells its own way.
_SPELLING = {
    "1.6": {
        "FormatViolation": "FormationViolation",
        "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
    },
    "2.0.1": {
        "FormationViolation": "FormatViolation",
        "OccurenceConstraintViolation": "OccurrenceConstraintViolation",
    },
}
#: A frame that is not a readable RPC message (not JSON, not a list, wrong elements).
_NOT_RPC = {"1.6": "FormationViolation", "2.0.1": "RpcFrameworkError"}
#: A message type id other than CALL, CALLRESULT and CALLERROR.
_UNKNOWN_TYPE = {"1.6": "FormationViolation", "2.0.1": "MessageTypeNotSupported"}
#: 2.0.1 limits an error description to 255 characters.
_DESCRIPTION_MAX = 255
#: How deep lists and objects may nest in a message (OCPP's own nest about 6 deep; a
#: DataTransfer's vendor data may go deeper).
MAX_NESTING = 64
#: The calls a charger may send in a burst (a charger back from an outage sends what
#: it queued meanwhile) …
CALLS_BURST = 500
#: … and how many a second after it, of the controller's clock.
CALLS_PER_S = 20.0
_FLOODED = "too many calls (more than {per_s:g} a second after a burst of {burst}): not handled"


Handler = TypeVar("Handler", bound=Callable[..., Any])


def on(action: str, *, skip_schema_validation: bool = False) -> Callable[[Handler], Handler]:
    """The library's ``@on`` (the handler of an action), typed."""
    decorator = routing.on(action, skip_schema_validation=skip_schema_validation)
    return cast(Callable[[Handler], Handler], decorator)


def after(action: str) -> Callable[[Handler], Handler]:
    """The library's ``@after`` (run once an action is answered), typed."""
    return cast(Callable[[Handler], Handler], routing.after(action))


def error_code(code: str, version: str) -> str:
    """``code`` as the OCPP version spells it."""
    return _SPELLING.get(version, {}).get(code, code)


class _Unreadable(Exception):
    """A frame that is not JSON at all, or JSON too deep to take in (``frame``: the
    JSON read, if it was)."""

    def __init__(self, cause: str, frame: Any = None) -> None:
        super().__init__(cause)
        self.frame = frame


def _frame(raw: Any) -> Any:
    """The JSON of a frame, read once (``_Unreadable`` when it cannot be). Python's
    reader fails on its own way on some input — bytes that are not UTF-8, integers
    of thousands of digits, nesting past its recursion limit — and a value nested
    deeper than :data:`MAX_NESTING` is refused before anything walks it."""
    try:
        frame = json.loads(raw)
    except RecursionError:
        raise _Unreadable(f"the message is nested more than {MAX_NESTING} levels deep") from None
    except (TypeError, ValueError):  # JSONDecodeError, UnicodeDecodeError, too many digits
        raise _Unreadable("the message cannot be read as JSON") from None
    if _nesting(frame) > MAX_NESTING:
        raise _Unreadable(f"the message is nested more than {MAX_NESTING} levels deep", frame)
    return frame


def _nesting(value: Any) -> int:
    """How deep lists and objects nest in ``value`` (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, list | dict):
            deepest = max(deepest, depth)
            if depth <= MAX_NESTING:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, depth + 1) for child in children)
    return deepest


def _unpack(frame: Any) -> Call | CallResult | CallError:
    """A frame's message (the library's ``unpack``, from JSON already read)."""
    if not isinstance(frame, list):
        raise ProtocolError(details={"cause": "an OCPP message is a JSON list"})
    if not frame:
        raise ProtocolError(details={"cause": "the message has no MessageTypeId"})
    for kind in (Call, CallResult, CallError):
        if frame[0] == kind.message_type_id:
            try:
                return kind(*frame[1:])
            except TypeError:
                raise ProtocolError(details={"cause": "the message is missing elements"}) from None
    raise PropertyConstraintViolationError(
        details={"cause": f"MessageTypeId {frame[0]!r} is not valid"}
    )


def _unique_id(frame: Any) -> Any:
    """The message id of a frame, when it can be read (else ``-1``, as OCPP-J says)."""
    if not isinstance(frame, list) or len(frame) < 2:
        return "-1"
    unique_id = frame[1]
    readable = isinstance(unique_id, str | int) and not isinstance(unique_id, bool)
    return unique_id if readable else "-1"


def _type_id(frame: Any) -> Any:
    return frame[0] if isinstance(frame, list) and frame else None


class FrameGuard:
    """Mixed in before an ``ocpp`` ``ChargePoint`` (it uses the library's
    ``_handle_call``, ``_send``, ``_response_queue`` and ``_ocpp_version``).

    ``awaiting`` is the unique id of the call in flight (set by the connection);
    ``answered_error`` the CallError that answered it, if any."""

    #: Every action name of this OCPP version (for NotImplemented vs NotSupported).
    actions: ClassVar[frozenset[str]] = frozenset()
    awaiting: str | None = None
    answered_error: CallError | None = None
    _allowance: TokenBucket | None = None
    _unhandled: int = 0

    if TYPE_CHECKING:  # provided by ocpp.ChargePoint (never defined here: the MRO)
        id: str
        _ocpp_version: str
        route_map: dict[str, dict[str, Any]]
        _response_queue: Any

        async def _handle_call(self, msg: Call) -> Any: ...

        async def _send(self, message: str) -> None: ...

    def heard(self, action: str) -> None:
        """Called for every well-formed CALL before it is handled."""

    def allowance_clock(self) -> float:
        """Seconds on the clock the calls' allowance runs on (a monotonic clock here;
        the connection's handlers give the controller's)."""
        return time.monotonic()

    async def route_message(self, raw_msg: Any) -> None:
        """Handle one frame (see the module docstring)."""
        await asyncio.sleep(0)  # a flooding charger takes turns with its neighbours
        try:
            frame = _frame(raw_msg)
        except _Unreadable as unreadable:
            unique_id = _unique_id(unreadable.frame)
            if _type_id(unreadable.frame) in (MessageType.CallResult, MessageType.CallError):
                log.info("ignoring a response that cannot be read: %s", unreadable)
            elif self._within_allowance():
                await self._answer_error(unique_id, _NOT_RPC[self._ocpp_version], str(unreadable))
            else:
                await self._answer_unhandled(unique_id)
            return
        if _type_id(frame) in (MessageType.CallResult, MessageType.CallError):
            self._take_response(frame)
        elif not self._within_allowance():
            await self._answer_unhandled(_unique_id(frame))
        else:
            try:
                message = _unpack(frame)
            except OCPPError as error:
                await self._refuse_frame(frame, error)
                return
            assert isinstance(message, Call)  # responses were taken above
            await self._route_call(message)

    def _take_response(self, frame: Any) -> None:
        """A CALLRESULT or CALLERROR goes to the call awaiting it, if any (never
        answered)."""
        try:
            message = _unpack(frame)
        except OCPPError as error:
            log.info("ignoring a malformed response: %s", error.description)
            return
        if self.awaiting is not None and message.unique_id == self.awaiting:
            if isinstance(message, CallError):
                self.answered_error = message
            self._response_queue.put_nowait(message)
            return
        kind = "CALLRESULT" if isinstance(message, CallResult) else "CALLERROR"
        log.info("ignoring a %s that answers no pending call (%r)", kind, message.unique_id)

    def _within_allowance(self) -> bool:
        """Take one call from the charger's allowance (False: it has none left)."""
        now = self.allowance_clock()
        if self._allowance is None:
            self._allowance = TokenBucket.full(CALLS_BURST, CALLS_PER_S, now)
        if self._allowance.take(now):
            if self._unhandled:
                log.warning(
                    "%s: calls handled again, %d answered unhandled meanwhile",
                    self.id,
                    self._unhandled,
                )
                self._unhandled = 0
            return True
        if not self._unhandled:
            log.warning(
                "%s sends too many calls: more than %g a second after a burst of %d are "
                "answered GenericError, not handled",
                self.id,
                CALLS_PER_S,
                CALLS_BURST,
            )
        self._unhandled += 1
        return False

    async def _answer_unhandled(self, unique_id: Any) -> None:
        description = _FLOODED.format(per_s=CALLS_PER_S, burst=CALLS_BURST)
        await self._send(CallError(unique_id, "GenericError", description, {}).to_json())

    async def _refuse_frame(self, frame: Any, error: OCPPError) -> None:
        """Answer a frame that is not a readable message (never a response: those are
        never answered)."""
        type_id = _type_id(frame)
        version = self._ocpp_version
        unknown_type = (
            isinstance(type_id, int)
            and not isinstance(type_id, bool)
            and type_id != MessageType.Call
        )
        code = _UNKNOWN_TYPE[version] if unknown_type else _NOT_RPC[version]
        cause = str((error.details or {}).get("cause") or error.description)
        await self._answer_error(_unique_id(frame), code, cause)

    async def _route_call(self, message: Call) -> None:
        version = self._ocpp_version
        if not isinstance(message.unique_id, str) or not isinstance(message.action, str):
            await self._answer_error(
                message.unique_id if isinstance(message.unique_id, str) else "-1",
                _NOT_RPC[version],
                "the message id and the action must be strings",
            )
            return
        if not isinstance(message.payload, dict):
            await self._answer_error(
                message.unique_id,
                error_code("FormatViolation", version),
                f"the payload of {message.action} must be a JSON object",
            )
            return
        if message.action not in self.route_map:
            known = message.action in self.actions
            code = "NotSupported" if known else "NotImplemented"
            cause = (
                f"{message.action} is not supported by this CSMS"
                if known
                else f"{message.action} is not an OCPP {version} action"
            )
            await self._answer_error(message.unique_id, code, cause)
            return
        self.heard(message.action)
        try:
            await self._handle_call(message)
        except ConnectionClosed:
            raise
        except OCPPError as error:
            cause = str((error.details or {}).get("cause") or error.description)
            await self._answer_error(message.unique_id, error_code(error.code, version), cause)
        except Exception:
            log.exception("error handling %s", message.action)
            await self._answer_error(message.unique_id, "InternalError", "the CSMS failed")

    async def _answer_error(self, unique_id: Any, code: str, description: str) -> None:
        log.info("answering CallError %s to %r: %s", code, unique_id, description)
        error = CallError(unique_id, code, description[:_DESCRIPTION_MAX], {})
        await self._send(error.to_json())
