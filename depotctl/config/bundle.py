"""The files a site refers to (a shared tariff, carbon CSVs), bundled with its text so
that a revision carries everything it means: the controller runs what was planned,
whatever happens later to the directory it came from.

Only relative references are bundled (they resolve against the site file); an
absolute one names a file on the controller's own host.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from depotctl.config.schema import Site
from depotctl.config.schema.tariff import TariffRef

#: At most this many files, each at most this large (the API's body limit is 1 MiB).
MAX_FILES = 16
MAX_FILE_BYTES = 512 * 1024


class BundleError(ValueError):
    """A bundled file's name or size is not acceptable."""


def referenced_files(site: Site) -> list[str]:
    """The relative files ``site`` refers to, as written, in a stable order."""
    spec = site.spec
    names = []
    if isinstance(spec.tariff, TariffRef):
        names.append(spec.tariff.ref)
    if spec.carbon is not None:
        if isinstance(spec.carbon.profile, str):
            names.append(spec.carbon.profile)
        if spec.carbon.series is not None:
            names.append(spec.carbon.series)
    if spec.prices is not None:
        names.append(spec.prices.series)
    names += [f.series for n in spec.nodes if (f := getattr(n, "forecast", None)) and f.series]
    return sorted({name for name in names if not PurePosixPath(name).is_absolute()})


def read_bundle(site: Site, base_dir: Path) -> dict[str, str]:
    """The text of each relative file ``site`` refers to, read from ``base_dir``; a file
    that cannot be read is left out (validation then reports it where it is named)."""
    bundle = {}
    for name in referenced_files(site):
        try:
            bundle[name] = (base_dir / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return bundle


def check_bundle(files: Mapping[str, str]) -> None:
    """``BundleError`` unless every name is a plain relative path (no ``..``, no
    absolute path, no backslash) and the bundle is within its limits."""
    if len(files) > MAX_FILES:
        raise BundleError(f"{len(files)} files bundled; at most {MAX_FILES}")
    for name, text in files.items():
        path = PurePosixPath(name)
        if (
            not name
            or "\\" in name
            or "\0" in name
            or path.is_absolute()
            or any(part in ("..", "") for part in name.split("/"))
        ):
            raise BundleError(
                f'bundled file "{name}": give a path relative to the site file, '
                "without .. (as the site refers to it)"
            )
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            raise BundleError(f'bundled file "{name}" is over {MAX_FILE_BYTES // 1024} KiB')


def write_bundle(files: Mapping[str, str], directory: Path) -> None:
    """Write ``files`` (checked) under ``directory``; a file already there with the same
    text is left alone, any other is replaced whole (never seen half-written)."""
    check_bundle(files)
    for name, text in files.items():
        target = directory / name
        try:
            if target.read_text(encoding="utf-8") == text:
                continue
        except (OSError, UnicodeDecodeError):
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
        scratch.write_text(text, encoding="utf-8")
        scratch.replace(target)
