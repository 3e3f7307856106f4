"""Electrical consistency: phases, child limits, fallback and minimum-current sums, site-load fallback."""

from __future__ import annotations
