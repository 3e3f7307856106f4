"""The CLI's configuration: named contexts (a controller's URL and a token file) and
the current one, in ``DEPOTCTL_CONFIG`` (default ``~/.config/depotctl/config.yaml``).

```yaml
current: depot-north
contexts:
  - name: depot-north
    server: http://127.0.0.1:8180
    token_file: /var/lib/depotctl/tokens/admin.token
```

Which controller a command talks to: ``--server URL --token-file FILE`` (no file
needed), else ``--context NAME``, else ``DEPOTCTL_CONTEXT``, else the current one.
The file holds token *paths*, never tokens; it is written with mode 0600 all the same.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from depotctl.credentials import TokenFileError, read_private_token
from depotctl.domain.refusal import Refusal

CONFIG_ENV = "DEPOTCTL_CONFIG"
CONTEXT_ENV = "DEPOTCTL_CONTEXT"


class ContextError(Refusal):
    """The configuration cannot say which controller to use; ``exit_code`` is 2 for a
    usage error (no such context, missing flag), 3 for a file that cannot be read."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message, exit_code)


@dataclass(frozen=True, slots=True)
class Context:
    """A controller by name: its API URL and the file holding the token to send."""

    name: str
    server: str
    token_file: str


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved controller: the URL, the token, and where they came from."""

    server: str
    token: str
    origin: str  # "context depot-north", or "--server"


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    configured = env.get(CONFIG_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".config" / "depotctl" / "config.yaml"


def check_server(url: str) -> str:
    """``url`` without a trailing slash, if it is an http(s) URL with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ContextError(f"{url!r} is not a controller URL (e.g. http://127.0.0.1:8180)")
    return url.rstrip("/")


class Contexts:
    """The configuration file's contexts and the current one."""

    def __init__(
        self, path: Path, contexts: list[Context] | None = None, current: str | None = None
    ) -> None:
        self.path = path
        self.contexts = contexts or []
        self.current = current

    @classmethod
    def load(cls, path: Path | None = None) -> Contexts:
        """The file at ``path`` (default: :func:`config_path`); none yet is empty."""
        path = path or config_path()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except OSError as error:
            raise ContextError(f"cannot read {path}: {error.strerror}", 3) from None
        try:
            data = YAML(typ="safe").load(text) or {}
        except YAMLError as error:
            raise ContextError(f"{path} is not YAML: {error}", 3) from None
        if not isinstance(data, dict) or not isinstance(data.get("contexts", []), list):
            raise ContextError(f"{path}: expected a mapping with a list of contexts", 3)
        contexts: list[Context] = []
        for index, item in enumerate(data.get("contexts") or []):
            fields = ("name", "server", "token_file")
            if not isinstance(item, dict) or not all(isinstance(item.get(f), str) for f in fields):
                raise ContextError(
                    f"{path}: contexts[{index}] needs name, server and token_file (strings)", 3
                )
            contexts.append(Context(item["name"], item["server"], item["token_file"]))
        current = data.get("current")
        return cls(path, contexts, current if isinstance(current, str) else None)

    def get(self, name: str) -> Context:
        for context in self.contexts:
            if context.name == name:
                return context
        known = ", ".join(c.name for c in self.contexts) or "none yet"
        raise ContextError(f'no context "{name}" in {self.path} (contexts: {known})')

    def add(self, context: Context) -> None:
        """Add ``context``, replacing one of the same name; the first becomes current."""
        self.contexts = [c for c in self.contexts if c.name != context.name] + [context]
        if self.current is None:
            self.current = context.name

    def use(self, name: str) -> Context:
        context = self.get(name)
        self.current = name
        return context

    def save(self) -> None:
        """Write the file (mode 0600, its directory 0700 when created), atomically."""
        data = {
            "current": self.current,
            "contexts": [
                {"name": c.name, "server": c.server, "token_file": c.token_file}
                for c in self.contexts
            ],
        }
        stream = io.StringIO()
        yaml = YAML()
        yaml.default_flow_style = False
        yaml.dump(data, stream)
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            temporary = self.path.with_name(self.path.name + ".tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(stream.getvalue())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except OSError as error:
            raise ContextError(f"cannot write {self.path}: {error.strerror}", 3) from None


def from_state_dir(state_dir: Path) -> tuple[str, Path]:
    """The API URL (``endpoints.json``) and admin token file of a local controller."""
    from depotctl.api.state_dir import EndpointsUnreadable, StateDir

    paths = StateDir(state_dir)
    try:
        api = paths.running_endpoints().get("api")
    except EndpointsUnreadable as error:
        raise ContextError(str(error), 3) from None
    if not isinstance(api, str):
        raise ContextError(f'{paths.endpoints} has no "api" URL', 3)
    token_file = paths.admin_token.resolve()
    if not token_file.exists():
        raise ContextError(f"{token_file} does not exist (the controller creates it)", 3)
    return check_server(api), token_file


def read_token(token_file: Path) -> str:
    """The token in ``token_file``; a file that cannot be read, is empty or is open to
    group or others (as ssh refuses such a key) is ``ContextError`` 3."""
    try:
        return read_private_token(
            token_file.expanduser(), when_empty="copy the controller's token into it"
        )
    except TokenFileError as error:
        raise ContextError(str(error), 3) from None


def resolve(
    *,
    context: str | None = None,
    server: str | None = None,
    token_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Target:
    """The controller to talk to: ``--server`` and ``--token-file`` override the
    context's URL and token file (both given: no configuration file is read)."""
    env = os.environ if environ is None else environ
    if server is not None and token_file is not None:
        return Target(check_server(server), read_token(token_file), "--server")
    contexts = Contexts.load(config_path(env))
    name = context or env.get(CONTEXT_ENV) or contexts.current
    if name is None:
        missing = "--token-file" if server is not None else "--server URL --token-file FILE"
        raise ContextError(
            f"no controller given: pass {missing}, --context NAME, or add one with "
            "`depotctl context add NAME --server URL --token-file FILE` "
            f"(configuration: {contexts.path})"
        )
    chosen = contexts.get(name)
    url = check_server(server or chosen.server)
    token = read_token(token_file or Path(chosen.token_file))
    return Target(url, token, f"context {name}")
