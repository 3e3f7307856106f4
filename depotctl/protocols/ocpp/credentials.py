"""A charger's HTTP Basic credentials (OCPP security profile 1), checked so that
neither the answer nor the work done tells whether an identity exists.

Every attempt goes through the same steps: the header is read (a missing or
malformed one counts as an empty user and password), both the user and the
password are hashed and compared in constant time — against the identity's
password, or against :data:`DECOY`, a random secret of this process, when the
identity is unknown — and only then is the outcome looked at. Hashing first also
hides the password's length, which a direct compare would leak.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.headers import parse_authorization_basic

#: What an unknown identity's credentials are compared with (never matches: it is
#: random, and the identity check fails as well).
DECOY = secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Presented:
    """The credentials a request carries; ``problem`` says why there are none."""

    user: str
    password: str
    problem: str | None = None


def presented(headers: Headers) -> Presented:
    """The Basic credentials of a request (empty ones, with the problem, when the
    ``Authorization`` header is missing, repeated or malformed)."""
    values = headers.get_all("Authorization")
    if not values:
        return Presented("", "", "no credentials")
    if len(values) > 1:
        return Presented("", "", "more than one Authorization header")
    try:
        user, password = parse_authorization_basic(values[0])
    except InvalidHeader:
        return Presented("", "", "malformed Basic credentials")
    return Presented(user, password)


def refusal_reason(credentials: Presented, ocpp_id: str, expected: str | None) -> str | None:
    """None when ``credentials`` are the identity's (``expected`` its password; None:
    the identity is unknown), else why not — for the journal and the log only."""
    user_ok = _same(credentials.user, ocpp_id)
    password_ok = _same(credentials.password, DECOY if expected is None else expected)
    if expected is None:
        return "unknown charge point id"
    if credentials.problem is not None:
        return credentials.problem
    if not user_ok:
        return "username is not the charge point id"
    if not password_ok:
        return "wrong password"
    return None


def _same(given: str, wanted: str) -> bool:
    """Equal, in a time that depends on neither value nor on their lengths."""
    return hmac.compare_digest(_digest(given), _digest(wanted))


def _digest(text: str) -> bytes:
    # surrogatepass: a header's bytes that are not UTF-8 come as surrogates (see
    # parse_authorization_basic); any of them hashes, none raises
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
