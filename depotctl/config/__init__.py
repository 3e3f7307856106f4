"""Site files → domain: the public interface of the config package.

Other packages import from here only, never from a submodule (an import-linter contract
says so): the schema of site and tariff files, reading and validating them with
diagnostics (``validate``), compiling a valid site into the domain's topology and policy
(and each charger's OCPP side), a revision's bundle of files, the diff of two sites, and
snapshot files.

Every name loads its submodule on first use, so that ``depotctl validate`` pays only for
what it runs (no compile, no diff, no snapshot) and importing this package costs nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from depotctl.config.acnportal_tariff import AcnportalTariffError, read_acnportal_tariff
    from depotctl.config.bundle import (
        BundleError,
        check_bundle,
        read_bundle,
        referenced_files,
        write_bundle,
    )
    from depotctl.config.carbon_files import CarbonFileError
    from depotctl.config.carbon_intensity import (
        carbon_file_intensity,
        site_carbon_intensity,
        site_file_carbon_intensity,
    )
    from depotctl.config.charge_points import charge_points as site_charge_points
    from depotctl.config.checks import SiteContext
    from depotctl.config.compile import compile_planner, compile_site
    from depotctl.config.diagnostics import Diagnostic, FileReport, Severity
    from depotctl.config.diff import SiteDiff, SiteFile, diff_sites, read_site
    from depotctl.config.diff import render_json as render_diff_json
    from depotctl.config.diff import render_text as render_diff_text
    from depotctl.config.diff import to_json as diff_to_json
    from depotctl.config.json_schema import render_json_schema
    from depotctl.config.load import LoadedFile, load_file, load_text, read_text
    from depotctl.config.price_files import PriceFileError, read_price_series, site_price_series
    from depotctl.config.render import render_github as render_diagnostics_github
    from depotctl.config.render import render_json as render_diagnostics_json
    from depotctl.config.render import render_junit as render_diagnostics_junit
    from depotctl.config.render import render_sarif as render_diagnostics_sarif
    from depotctl.config.render import render_text as render_diagnostics
    from depotctl.config.render.json import json_report
    from depotctl.config.rules import RULES, SCHEMA_UNKNOWN_KIND, all_rules
    from depotctl.config.schema import Charger, GridConnection, OscpQuirks, Site, TariffDocument
    from depotctl.config.schema.base import SchemaModel
    from depotctl.config.schema.tariff import TariffRef, TariffSpec
    from depotctl.config.schema.types import NodeId, Units
    from depotctl.config.secret_scan import report_secrets
    from depotctl.config.site_file import SiteError, load_site
    from depotctl.config.snapshot import LoadedSnapshot, SnapshotUsageError, load_snapshot
    from depotctl.config.snapshot.build import envelope_of
    from depotctl.config.snapshot.checks import likely_id
    from depotctl.config.snapshot.export import export_document
    from depotctl.config.snapshot.export import to_json as snapshot_to_json
    from depotctl.config.snapshot.export import to_yaml as snapshot_to_yaml
    from depotctl.config.snapshot.schema import (
        AmpsValue,
        EnergyAmount,
        LimitPhases,
        LimitValue,
        PhaseName,
        ReadingEntry,
    )
    from depotctl.config.snapshot.schema import Time as AwareTime
    from depotctl.config.source import YamlSyntaxError, parse_documents
    from depotctl.config.tariff_value import read_tariff_ref, site_tariff, tariff_of
    from depotctl.config.validate import (
        ValidationRun,
        exit_code,
        semantic_findings,
        validate_file,
        validate_paths,
    )
    from depotctl.config.vehicles import site_vehicles

#: public name → (submodule, its name there)
_EXPORTS: dict[str, tuple[str, str]] = {
    "AcnportalTariffError": ("acnportal_tariff", "AcnportalTariffError"),
    "AmpsValue": ("snapshot.schema", "AmpsValue"),
    "AwareTime": ("snapshot.schema", "Time"),
    "BundleError": ("bundle", "BundleError"),
    "CarbonFileError": ("carbon_files", "CarbonFileError"),
    "Charger": ("schema", "Charger"),
    "EnergyAmount": ("snapshot.schema", "EnergyAmount"),
    "Diagnostic": ("diagnostics", "Diagnostic"),
    "FileReport": ("diagnostics", "FileReport"),
    "GridConnection": ("schema", "GridConnection"),
    "LimitPhases": ("snapshot.schema", "LimitPhases"),
    "LimitValue": ("snapshot.schema", "LimitValue"),
    "LoadedFile": ("load", "LoadedFile"),
    "LoadedSnapshot": ("snapshot", "LoadedSnapshot"),
    "NodeId": ("schema.types", "NodeId"),
    "OscpQuirks": ("schema", "OscpQuirks"),
    "PhaseName": ("snapshot.schema", "PhaseName"),
    "PriceFileError": ("price_files", "PriceFileError"),
    "RULES": ("rules", "RULES"),
    "ReadingEntry": ("snapshot.schema", "ReadingEntry"),
    "SCHEMA_UNKNOWN_KIND": ("rules", "SCHEMA_UNKNOWN_KIND"),
    "SchemaModel": ("schema.base", "SchemaModel"),
    "Severity": ("diagnostics", "Severity"),
    "Site": ("schema", "Site"),
    "SiteContext": ("checks", "SiteContext"),
    "SiteDiff": ("diff", "SiteDiff"),
    "SiteError": ("site_file", "SiteError"),
    "SiteFile": ("diff", "SiteFile"),
    "SnapshotUsageError": ("snapshot", "SnapshotUsageError"),
    "TariffDocument": ("schema", "TariffDocument"),
    "TariffRef": ("schema.tariff", "TariffRef"),
    "TariffSpec": ("schema.tariff", "TariffSpec"),
    "Units": ("schema.types", "Units"),
    "ValidationRun": ("validate", "ValidationRun"),
    "YamlSyntaxError": ("source", "YamlSyntaxError"),
    "all_rules": ("rules", "all_rules"),
    "carbon_file_intensity": ("carbon_intensity", "carbon_file_intensity"),
    "check_bundle": ("bundle", "check_bundle"),
    "compile_planner": ("compile", "compile_planner"),
    "compile_site": ("compile", "compile_site"),
    "diff_sites": ("diff", "diff_sites"),
    "diff_to_json": ("diff", "to_json"),
    "envelope_of": ("snapshot.build", "envelope_of"),
    "exit_code": ("validate", "exit_code"),
    "export_document": ("snapshot.export", "export_document"),
    "json_report": ("render.json", "json_report"),
    "likely_id": ("snapshot.checks", "likely_id"),
    "load_file": ("load", "load_file"),
    "load_site": ("site_file", "load_site"),
    "load_snapshot": ("snapshot", "load_snapshot"),
    "load_text": ("load", "load_text"),
    "parse_documents": ("source", "parse_documents"),
    "read_bundle": ("bundle", "read_bundle"),
    "read_site": ("diff", "read_site"),
    "read_text": ("load", "read_text"),
    "referenced_files": ("bundle", "referenced_files"),
    "render_diagnostics": ("render", "render_text"),
    "render_diagnostics_github": ("render", "render_github"),
    "render_diagnostics_json": ("render", "render_json"),
    "render_diagnostics_junit": ("render", "render_junit"),
    "render_diagnostics_sarif": ("render", "render_sarif"),
    "render_diff_json": ("diff", "render_json"),
    "render_diff_text": ("diff", "render_text"),
    "render_json_schema": ("json_schema", "render_json_schema"),
    "read_acnportal_tariff": ("acnportal_tariff", "read_acnportal_tariff"),
    "read_price_series": ("price_files", "read_price_series"),
    "read_tariff_ref": ("tariff_value", "read_tariff_ref"),
    "report_secrets": ("secret_scan", "report_secrets"),
    "semantic_findings": ("validate", "semantic_findings"),
    "site_carbon_intensity": ("carbon_intensity", "site_carbon_intensity"),
    "site_file_carbon_intensity": ("carbon_intensity", "site_file_carbon_intensity"),
    "site_charge_points": ("charge_points", "charge_points"),
    "site_price_series": ("price_files", "site_price_series"),
    "site_tariff": ("tariff_value", "site_tariff"),
    "site_vehicles": ("vehicles", "site_vehicles"),
    "snapshot_to_json": ("snapshot.export", "to_json"),
    "snapshot_to_yaml": ("snapshot.export", "to_yaml"),
    "tariff_of": ("tariff_value", "tariff_of"),
    "validate_file": ("validate", "validate_file"),
    "validate_paths": ("validate", "validate_paths"),
    "write_bundle": ("bundle", "write_bundle"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return getattr(import_module(f"{__name__}.{module}"), attribute)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "RULES",
    "SCHEMA_UNKNOWN_KIND",
    "AcnportalTariffError",
    "AmpsValue",
    "AwareTime",
    "BundleError",
    "CarbonFileError",
    "Charger",
    "Diagnostic",
    "EnergyAmount",
    "FileReport",
    "GridConnection",
    "LimitPhases",
    "LimitValue",
    "LoadedFile",
    "LoadedSnapshot",
    "NodeId",
    "OscpQuirks",
    "PhaseName",
    "PriceFileError",
    "ReadingEntry",
    "SchemaModel",
    "Severity",
    "Site",
    "SiteContext",
    "SiteDiff",
    "SiteError",
    "SiteFile",
    "SnapshotUsageError",
    "TariffDocument",
    "TariffRef",
    "TariffSpec",
    "Units",
    "ValidationRun",
    "YamlSyntaxError",
    "all_rules",
    "carbon_file_intensity",
    "check_bundle",
    "compile_planner",
    "compile_site",
    "diff_sites",
    "diff_to_json",
    "envelope_of",
    "exit_code",
    "export_document",
    "json_report",
    "likely_id",
    "load_file",
    "load_site",
    "load_snapshot",
    "load_text",
    "parse_documents",
    "read_acnportal_tariff",
    "read_bundle",
    "read_price_series",
    "read_site",
    "read_tariff_ref",
    "read_text",
    "referenced_files",
    "render_diagnostics",
    "render_diagnostics_github",
    "render_diagnostics_json",
    "render_diagnostics_junit",
    "render_diagnostics_sarif",
    "render_diff_json",
    "render_diff_text",
    "render_json_schema",
    "report_secrets",
    "semantic_findings",
    "site_carbon_intensity",
    "site_charge_points",
    "site_file_carbon_intensity",
    "site_price_series",
    "site_tariff",
    "site_vehicles",
    "snapshot_to_json",
    "snapshot_to_yaml",
    "tariff_of",
    "validate_file",
    "validate_paths",
    "write_bundle",
]
