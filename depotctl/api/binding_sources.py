"""Where an explained EVSE's binding limit comes from (``binding_source`` of
``GET /api/v1/explain/{evse}``)."""

from __future__ import annotations

from pydantic import Field

from depotctl.api.base import ApiModel


class BindingSource(ApiModel):
    """The line of the site revision that sets the binding limit, or the envelope's
    source and its protocol, an operator's override, the vehicle."""

    kind: str = Field(description="site, envelope, operator or vehicle.")
    text: str = Field(description="Where, in words.")
    revision: int | None = Field(None, description="The site revision that sets it.")
    line: int | None = Field(None, description="Its line in that revision's site text.")
    source: str | None = Field(None, description="The envelope source's id.")
    protocol: str | None = Field(None, description="The envelope source's protocol (oscp, local).")
