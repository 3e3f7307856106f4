"""A site's tariff (inline, a ``kind: Tariff`` file or an acnportal JSON; valid:
``depotctl validate`` passes it) → the domain's :class:`~depotctl.domain.tariff.Tariff`,
the value the bill reads."""

from __future__ import annotations

from pathlib import Path

from depotctl.config.acnportal_tariff import read_acnportal_tariff
from depotctl.config.load import load_file
from depotctl.config.schema.site import Site, TariffDocument
from depotctl.config.schema.tariff import (
    DemandWindow,
    EnergyWindow,
    Season,
    TariffRef,
    TariffSpec,
)
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


def read_tariff_ref(reference: TariffRef, base_dir: Path) -> TariffSpec:
    """The spec of a tariff the site names by ``ref`` (relative to ``base_dir``).

    Raises ``OSError`` when the file cannot be read, :class:`AcnportalTariffError` for
    an acnportal JSON that is not one, and ``ValueError`` for a file that holds no valid
    ``kind: Tariff`` document (``depotctl validate`` says why)."""
    path = base_dir / reference.ref
    if reference.format == "acnportal":
        return read_acnportal_tariff(path.read_text(encoding="utf-8"))
    documents = load_file(path).documents
    models = [d.model for d in documents if isinstance(d.model, TariffDocument)]
    if len(documents) != 1 or len(models) != 1:
        raise ValueError(f'"{reference.ref}" holds no single valid kind: Tariff document')
    return models[0].spec


def site_tariff(site: Site, base_dir: Path) -> Tariff | None:
    """The tariff of a valid site, inline or by reference; None when it has none."""
    tariff = site.spec.tariff
    if tariff is None:
        return None
    return tariff_of(read_tariff_ref(tariff, base_dir) if isinstance(tariff, TariffRef) else tariff)
