"""Secrets are never written in a site file: the ``secrets/`` rules.

A site file goes into git; a secret in it is leaked to everyone who can read the
repository, for ever. The rules run on every document as the reader composed it —
before the schema and whatever the schema says — so that a secret under a key the
schema does not know (a label, a typo) is refused too:

- ``secrets/inline-secret``: a key that names a secret (``password``, ``token``,
  ``labels.api-key``, …; see :mod:`depotctl.config.secret_text`) with a value, or
  with any tagged value (``!!binary`` only encodes);
- ``secrets/tagged-reference``: a reference (``password_env``, ``token_file``) with a
  tagged value (``!secret x``, ``!!binary …``): a reference is a plain name or path;
- ``secrets/url-credentials``: a URL with user information (``https://user:pw@host``),
  in any value or comment.

Messages and hints never repeat a value; the reader records the spans of these
values so that quoted source lines mask them (:class:`~depotctl.config.diagnostics.FileReport`).
:func:`report_secrets` is part of validating a file (``validate``, a revision the
controller is given); reading one (``diff``, the simulators) does not refuse it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from depotctl.config.diagnostics import Diagnostic, Span
from depotctl.config.load import LoadedFile
from depotctl.config.rules import Finding, Path, error
from depotctl.config.schema_errors import dotted
from depotctl.config.secret_text import is_reference_key, is_secret_key, url_credentials
from depotctl.config.source import Document

INLINE_SECRET = error(
    "secrets/inline-secret",
    "a password, token, secret, credential or API key written in the site file "
    "(anywhere, labels included) instead of referenced",
    "reference it with password_env / password_file (token_env / token_file), and rotate it: "
    "it may already be in git history",
)
TAGGED_REFERENCE = error(
    "secrets/tagged-reference",
    "a reference to a secret (password_env, token_file, …) written with a YAML tag "
    "(!secret, !!binary, !vault) instead of as a plain name or path",
    "write the environment variable's name or the file's path, untagged",
)
URL_CREDENTIALS = error(
    "secrets/url-credentials",
    "a URL with credentials in it (https://user:password@host), in a value or a comment",
    "remove the user:password@ part; give the secret through a *_env or *_file reference, "
    "and rotate it: it may already be in git history",
)

_YAML_TAG = "tag:yaml.org,2002:"
#: Tags that change nothing about a plain text value.
_PLAIN_TAGS = frozenset({_YAML_TAG + "str"})


def report_secrets(loaded: LoadedFile) -> None:
    """Add to ``loaded``'s report every secret written in its documents, and every URL
    with credentials in its text (also when it does not parse)."""
    for document in loaded.documents:
        loaded.add(document, secret_findings(document.document))
    text = loaded.report.text or ""
    sources = [document.document for document in loaded.documents]
    loaded.report.diagnostics += url_credential_diagnostics(text, sources, loaded.report.file)


def secret_findings(document: Document) -> list[Finding]:
    """Every secret written in ``document``, and every tagged reference to one, in the
    document's order.

    Each mapping and list is looked at once, where it first stands: an alias (``*a``)
    is the same object as its anchor, so a "billion laughs" file costs its size, not
    its expansion."""
    findings: list[Finding] = []
    tags, root = document.source.tags, document.data
    seen: set[int] = set()
    stack: list[tuple[Any, Path]] = [(root, ())]
    while stack:
        value, path = stack.pop()
        if not isinstance(value, dict | list) or id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, list):
            stack.extend(reversed([(item, (*path, index)) for index, item in enumerate(value)]))
            continue
        below: list[tuple[Any, Path]] = []
        for key, child in value.items():
            here = (*path, key)
            tag = tags.get(here)
            if is_secret_key(key):
                if child is not None or tag is not None:
                    findings.append(_inline(here, tag, root))
                continue  # whatever is below a secret is part of it
            if is_reference_key(key) and tag is not None and tag not in _PLAIN_TAGS:
                findings.append(
                    TAGGED_REFERENCE.at(
                        here,
                        f"{_place(root, here)} is written with the tag {_shown_tag(tag)}; "
                        "a reference is the plain name of an environment variable or the "
                        "path of a file (the value is not shown)",
                        at_key=True,
                    )
                )
                continue
            below.append((child, here))
        stack.extend(reversed(below))
    return findings


def _inline(path: Path, tag: str | None, root: Any) -> Finding:
    """The finding for a secret at ``path``, with a hint fit for where it stands."""
    encoded = f", tagged {_shown_tag(tag)} (which hides nothing)" if tag is not None else ""
    node = _node_of(root, path)
    if node is not None and path[3:] == ("ocpp", "password"):
        ocpp = node.get("ocpp")
        identity = ocpp.get("id") if isinstance(ocpp, dict) else None
        return INLINE_SECRET.at(
            path,
            f"{_describe_node(node)} has its OCPP password written in the site file{encoded}",
            f"put it in an environment variable and write "
            f"password_env: {_env_name(str(identity or node.get('id')), 'PASSWORD')} "
            "(or password_file: PATH); "
            "then change the password on the charger: it may already be in git history",
            at_key=True,
        )
    source = _envelope_source_of(root, path)
    if source is not None and path[3:] == ("oscp", "token"):
        return INLINE_SECRET.at(
            path,
            f'envelope source "{source.get("id")}" has its OSCP token written in the '
            f"site file{encoded}",
            f"put it in an environment variable and write "
            f"token_env: {_env_name(str(source.get('id')), 'OSCP_TOKEN')} (or token_file: PATH); "
            "then ask the provider for a new token: it may already be in git history",
            at_key=True,
        )
    if "labels" in path[:-1]:
        return INLINE_SECRET.at(
            path,
            f"{_place(root, path)} holds a secret written in the site file{encoded}; "
            "the value is not shown",
            "labels are read by people and tools alike: never put a credential in one; "
            "remove it, and rotate the secret: it may already be in git history",
            at_key=True,
        )
    return INLINE_SECRET.at(
        path,
        f"{_place(root, path)} holds a secret written in the site file{encoded}; "
        "the value is not shown",
        at_key=True,
    )


def url_credential_diagnostics(
    text: str, documents: Iterable[Document], file: str
) -> list[Diagnostic]:
    """A diagnostic at each URL with credentials in ``text`` — a value's or a
    comment's — naming the value it is in, never the credentials."""
    if "@" not in text:
        return []
    found: list[Diagnostic] = []
    sources = list(documents)
    hidden = [span for document in sources for span in document.source.hidden]
    for number, line in enumerate(text.splitlines(), start=1):
        for start, _ in url_credentials(line):
            if _inside(hidden, number, start + 1):
                continue  # a secret's value: secrets/inline-secret says so already
            scheme = line.index("://", start) + 3
            span = Span(number, start + 1, number, scheme + 1)  # never as long as the secret
            place = _value_at(sources, number, start + 1)
            where = f"{place} holds" if place else "a comment holds"
            found.append(
                URL_CREDENTIALS.diagnostic(
                    file,
                    f"{where} a URL with credentials in it (user:password@ before the host; "
                    "they are not shown)",
                    span,
                )
            )
    return found


