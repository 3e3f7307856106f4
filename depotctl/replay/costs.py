"""What a replay bills and plans with: the site's tariff (or a tariff file in its
place), its price series, and its ``planner:`` settings with its carbon price."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from depotctl.config import (
    AcnportalTariffError,
    PriceFileError,
    Site,
    TariffRef,
    compile_planner,
    load_file,
    read_tariff_ref,
    site_price_series,
    site_tariff,
    tariff_of,
)
from depotctl.domain.carbon import Intensity
from depotctl.domain.planning import PlannerSettings
from depotctl.domain.price_series import PriceSeries
from depotctl.domain.tariff import Tariff
from depotctl.engine.planner.inputs import CostSignals


class ReplayCostError(Exception):
    """A tariff or price file that cannot be read or used; the message names it."""


@dataclass(frozen=True)
class ReplayCosts:
    """The tariff and price series a replay bills with, and the site's planner."""

    tariff: Tariff | None
    prices: PriceSeries | None
    planner: PlannerSettings

    def signals(self, carbon: Intensity | None) -> CostSignals:
        """The planner's signals: these prices, ``carbon`` and the site's carbon price."""
        price = self.planner.carbon_price
        return CostSignals(
            tariff=self.tariff,
            prices=self.prices,
            carbon=carbon,
            carbon_price_per_kg=price.per_kg if price is not None else 0.0,
        )

    def planner_settings(self) -> PlannerSettings:
        """The site's horizon and block, planning on."""
        return replace(self.planner, enabled=True)


def replay_costs(site: Path, tariff_file: Path | None = None) -> ReplayCosts:
    """The costs of the valid site file ``site``, its tariff replaced by
    ``tariff_file`` when given (an acnportal tariff JSON when its name ends in
    ``.json``, else a ``kind: Tariff`` YAML); raises :class:`ReplayCostError`."""
    sites = [d.model for d in load_file(site).documents if isinstance(d.model, Site)]
    model = sites[0] if len(sites) == 1 else None
    where = str(tariff_file) if tariff_file is not None else f"the tariff of {site}"
    if tariff_file is not None and not tariff_file.is_file():
        raise ReplayCostError(f"cannot read {tariff_file}: no such file; give a tariff file")
    tariff: Tariff | None = None
    try:
        if tariff_file is not None:
            kind = "acnportal" if tariff_file.suffix.lower() == ".json" else "depotctl"
            reference = TariffRef(ref=tariff_file.name, format=kind)
            tariff = tariff_of(read_tariff_ref(reference, tariff_file.parent))
        else:
            tariff = site_tariff(model, site.parent) if model is not None else None
    except OSError as error:
        raise ReplayCostError(f"cannot read {where}: {error.strerror or error}") from None
    except (AcnportalTariffError, ValueError) as error:
        raise ReplayCostError(
            f"cannot use {where} as a tariff: {error}; check it with depotctl validate "
            "(a kind: Tariff YAML) or give an acnportal tariff JSON ending in .json"
        ) from None
    try:
        prices = site_price_series(model, site.parent) if model is not None else None
    except PriceFileError as error:
        raise ReplayCostError(f"cannot use the price series of {site}: {error}") from None
    planner = compile_planner(model) if model is not None else PlannerSettings()
    return ReplayCosts(tariff, prices, planner)
