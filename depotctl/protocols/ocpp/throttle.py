"""Token buckets: how many refused attempts, journal entries or calls may come in a
burst, and how fast the allowance comes back.

Time is passed in (seconds of the controller's clock, which is the wall clock in
production and a test's or a simulation's own otherwise); a clock that goes back
refills nothing. Nothing here grows with what it is fed: a :class:`TokenBucket` is
two numbers, and :class:`AddressThrottle` keeps at most ``max_addresses`` of them.
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    """``capacity`` tokens at most, ``per_s`` more each second; each event takes one.
    It starts full at ``now`` (see :meth:`full`)."""

    capacity: float
    per_s: float
    tokens: float
    at: float

    @classmethod
    def full(cls, capacity: float, per_s: float, now: float) -> TokenBucket:
        return cls(capacity, per_s, capacity, now)

    def refill(self, now: float) -> None:
        """Add what accrued since the last look (never above ``capacity``)."""
        if now > self.at:
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.per_s)
            self.at = now

    def has(self, now: float) -> bool:
        """A token is there to take (none taken)."""
        self.refill(now)
        return self.tokens >= 1.0

    def take(self, now: float) -> bool:
        """Take a token if one is there (True), else take nothing (False)."""
        if not self.has(now):
            return False
        self.tokens -= 1.0
        return True

    def seconds_to_token(self, now: float) -> float:
        """How long until a token is there (0: one is)."""
        if self.has(now):
            return 0.0
        return math.inf if self.per_s <= 0 else (1.0 - self.tokens) / self.per_s

    def is_full(self, now: float) -> bool:
        self.refill(now)
        return self.tokens >= self.capacity


class AddressThrottle:
    """A bucket per source address, spent only by refused attempts: a full bucket is
    forgotten (it says nothing), and beyond ``max_addresses`` the least recently
    seen address is forgotten (a fixed-size map). An IPv6 address counts by its
    /64, what one host usually holds; an IPv4-mapped one as its IPv4 address."""

    def __init__(self, per_s: float, *, max_addresses: int = 1024) -> None:
        self.per_s = per_s
        self.max_addresses = max_addresses
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def seconds_to_allowed(self, host: str | None, burst: int, now: float) -> float:
        """0 when ``host`` may try again now, else how long until it may."""
        bucket = self._bucket(host, burst, now, create=False)
        return 0.0 if bucket is None else bucket.seconds_to_token(now)

    def refused(self, host: str | None, burst: int, now: float) -> None:
        """An attempt from ``host`` was refused: it takes a token (if one is left)."""
        bucket = self._bucket(host, burst, now, create=True)
        if bucket is not None:
            bucket.take(now)

    def _bucket(
        self, host: str | None, burst: int, now: float, *, create: bool
    ) -> TokenBucket | None:
        key = address_key(host)
        if key is None:
            return None
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.capacity = float(burst)  # the site's size may have changed
            if bucket.is_full(now) and not create:
                del self._buckets[key]
                return None
            self._buckets.move_to_end(key)
            return bucket
        if not create:
            return None
        bucket = self._buckets[key] = TokenBucket.full(float(burst), self.per_s, now)
        while len(self._buckets) > self.max_addresses:
            self._buckets.popitem(last=False)
        return bucket


def address_key(host: str | None) -> str | None:
    """What a source address counts as (None: not an IP address, not throttled)."""
    if not host:
        return None
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
