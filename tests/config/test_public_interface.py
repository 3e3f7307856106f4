"""``depotctl.config``'s public interface: every name other packages use, loaded from
its submodule on first use, and typed as that submodule declares it."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import depotctl.config as config

INIT = Path(config.__file__)


def _type_checking_imports() -> dict[str, tuple[str, str]]:
    """Public name → (submodule, name there), as the ``TYPE_CHECKING`` block that
    mypy reads spells it."""
    tree = ast.parse(INIT.read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    names: dict[str, tuple[str, str]] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names:
            module = node.module.removeprefix("depotctl.config.")
            names[alias.asname or alias.name] = (module, alias.name)
    return names


def test_what_mypy_reads_and_what_runs_name_the_same_objects() -> None:
    declared = _type_checking_imports()
    assert sorted(declared) == sorted(config.__all__)
    for name, (module, attribute) in declared.items():
        assert getattr(config, name) is getattr(
            import_module(f"depotctl.config.{module}"), attribute
        )


def test_an_unknown_name_is_an_attribute_error() -> None:
    assert not hasattr(config, "no_such_name")


def test_no_public_name_is_a_submodule_name() -> None:
    """Importing a submodule binds its name on the package: a public name spelled the
    same would be shadowed by the module."""
    submodules = {info.name for info in pkgutil.iter_modules(config.__path__)}
    assert len(submodules) > 10
    assert submodules.isdisjoint(config.__all__)


def test_importing_the_package_loads_none_of_its_submodules() -> None:
    probe = (
        "import sys, depotctl.config; "
        "print(sorted(m for m in sys.modules if m.startswith('depotctl.config.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"
