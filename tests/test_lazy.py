"""A package's lazily exported names: read from their submodule on first use."""

from __future__ import annotations

import re

import pytest

from depotctl.lazy import lazy_attributes


def test_a_name_is_read_from_the_submodule_it_maps_to() -> None:
    attribute = lazy_attributes("depotctl.config.render", {"sarif": ("render_sarif",)})

    from depotctl.config.render.sarif import render_sarif

    assert attribute("render_sarif") is render_sarif


def test_a_name_not_exported_is_an_attribute_error_naming_the_package() -> None:
    attribute = lazy_attributes("depotctl.client", {"api": ("ControllerClient",)})
    with pytest.raises(
        AttributeError, match=re.escape("'depotctl.client' has no attribute 'Target'")
    ):
        attribute("Target")
