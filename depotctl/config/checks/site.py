"""Site metadata: the time zone exists."""

from __future__ import annotations