def _inside(spans: Iterable[tuple[int, int, int, int]], line: int, column: int) -> bool:
    return any((s[0], s[1]) <= (line, column) < (s[2], s[3]) for s in spans)


def _value_at(documents: list[Document], line: int, column: int) -> str | None:
    """The place (as messages name it) of the scalar value that covers the position;
    None in a comment."""
    for document in documents:
        for path, span in document.source.values.items():
            if (
                _inside((span,), line, column)
                and path
                and not isinstance(_at(document.data, path), dict | list)
            ):
                return _place(document.data, path)
    return None


def _at(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _place(root: Any, path: Path) -> str:
    """``charger "chg-01" labels.password``, ``envelope source "dnsp" oscp.base_url``, or
    the dotted path (``metadata.labels.token``)."""
    node = _node_of(root, path)
    if node is not None:
        return f"{_describe_node(node)} {dotted(path[3:])}".rstrip()
    source = _envelope_source_of(root, path)
    if source is not None:
        return f'envelope source "{source.get("id")}" {dotted(path[3:])}'.rstrip()
    return dotted(path) or "the document"


def _node_of(root: Any, path: Path) -> dict[str, Any] | None:
    return _item(root, path, "nodes")


def _envelope_source_of(root: Any, path: Path) -> dict[str, Any] | None:
    return _item(root, path, "envelope_sources")


def _item(root: Any, path: Path, listing: str) -> dict[str, Any] | None:
    """The mapping at ``spec.<listing>[i]`` that ``path`` goes through, if it has an id."""
    if len(path) < 3 or path[:2] != ("spec", listing) or not isinstance(path[2], int):
        return None
    spec = root.get("spec") if isinstance(root, dict) else None
    items = spec.get(listing) if isinstance(spec, dict) else None
    if not isinstance(items, list) or path[2] >= len(items):
        return None
    item = items[path[2]]
    return item if isinstance(item, dict) and isinstance(item.get("id"), str) else None


def _describe_node(node: dict[str, Any]) -> str:
    kind = str(node.get("type", "node")).replace("_", " ")
    return f'{kind} "{node["id"]}"'


def _shown_tag(tag: str | None) -> str:
    """``!!binary`` for a YAML tag; a custom tag's name only when it looks like one."""
    if tag is None:
        return ""
    if tag.startswith(_YAML_TAG):
        return "!!" + tag[len(_YAML_TAG) :]
    return tag if re.fullmatch(r"![A-Za-z0-9_.\-]{0,30}", tag) else "(a custom tag)"


def _env_name(identity: str, suffix: str) -> str:
    """An environment variable name for a secret of ``identity``: ``CP-01`` → ``CP_01_PASSWORD``."""
    stem = re.sub(r"[^A-Z0-9]+", "_", identity.upper()).strip("_") or "DEPOTCTL"
    if stem[0].isdigit():
        stem = f"_{stem}"
    return f"{stem}_{suffix}"
