"""Names a package exports that load their submodule on first use (PEP 562), so that
importing the package costs only what its importer uses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import Any


def lazy_attributes(package: str, names: Mapping[str, Iterable[str]]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: each of the ``names`` of a submodule
    read from it on first use."""
    modules = {name: module for module, exported in names.items() for name in exported}

    def attribute(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{module}"), name)

    return attribute
