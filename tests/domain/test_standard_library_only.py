"""The domain imports the standard library only (and itself): every import statement of
every module, at any depth (functions, ``TYPE_CHECKING`` blocks included)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import depotctl.domain

DOMAIN = Path(depotctl.domain.__file__).parent


def _imported(tree: ast.AST) -> list[str]:
    """The absolute module names a module's import statements name (relative ones are
    inside its own package)."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_the_domain_imports_the_standard_library_and_itself_only() -> None:
    modules = sorted(DOMAIN.rglob("*.py"))
    imports = {
        path.relative_to(DOMAIN).as_posix(): _imported(ast.parse(path.read_text()))
        for path in modules
    }
    assert len(modules) > 10 and sum(map(len, imports.values())) > 50
    outside = {
        module: sorted(
            name
            for name in names
            if name.split(".")[0] not in sys.stdlib_module_names
            and not (name == "depotctl.domain" or name.startswith("depotctl.domain."))
        )
        for module, names in imports.items()
    }
    assert {module: names for module, names in outside.items() if names} == {}
