"""Which keys of a site file name a secret, which text holds a URL with credentials,
and a source line with both masked, so that quoting it in a diagnostic leaks nothing.

A key names a secret when its last word is ``password``, ``passwd``, ``token``,
``secret``, ``credential`` or ``api_key`` (or a plural), whatever the case and
whether its words are joined by ``_``, ``-``, ``.``, spaces or camelCase:
``password``, ``db_password``, ``X-Api-Key``, ``authToken``. The references that
exist for secrets, ``password_env`` and ``token_file``, end in ``env`` or ``file``
and are not secrets themselves.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: The last word of a key that holds a secret.
SECRET_WORDS = frozenset(
    {"password", "passwd", "token", "secret", "credential", "apikey"}
    | {"passwords", "passwds", "tokens", "secrets", "credentials", "apikeys"}
)
#: The last word of a key that names where a secret is kept.
REFERENCE_WORDS = frozenset({"env", "file"})
#: What every masked value is shown as (the same length whatever the secret's).
MASK = "********"

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\s_.\-]+")


@lru_cache(maxsize=4096)
def key_words(key: str) -> tuple[str, ...]:
    """A key's words, lower case: ``X-Api-Key`` → ``("x", "api", "key")``."""
    return tuple(w for w in _SEPARATORS.split(_CAMEL.sub("_", key).lower()) if w)


def _names_secret(words: tuple[str, ...]) -> bool:
    if not words:
        return False
    if words[-1] in SECRET_WORDS:
        return True
    return len(words) >= 2 and words[-2] == "api" and words[-1] in ("key", "keys")


def is_secret_key(key: object) -> bool:
    """``key`` names a value that is a secret (``password``, ``labels.api-key``)."""
    return isinstance(key, str) and _names_secret(key_words(key))


def is_reference_key(key: object) -> bool:
    """``key`` names where a secret is kept (``password_env``, ``token_file``)."""
    if not isinstance(key, str):
        return False
    words = key_words(key)
    return len(words) >= 2 and words[-1] in REFERENCE_WORDS and _names_secret(words[:-1])


#: A URL whose authority holds user information: ``scheme://USERINFO@host``.
URL_CREDENTIALS = re.compile(r"(?i)\b(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<userinfo>[^\s/?#@]+)@")


def url_credentials(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` offsets of each URL with credentials in ``text``: from
    the URL's start to the end of its user information."""
    if "@" not in text:
        return []
    return [(m.start(), m.end("userinfo")) for m in URL_CREDENTIALS.finditer(text)]


# A key in a line of YAML: after the line's start, a space, "{", "," or "- ".
_KEY = re.compile(
    r"""(?:^|(?<=[\s{,\[]))(?P<quote>["']?)(?P<key>[^\s:{}\[\],"'#][^:{}\[\],"'#]*?)(?P=quote)[ \t]*:(?=[ \t]|$)"""
)
_PROPERTIES = re.compile(r"(?:[!&][^\s,{}\[\]]*[ \t]+)*")


def mask_line(line: str) -> str:
    """``line`` with the value of every secret key and the credentials of every URL
    replaced by ``********``.

    A line-by-line guess, for a file that may not even parse; a parsed file's
    values are also masked by their exact spans (:class:`~depotctl.config.diagnostics.FileReport`).
    A value whose key names a secret is masked whole: its tags and anchors, a
    quoted string, or a plain one up to the end of the line (in a flow mapping, up
    to the next ``,``, ``}`` or ``]``); a comment after it stays.
    """
    for start, end in reversed(url_credentials(line)):
        scheme = URL_CREDENTIALS.match(line, start)
        assert scheme is not None
        line = f"{line[: scheme.end('scheme')]}{MASK}{line[end:]}"
    if ":" not in line:
        return line
    spans: list[tuple[int, int]] = []
    for match in _KEY.finditer(line):
        if not is_secret_key(match["key"].strip()):
            continue
        value = _skip_blanks(line, match.end())
        properties = _PROPERTIES.match(line, value)
        spans.append((value, _value_end(line, properties.end() if properties else value)))
    for start, end in reversed(spans):
        if end > start:
            line = f"{line[:start]}{MASK}{line[end:]}"
    return line


def _skip_blanks(line: str, at: int) -> int:
    while at < len(line) and line[at] in " \t":
        at += 1
    return at


def _value_end(line: str, start: int) -> int:
    """Where the scalar that starts at ``start`` ends (exclusive)."""
    if start >= len(line):
        return start
    first = line[start]
    if first in "\"'":
        at = start + 1
        while at < len(line):
            if first == '"' and line[at] == "\\":
                at += 2
                continue
            if line[at] == first:
                if first == "'" and line[at + 1 : at + 2] == "'":
                    at += 2
                    continue
                return at + 1
            at += 1
        return len(line)
    if first in "|>#":
        return start  # a block scalar's text is on the next lines; a comment is not a value
    in_flow = line.count("{", 0, start) + line.count("[", 0, start) > line.count(
        "}", 0, start
    ) + line.count("]", 0, start)
    end = len(line)
    comment = re.search(r"[ \t]#", line[start:])
    if comment is not None:
        end = start + comment.start()
    if in_flow:
        stop = re.search(r"[,}\]]", line[start:end])
        if stop is not None:
            end = start + stop.start()
    return start + len(line[start:end].rstrip())
