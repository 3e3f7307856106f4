"""A site's ``carbon:`` as the domain's intensity signal, its files read."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from zoneinfo import ZoneInfo

from depotctl.config.carbon_files import (
    PROFILE_HEADER,
    CarbonProfile,
    CarbonSeries,
    profile_of,
    read_profile,
    read_series,
)
from depotctl.config.schema import Site
from depotctl.domain.carbon import (
    ConstantIntensity,
    HourlyIntensity,
    Intensity,
    SeriesIntensity,
)


def site_carbon_intensity(site: Site, base_dir: Path) -> Intensity | None:
    """The intensity the site declares (None without ``carbon:``). A profile holds in
    the site's time zone; a series file's last value holds for the spacing before it.
    Raises ``CarbonFileError`` for a file that cannot be used (``validate`` names it)."""
    carbon = site.spec.carbon
    if carbon is None:
        return None
    if carbon.constant is not None:
        return ConstantIntensity(carbon.constant.base)
    zone = ZoneInfo(site.metadata.timezone)
    if isinstance(carbon.profile, list):
        return _hourly(profile_of(carbon.profile), zone)
    if isinstance(carbon.profile, str):
        return _hourly(read_profile(base_dir / carbon.profile), zone)
    assert carbon.series is not None  # the schema asks for exactly one
    return _series(read_series(base_dir / carbon.series), f"series {carbon.series}")


def carbon_file_intensity(path: Path, zone: ZoneInfo) -> Intensity:
    """The intensity of a carbon CSV on its own: a series (``time,intensity``) or a
    daily profile (``hour,intensity``, in ``zone``), told by its header. Raises
    ``CarbonFileError``."""
    if _header(path) == PROFILE_HEADER:
        return _hourly(read_profile(path), zone)
    return _series(read_series(path), f"series {path}")


def _hourly(profile: CarbonProfile, zone: ZoneInfo) -> HourlyIntensity:
    return HourlyIntensity(tuple(v.base for v in profile.hourly), zone)


def _series(series: CarbonSeries, name: str) -> SeriesIntensity:
    return SeriesIntensity.of(series.times, tuple(v.base for v in series.intensities), name)


def _header(path: Path) -> tuple[str, ...] | None:
    """The first row that is not blank or a comment, lowercased (None: none, or the
    file cannot be read; ``read_series`` then says why)."""
    gzipped = path.name.endswith(".gz")
    try:
        with (
            gzip.open(path, "rt", encoding="utf-8-sig")
            if gzipped
            else open(path, encoding="utf-8-sig") as stream
        ):
            for line in stream:
                cells = tuple(cell.strip().lower() for cell in line.split(","))
                if any(cells) and not cells[0].startswith("#"):
                    return cells
    except (OSError, UnicodeDecodeError, EOFError, zlib.error):
        pass
    return None


def site_file_carbon_intensity(path: Path) -> Intensity | None:
    """The intensity a valid site file declares (see :func:`site_carbon_intensity`)."""
    from depotctl.config.load import load_file

    sites = [d.model for d in load_file(path).documents if isinstance(d.model, Site)]
    return site_carbon_intensity(sites[0], path.parent) if len(sites) == 1 else None
