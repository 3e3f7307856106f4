"""What every model of the API's answers shares: the base class, the time type, and
the way back to the JSON the controller sent.

An answer is read leniently where that costs nothing: a field a newer controller adds
is kept (``extra="allow"``), never refused; the fields this depotctl knows are typed.
Values are frozen, so a console can compare two answers to redraw only what changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, PlainSerializer


class ApiModel(BaseModel):
    """An object in the API's JSON."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True, defer_build=True)


def _iso(at: datetime) -> str:
    return at.isoformat()


#: An ISO 8601 time with its offset, written back as the controller writes it
#: (``datetime.isoformat``: ``+00:00``, never ``Z``).
Instant = Annotated[AwareDatetime, PlainSerializer(_iso, return_type=str, when_used="json")]


def json_of(answer: BaseModel) -> Any:
    """The JSON ``answer`` was read from: the fields it had (none added as defaults),
    under their names in the API, times as the controller wrote them."""
    return answer.model_dump(mode="json", by_alias=True, exclude_unset=True)
