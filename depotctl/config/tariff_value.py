"""A tariff file's ``spec`` (valid: ``depotctl validate`` passes it) → the domain's
:class:`~depotctl.domain.tariff.Tariff`, the value the bill reads."""

from __future__ import annotations

from depotctl.config.schema.tariff import DemandWindow, EnergyWindow, Season, TariffSpec
from depotctl.domain.tariff import DemandCharge, EnergyPeriod, Tariff, TariffSeason
from depotctl.domain.tariff_calendar import DailyWindow, day_of_year


def _days(window: EnergyWindow | DemandWindow) -> list[str]:
    return [window.days] if isinstance(window.days, str) else list(window.days)


def _energy(window: EnergyWindow) -> EnergyPeriod:
    daily = DailyWindow.parse(_days(window), window.from_, window.to)
    return EnergyPeriod(window.name, daily, window.price.base)


def _demand(
    window: DemandWindow, periods: tuple[EnergyPeriod, ...], season: str | None
) -> DemandCharge:
    """A demand window; with ``period:`` the windows of the energy periods of that name
    (on the demand window's days)."""
    daily: tuple[DailyWindow, ...]
    if window.period is None:
        daily = (DailyWindow.parse(_days(window), window.from_, window.to),)
    else:
        days = DailyWindow.parse(_days(window), "00:00", "24:00").days
        daily = tuple(
            DailyWindow(p.window.days & days, p.window.start, p.window.end)
            for p in periods
            if p.name == window.period
        )
    return DemandCharge(window.name, daily, window.price.base, season)


def _season(season: Season) -> TariffSeason:
    energy = tuple(_energy(window) for window in season.energy)
    return TariffSeason(
        season.name,
        day_of_year(season.from_),
        day_of_year(season.to),
        energy,
        tuple(_demand(window, energy, season.name) for window in season.demand),
    )


def tariff_of(spec: TariffSpec) -> Tariff:
    """The tariff ``spec`` describes; fixed charges by their unit (``/day``, ``/month``)."""
    seasons = tuple(_season(season) for season in spec.seasons)
    every_period = tuple(period for season in seasons for period in season.energy)
    fixed = spec.fixed
    return Tariff(
        spec.currency,
        seasons,
        tuple(_demand(window, every_period, None) for window in spec.demand),
        fixed_per_day=fixed.magnitude if fixed is not None and fixed.unit == "/day" else 0.0,
        fixed_per_month=fixed.magnitude if fixed is not None and fixed.unit == "/month" else 0.0,
    )
