"""The rule registry: every diagnostic validate can emit has a stable id here.

Rule ids are a contract (CI pipelines suppress and grep them): never rename one;
retire it and add a new id instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from depotctl.config.diagnostics import Diagnostic, Severity, Span

#: A path into a document's data: mapping keys and sequence indexes.
Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's verdict on a place in the document, before it has a file position.

    ``at_key`` points at the mapping key of ``path`` rather than its value.
    """

    rule: Rule
    path: Path
    message: str
    hint: str | None = None
    at_key: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """A check with a stable id (``topology/cycle``), a severity and a default hint."""

    id: str
    severity: Severity
    summary: str
    hint: str

    @property
    def category(self) -> str:
        return self.id.split("/", 1)[0]

    def diagnostic(self, file: str, message: str, span: Span | None = None) -> Diagnostic:
        """A diagnostic of this rule about a whole file (or at ``span``), with its hint."""
        return Diagnostic(file, span, self.severity, self.id, message, self.hint)

    def at(
        self, path: Path, message: str, hint: str | None = None, *, at_key: bool = False
    ) -> Finding:
        return Finding(self, path, message, hint or self.hint, at_key)


RULES: dict[str, Rule] = {}


def rule(id: str, severity: Severity, summary: str, hint: str) -> Rule:
    """Register a rule; ids are unique across the whole program."""
    if id in RULES:
        raise ValueError(f"rule {id} registered twice")
    RULES[id] = registered = Rule(id, severity, summary, hint)
    return registered


def error(id: str, summary: str, hint: str) -> Rule:
    """Register a rule whose findings are errors (a site with one is not valid)."""
    return rule(id, Severity.ERROR, summary, hint)


def warning(id: str, summary: str, hint: str) -> Rule:
    """Register a rule whose findings are warnings."""
    return rule(id, Severity.WARNING, summary, hint)


#: Categories of rules that other commands report, not validate: ``snapshot/`` rules
#: are allocate's and explain's (docs/snapshot.md lists them).
NOT_VALIDATE = frozenset({"snapshot"})


def all_rules() -> list[Rule]:
    """Every rule validate can report, loading the semantic checks so that their rules
    are registered."""
    import depotctl.config.checks  # noqa: F401  (registers the semantic rules)

    return sorted((r for r in RULES.values() if r.category not in NOT_VALIDATE), key=lambda r: r.id)


# Files
IO_NOT_FOUND = error("io/not-found", "a path given to validate does not exist", "check the path")
IO_UNREADABLE = error(
    "io/unreadable",
    "a file cannot be read (permissions, a special file)",
    "check its permissions",
)
IO_NO_SITE_FILES = error(
    "io/no-site-files",
    "a directory holds no .yaml or .yml files",
    "point validate at site files",
)
IO_TOO_LARGE = error(
    "io/too-large",
    "a file over 5 MiB, which is not parsed",
    "a site file is a few hundred KiB at most; split it",
)
IO_BINARY = error(
    "io/binary", "a binary file (it holds NUL bytes)", "validate only site YAML files"
)
IO_EMPTY = error(
    "io/empty",
    "an empty file, or one with only comments",
    "add a Site document or delete the file",
)
IO_ENCODING = error("io/encoding", "a file that is not UTF-8", "save the file as UTF-8")

# YAML and schema
YAML_SYNTAX = error("yaml/syntax", "a YAML syntax error", "fix the YAML at the marked position")
YAML_DUPLICATE_KEY = error(
    "yaml/duplicate-key",
    "a key repeated in one mapping (YAML keeps only the last)",
    "remove one of the two",
)
SCHEMA_UNKNOWN_KIND = error(
    "schema/unknown-kind",
    "a document whose apiVersion/kind depotctl does not know",
    "use apiVersion: depotctl/v1 with kind: Site or kind: Tariff",
)
SCHEMA_UNKNOWN_FIELD = error(
    "schema/unknown-field",
    "a field the schema does not have (often a typo)",
    "remove it or fix its name",
)
SCHEMA_MISSING_FIELD = error("schema/missing-field", "a required field is missing", "add the field")
SCHEMA_WRONG_TYPE = error(
    "schema/wrong-type",
    "a value of the wrong type (a list where a mapping belongs, …)",
    "see `depotctl schema` for the expected shape",
)
SCHEMA_INVALID_VALUE = error(
    "schema/invalid-value",
    "a value outside what the field accepts (an unknown node type, a bad id, …)",
    "use one of the accepted values",
)
QUANTITY_MISSING_UNIT = error(
    "quantity/missing-unit",
    "a quantity written without its unit",
    'write the unit, like "400 kW"',
)
QUANTITY_WRONG_UNIT = error(
    "quantity/wrong-unit",
    "a quantity in a unit that does not fit the field (kWh where kW is meant)",
    "use a unit of the expected kind",
)
QUANTITY_MALFORMED = error(
    "quantity/malformed", "a quantity that is not a number and a unit", 'write it like "250 A"'
)
QUANTITY_OUT_OF_RANGE = error(
    "quantity/out-of-range",
    "a quantity beyond what any depot has (1 TW, a mistyped unit; docs/quantities.md)",
    "check the number and its unit",
)
QUANTITY_NOT_POSITIVE = error(
    "quantity/not-positive",
    "a zero or negative limit, rating or duration",
    "use a value above zero",
)
