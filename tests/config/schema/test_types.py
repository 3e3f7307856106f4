"""Every quantity type of the site schema, in a real site file through `depotctl
validate`'s own path: any value either is taken (as the grammar takes it) or gets its
``quantity/…`` diagnostic at the field's line and column; never an exception."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depotctl.config.diagnostics import Diagnostic
from depotctl.domain.quantity import (
    BOUNDS,
    EXAMPLE_UNIT,
    Dimension,
    QuantityError,
    parse_quantity,
)
from tests.config.checks.validating import diagnostics
from tests.domain.quantity_texts import quantity_values

#: A site with a field of each quantity type; each field's value is replaced in turn.
SITE = """\
apiVersion: depotctl/v1
kind: Site
metadata: {name: every-quantity, timezone: Australia/Sydney}
spec:
  electrical: {voltage: 230 V, phases: 3}
  nodes:
    - id: gc-main
      type: grid_connection
      limits: {import: 400 kW, current: 630 A}
    - id: tx-1
      type: transformer
      parent: gc-main
      rating: 315 kVA
      primary: 11 kV
      secondary: 400 V
    - id: db-1
      type: circuit
      parent: tx-1
      limits: {current: 250 A}
    - id: chg-01
      type: charger
      parent: db-1
      ocpp: {id: CP-01, protocol: ocpp1.6, password_env: CP01_PASSWORD}
      rating: {power: 22 kW, current: 32 A}
      phases: 3
      fallback: 16 A
      evses: [{id: 1, connectors: [{id: 1, type: Type2}]}]
    - id: bess-1
      type: storage
      parent: db-1
      capacity: 200 kWh
      rating: {power: 50 kW}
  tariff:
    currency: AUD
    seasons:
      - name: all-year
        from: "01-01"
        to: "12-31"
        energy:
          - {name: flat, days: all, from: "00:00", to: "24:00", price: 0.25 /kWh}
        demand:
          - {name: peak, days: weekdays, price: 18.60 /kW/month}
    fixed: 3.50 /day
  carbon:
    constant: 0.66 kg/kWh
  policies:
    telemetry: {stale_after: 30 s, stale_margin: 20 %}
    charging: {safety_margin: 5 %}
"""


@dataclass(frozen=True, slots=True)
class SiteField:
    """A quantity field of :data:`SITE`: the text it holds there, the dimensions it
    takes, and whether it must be above zero."""

    written: str
    dimensions: tuple[Dimension, ...]
    positive: bool = True

    def site(self, value: Any) -> tuple[str, int, int]:
        """The site with ``value`` in this field, and the value's line and column."""
        key, _ = self.written.split(": ", 1)
        assert SITE.count(self.written) == 1
        text = SITE.replace(self.written, f"{key}: {yaml_scalar(value)}")
        line = next(n for n, li in enumerate(SITE.splitlines(), 1) if self.written in li)
        column = SITE.splitlines()[line - 1].index(self.written) + len(key) + 3
        return text, line, column


FIELDS = {
    "power": SiteField("import: 400 kW", (Dimension.POWER,)),
    "apparent power": SiteField("rating: 315 kVA", (Dimension.APPARENT_POWER,)),
    "current": SiteField("current: 250 A", (Dimension.CURRENT,)),
    "voltage": SiteField("primary: 11 kV", (Dimension.VOLTAGE,)),
    "energy": SiteField("capacity: 200 kWh", (Dimension.ENERGY,)),
    "duration": SiteField("stale_after: 30 s", (Dimension.DURATION,)),
    "energy price": SiteField("price: 0.25 /kWh", (Dimension.ENERGY_PRICE,), positive=False),
    "demand price": SiteField("price: 18.60 /kW/month", (Dimension.DEMAND_PRICE,), positive=False),
    "fixed charge": SiteField("fixed: 3.50 /day", (Dimension.FIXED_CHARGE,), positive=False),
    "carbon intensity": SiteField(
        "constant: 0.66 kg/kWh", (Dimension.CARBON_INTENSITY,), positive=False
    ),
    "ratio": SiteField("safety_margin: 5 %", (Dimension.RATIO,), positive=False),
    "current or power": SiteField("fallback: 16 A", (Dimension.CURRENT, Dimension.POWER)),
}


def yaml_scalar(value: Any) -> str:
    """``value`` as YAML writes it: a string double-quoted (everything unprintable
    escaped, so YAML reads back the very string), a number or boolean plain."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    escaped = []
    for c in value:
        if c in '"\\':
            escaped.append("\\" + c)
        elif c.isprintable():
            escaped.append(c)
        else:
            escaped.append(f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
    return '"' + "".join(escaped) + '"'


def expected_rule(field: SiteField, value: Any) -> str | None:
    """The ``quantity/…`` rule the grammar and the field give ``value``; None if taken."""
    try:
        quantity = parse_quantity(value, field.dimensions)
    except QuantityError as error:
        return f"quantity/{error.kind}"
    if field.positive and quantity.magnitude <= 0:
        return "quantity/not-positive"
    return None


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("sites")


def quantity_diagnostics(found: list[Diagnostic]) -> list[tuple[str, int, int]]:
    return [
        (d.rule, d.span.line, d.span.column)
        for d in found
        if d.rule.startswith("quantity/") and d.span is not None
    ]


def check(workdir: Path, field: SiteField, value: Any) -> None:
    text, line, column = field.site(value)
    found = diagnostics(workdir / "site.yaml", text)
    rule = expected_rule(field, value)
    assert quantity_diagnostics(found) == ([(rule, line, column)] if rule else []), (
        value,
        [(d.rule, d.message) for d in found],
    )
    assert all(d.span is not None for d in found if d.rule.startswith("quantity/"))


def test_the_site_is_clean(workdir: Path) -> None:
    assert diagnostics(workdir / "site.yaml", SITE) == []


def _edges(field: SiteField) -> list[Any]:
    """Each case issue 11 found, in this field's own units, and the bound's edges."""
    dimension = field.dimensions[0]
    unit = EXAMPLE_UNIT[dimension]
    largest = BOUNDS[dimension].written
    number, bound_unit = largest.split(" ")
    beyond = f"{float(number) * 1.000001!r} {bound_unit}"
    return [
        f"1e306 {unit}",
        f"1e999 {unit}",
        f"５ {unit}",
        f" 40 {unit}",
        f"40 {unit} ",
        f"40\u00a0{unit}",
        f"40{unit}",
        largest,
        f"-{largest}",
        beyond,
        10**400,
        1e308,
        True,
    ]


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_each_edge_in_each_quantity_type(workdir: Path, name: str) -> None:
    field = FIELDS[name]
    for value in _edges(field):
        check(workdir, field, value)


#: values drawn for every quantity type: the suite's run, besides every type's edges
#: above; the deep run (``pytest -m slow``) draws ten times as many
VALUES = st.tuples(st.sampled_from(sorted(FIELDS)), quantity_values)


@settings(max_examples=200)
@given(drawn=VALUES)
def test_any_value_in_any_quantity_type_is_taken_or_diagnosed(
    workdir: Path, drawn: tuple[str, Any]
) -> None:
    name, value = drawn
    check(workdir, FIELDS[name], value)


@pytest.mark.slow
@settings(max_examples=2000)
@given(drawn=VALUES)
def test_any_value_in_any_quantity_type_is_taken_or_diagnosed_thoroughly(
    workdir: Path, drawn: tuple[str, Any]
) -> None:
    name, value = drawn
    check(workdir, FIELDS[name], value)
