"""The controller's log on stderr, in one of two forms (``serve --log-format``):

- ``json``: one object per line — ``time`` (UTC, milliseconds), ``level``, ``logger``,
  ``message`` and the record's ``extra`` fields — for journald, files and log shippers;
- ``text``: one line a person reads — the time in the site's zone with its offset (UTC
  until a site is loaded), the level when it is not ``info``, the message, and the
  extra fields as ``key=value``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Any

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a record was logged with (``extra=``), beyond the standard ones."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class JsonLines(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and any ``extra``."""

    converter = time.gmtime  # type: ignore[assignment]  # typeshed: one optional arg

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(extra_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextLines(logging.Formatter):
    """``2026-12-07 18:30:05+11:00 warning: site file … differs …  revision=1``: the
    site's time (``zone``, set once the site is known) to the second."""

    def __init__(self, zone: tzinfo = UTC) -> None:
        super().__init__()
        self.zone = zone

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).astimezone(self.zone)
        level = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        fields = " ".join(f"{key}={value}" for key, value in extra_fields(record).items())
        line = f"{at.replace(microsecond=0).isoformat(sep=' ')} {level}{record.getMessage()}"
        if fields:
            line += f"  {fields}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(
    form: LogFormat = LogFormat.JSON, level: int = logging.INFO
) -> logging.Formatter:
    """depotctl's and uvicorn's loggers to stderr in ``form``; the formatter (a text
    one is told the site's zone once it is known)."""
    formatter: logging.Formatter = JsonLines() if form is LogFormat.JSON else TextLines()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    for name in ("depotctl", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler] if name != "uvicorn.error" else []
        logger.setLevel(level)
        logger.propagate = name == "uvicorn.error"
    return formatter
