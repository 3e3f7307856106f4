"""Carbon: the file exists and parses; a profile covers 24 h; a series is ordered and in one unit."""

from __future__ import annotations
