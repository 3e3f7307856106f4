"""References: meters and nodes named by id exist and agree; a tariff named by ``ref``
exists and holds a valid ``kind: Tariff`` document.

A referenced tariff is only summarised here (its error count and first error); its
own diagnostics are reported when that file is validated itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path as FsPath

from depotctl.config.checks.context import (
    TARIFF_CHECKS,
    SiteContext,
    TariffContext,
    closest,
    describe,
    site_check,
)
from depotctl.config.checks.tariff import acnportal_problem
from depotctl.config.diagnostics import Diagnostic, Severity
from depotctl.config.load import LoadedFile, load_file
from depotctl.config.rules import IO_UNREADABLE, Finding, error
from depotctl.config.schema import DOCUMENT_KINDS, Meter, TariffDocument, TariffRef

UNKNOWN_METER = error(
    "reference/unknown-meter",
    "a node names a meter that does not exist",
    "fix the meter's id, or add the meter under spec.meters",
)
UNKNOWN_NODE = error(
    "reference/unknown-node",
    "a meter names a node that does not exist",
    "fix the node's id in the meter's node:",
)
METER_MISMATCH = error(
    "reference/meter-mismatch",
    "a node names a meter that measures another node: its readings would be taken for this node's",
    "make the node and the meter name each other",
)
TARIFF_NOT_FOUND = error(
    "reference/tariff-not-found",
    "a tariff ref names a file that does not exist or cannot be read",
    "the path is relative to the site file; fix it or add the tariff file",
)
INVALID_TARIFF = error(
    "reference/invalid-tariff",
    "a tariff ref names a file that is not a valid kind: Tariff document",
    "run depotctl validate on the tariff file and fix what it reports",
)


@site_check
def meter_references(ctx: SiteContext) -> Iterator[Finding]:
    meters: dict[str, Meter] = {}
    for each in ctx.site.spec.meters:
        meters.setdefault(each.id, each)
    for i, node in enumerate(ctx.node_list):
        name = getattr(node, "meter", None)
        if name is None:
            continue
        meter = meters.get(name)
        if meter is None:
            guess = closest(name, meters)
            yield UNKNOWN_METER.at(
                ("spec", "nodes", i, "meter"),
                f'{describe(node)} names meter "{name}", which is not in spec.meters',
                f'did you mean "{guess}"?' if guess else None,
            )
        elif meter.node != node.id and meter.node in ctx.nodes:
            yield METER_MISMATCH.at(
                ("spec", "nodes", i, "meter"),
                f'{describe(node)} names meter "{name}", but that meter measures '
                f"{describe(ctx.nodes[meter.node])}",
                _own_meter(ctx, node.id),
            )
    for i, each in enumerate(ctx.site.spec.meters):
        if each.node not in ctx.nodes:
            guess = closest(each.node, ctx.nodes)
            yield UNKNOWN_NODE.at(
                ("spec", "meters", i, "node"),
                f'meter "{each.id}" measures node "{each.node}", which is not a node of this site',
                f'did you mean "{guess}"?' if guess else None,
            )


def _own_meter(ctx: SiteContext, node_id: str) -> str:
    own = [meter.id for meter in ctx.site.spec.meters if meter.node == node_id]
    if own:
        return f'did you mean meter: {own[0]}? It measures "{node_id}"'
    return f"add a meter with node: {node_id} under spec.meters and name it here"


@site_check
def tariff_reference(ctx: SiteContext) -> Iterator[Finding]:
    tariff = ctx.site.spec.tariff
    if not isinstance(tariff, TariffRef):
        return
    where = ("spec", "tariff", "ref")
    try:
        file = ctx.resolve(tariff.ref)
        shown = os.path.normpath(ctx.base_dir / tariff.ref)
        exists, regular = file.exists(), file.is_file()
    except (OSError, ValueError) as error:  # a NUL byte, a name too long for the system
        yield TARIFF_NOT_FOUND.at(where, f"tariff ref is not a usable path: {error}")
        return
    if not exists:
        yield TARIFF_NOT_FOUND.at(
            where, f'tariff file "{tariff.ref}" does not exist ({shown})', _nearby(ctx, tariff.ref)
        )
        return
    if not regular:  # a directory, or a pipe or device that could block the read
        kind = "a directory" if file.is_dir() else "not a regular file"
        yield TARIFF_NOT_FOUND.at(where, f'tariff ref "{tariff.ref}" is {kind}')
        return
    if tariff.format == "acnportal":
        problem = acnportal_problem(file)
        if problem is not None:
            yield INVALID_TARIFF.at(where, f'tariff file "{tariff.ref}" {problem}')
        return
    loaded = load_file(file, shown)
    unreadable = [d for d in loaded.report.diagnostics if d.rule == IO_UNREADABLE.id]
    if unreadable:
        yield TARIFF_NOT_FOUND.at(where, f'tariff file "{tariff.ref}": {unreadable[0].message}')
        return
    problem = _tariff_problem(loaded)
    if problem is not None:
        yield INVALID_TARIFF.at(where, f'tariff file "{tariff.ref}" {problem}')


def _tariff_problem(loaded: LoadedFile) -> str | None:
    """Why a loaded file is not a usable tariff, or None when it is one."""
    documents = loaded.documents
    if len(documents) > 1:
        return f"holds {len(documents)} documents; a tariff file holds one kind: Tariff document"
    if documents:
        data = documents[0].document.data
        kind = data.get("kind") if isinstance(data, dict) else None
        if kind != "Tariff" and isinstance(kind, str) and kind in DOCUMENT_KINDS:
            return f"holds a kind: {kind} document, not a kind: Tariff"
        model = documents[0].model
        if isinstance(model, TariffDocument):
            context = TariffContext(model.spec, ("spec",))
            loaded.add(documents[0], [f for check in TARIFF_CHECKS for f in check(context)])
    errors = sorted(
        (d for d in loaded.report.diagnostics if d.severity is Severity.ERROR),
        key=lambda d: d.sort_key,
    )
    if not errors:
        return None
    count = f"{len(errors)} error{'s' * (len(errors) != 1)}"
    return f"is not a valid tariff ({count}); the first: {_one_line(errors[0])}"


def _one_line(diagnostic: Diagnostic) -> str:
    return f"{diagnostic.location}: {diagnostic.message} [{diagnostic.rule}]"


def _nearby(ctx: SiteContext, reference: str) -> str | None:
    """``did you mean "tariffs/x.yaml"?`` from the YAML files beside where the ref points,
    or beside the site file and one directory down."""
    folder = (ctx.base_dir / reference).parent
    if folder.is_dir():
        candidates = list(folder.glob("*.y*ml"))
    else:
        candidates = [*ctx.base_dir.glob("*.y*ml"), *ctx.base_dir.glob("*/*.y*ml")]
    names = [_relative(path, ctx.base_dir) for path in candidates]
    guess = closest(reference, names)
    return f'did you mean "{guess}"?' if guess else None


def _relative(path: FsPath, base: FsPath) -> str:
    return FsPath(os.path.relpath(path, base)).as_posix()
