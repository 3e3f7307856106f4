"""The base of every schema model: unknown fields are errors, values are frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SchemaModel(BaseModel):
    """A mapping in a site file. Unknown keys are rejected (``schema/unknown-field``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=False)
