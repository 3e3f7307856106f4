"""Tariffs: seasons and time-of-use windows cover the year and each day exactly once; day names; demand windows."""

from __future__ import annotations
