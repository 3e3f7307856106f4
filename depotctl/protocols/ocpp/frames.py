"""Every frame a charger sends gets an answer it can use, and none stops the
connection.

The ``ocpp`` library's ``route_message`` drops what it cannot unpack (invalid JSON,
a wrong element count, an unknown message type id) without answering, answers an
unknown action with the two "not implemented/supported" codes swapped, uses the
2.0.1 spelling of error codes on 1.6 connections, and queues a CALLRESULT that
answers no pending call for the next call to trip over. :class:`FrameGuard` routes
instead: each CALL that fails is answered with the protocol's CallError (unique id
``-1`` when it cannot be read), responses reach only the call awaiting them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from ocpp import routing
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, CallError, CallResult, MessageType, unpack
from websockets.exceptions import ConnectionClosed

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


def _unique_id(raw: Any) -> Any:
    """The message id of a frame, when it can be read (else ``-1``, as OCPP-J says)."""
    try:
        message = json.loads(raw)
    except (TypeError, ValueError):
        return "-1"
    if not isinstance(message, list) or len(message) < 2:
        return "-1"
    unique_id = message[1]
    readable = isinstance(unique_id, str | int) and not isinstance(unique_id, bool)
    return unique_id if readable else "-1"


def _type_id(raw: Any) -> Any:
    try:
        message = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return message[0] if isinstance(message, list) and message else None


class FrameGuard:
    """Mixed in before an ``ocpp`` ``ChargePoint`` (it uses the library's
    ``_handle_call``, ``_send``, ``_response_queue`` and ``_ocpp_version``).

    ``awaiting`` is the unique id of the call in flight (set by the connection);
    ``answered_error`` the CallError that answered it, if any."""

    #: Every action name of this OCPP version (for NotImplemented vs NotSupported).
    actions: ClassVar[frozenset[str]] = frozenset()
    awaiting: str | None = None
    answered_error: CallError | None = None

    if TYPE_CHECKING:  # provided by ocpp.ChargePoint (never defined here: the MRO)
        _ocpp_version: str
        route_map: dict[str, dict[str, Any]]
        _response_queue: Any

        async def _handle_call(self, msg: Call) -> Any: ...

        async def _send(self, message: str) -> None: ...

    def heard(self, action: str) -> None:
        """Called for every well-formed CALL before it is handled."""

    async def route_message(self, raw_msg: Any) -> None:
        """Handle one frame (see the module docstring)."""
        try:
            message = unpack(raw_msg)
        except OCPPError as error:
            await self._refuse_frame(raw_msg, error)
            return
        if message.message_type_id == MessageType.Call:
            await self._route_call(message)
            return
        if self.awaiting is not None and message.unique_id == self.awaiting:
            if isinstance(message, CallError):
                self.answered_error = message
            self._response_queue.put_nowait(message)
            return
        kind = "CALLRESULT" if isinstance(message, CallResult) else "CALLERROR"
        log.info("ignoring a %s that answers no pending call (%r)", kind, message.unique_id)

    async def _refuse_frame(self, raw_msg: Any, error: OCPPError) -> None:
        type_id = _type_id(raw_msg)
        if type_id in (MessageType.CallResult, MessageType.CallError):
            log.info("ignoring a malformed response: %s", error.description)
            return  # responses are never answered
        version = self._ocpp_version
        unknown_type = (
            isinstance(type_id, int)
            and not isinstance(type_id, bool)
            and type_id != MessageType.Call
        )
        code = _UNKNOWN_TYPE[version] if unknown_type else _NOT_RPC[version]
        cause = str((error.details or {}).get("cause") or error.description)
        await self._answer_error(_unique_id(raw_msg), code, cause)

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
