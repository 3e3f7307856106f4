"""Every README block marked runnable runs as printed and prints what the README shows.

A block is marked by an HTML comment on the line before its opening fence:
``<!-- runnable -->`` runs it alone; ``<!-- runnable session=NAME -->`` runs it with the
other blocks of that session, in README order, in one working copy (so a controller
started in one block serves the next); ``slow`` keeps it out of the default run;
``shape`` compares its output's shape only (every number may differ); ``site`` marks a
YAML block that is a whole site file, which must pass ``depotctl validate``. In a block,
``$ `` starts a command (a line ending in a backslash goes on to the next); the lines up
to the next command are what it prints, stdout and stderr together. ``export
NAME=VALUE`` holds for the rest of the session, as in a shell.

Each session runs in a fresh copy of the repository, from its root, with ``depotctl``
and ``python3`` from this environment first on the PATH, a home of its own, ``NO_COLOR``
and the user ``alice`` (signing as ``alice@depot-ops`` whatever the host's name).
``/tmp/`` in a command is a directory of the test's own, printed back as ``/tmp/``.
What legitimately varies is normalised: a line ``…`` matches any lines (none included),
``…`` in a line any text, clock times and dates any of the same form, durations
(``0.2 s``) any, a loopback port any, and a gap of two or more spaces inside a line (a
table's columns, as wide as what they hold) any gap. ``serve``, ``console`` and ``sim
chargers`` run on in the background: the test waits for the lines the README shows
them printing first, runs the rest of the session, then stops them with Ctrl-C (SIGINT)
and expects a clean exit and, where the README shows a line ``^C``, the lines after it
at the end of what they printed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
MARKER = re.compile(r"<!-- runnable(?P<options>(?: [\w=.-]+)*) -->")
#: Where a ``site`` block (a site file) is written, and what validate says of it.
SITE_FILE, VALID_SITE = "examples/readme-site.yaml", "✓ 1 file valid, no problems"
#: Who runs the README's commands (changes are signed user@host): the same on every machine.
AUTHOR, HOST = "alice", "depot-ops"
#: Tools beside depotctl that README examples use; a machine without one skips them.
TOOLS = ("curl", "jq")
CTRL_C = "^C"
LONG_RUNNING = ("depotctl serve", "depotctl console", "depotctl sim chargers")
#: Bounds that only tell a hang from a busy machine; nothing waits for them to pass: a
#: command's end, and a long-running command's first lines (the wait a README that no
#: longer shows them costs).
HANG_S, FIRST_LINES_S = 300.0, 120.0
#: What legitimately varies between runs, and the pattern that stands for any of it.
_VARYING = re.compile(
    r"(?P<datetime>\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?)"
    r"|(?P<clock>(?<![\d.:])\d{1,2}:\d\d(?::\d\d)?(?!\d))"
    r"|(?P<duration>(?<![\w.])\d[\d,]*(?:\.\d+)? (?:ms|s)\b)"
    r"|(?P<port>(?<=127\.0\.0\.1:)\d+)"
    r"|(?P<elision>…)"
    r"|(?P<gap>(?<=\S) {2,})"
)
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
_ANY_NUMBER = r"\d[\d,]*(?:\.\d+)?"


@dataclass(frozen=True)
class Command:
    """One ``$`` line of a README block and the lines the README shows it printing."""

    line: int
    text: str
    expected: tuple[str, ...]

    @property
    def is_long_running(self) -> bool:
        return self.text.startswith(LONG_RUNNING)

    @property
    def first_lines(self) -> tuple[str, ...]:
        """What a long-running command prints first (before a line ``^C``)."""
        return self.expected[: self.expected.index(CTRL_C)] if self.stopped else self.expected

    @property
    def stopped(self) -> bool:
        """Whether the README shows what it prints once stopped, after a line ``^C``."""
        return CTRL_C in self.expected


@dataclass(frozen=True)
class Block:
    """A README code block marked runnable."""

    line: int
    session: str
    options: frozenset[str]
    commands: tuple[Command, ...]
    #: A ``site`` block's text, written to SITE_FILE before its command runs.
    site_text: str | None = None


def readme_blocks(text: str) -> list[Block]:
    """Every block of the README marked runnable, in order."""
    lines = text.splitlines()
    blocks = []
    for number, line in enumerate(lines[:-1], start=1):
        marker = MARKER.fullmatch(line.strip())
        if marker is None:
            continue
        if not lines[number].startswith("```"):
            raise AssertionError(f"README.md:{number}: a runnable marker must precede a fence")
        body = []
        for inner in lines[number + 1 :]:
            if inner.startswith("```"):
                break
            body.append(inner)
        settings = marker["options"].split()
        session = next(
            (s.removeprefix("session=") for s in settings if s.startswith("session=")),
            f"line-{number}",
        )
        if "site" in settings:
            check = Command(number + 2, f"depotctl validate {SITE_FILE}", (VALID_SITE,))
            blocks.append(
                Block(number, session, frozenset(settings), (check,), "\n".join(body) + "\n")
            )
        else:
            commands = tuple(_commands(body, number + 2))
            blocks.append(Block(number, session, frozenset(settings), commands))
    return blocks


def _commands(body: Sequence[str], first_line: int) -> Iterator[Command]:
    index = 0
    while index < len(body):
        if not body[index].startswith("$ "):
            raise AssertionError(
                f"README.md:{first_line + index}: a runnable block starts with a `$ ` command"
            )
        start = index
        text = body[index].removeprefix("$ ")
        while text.endswith("\\") and index + 1 < len(body):
            index += 1
            text += "\n" + body[index]
        index += 1
        output_start = index
        while index < len(body) and not body[index].startswith("$ "):
            index += 1
        yield Command(first_line + start, text, tuple(body[output_start:index]))


def line_pattern(expected: str, *, numbers_vary: bool = False) -> re.Pattern[str] | None:
    """The pattern of one expected line; None for a line that elides any lines."""
    expected = expected.rstrip()
    if expected.strip() == "…":
        return None
    parts, end = [], 0
    for found in _VARYING.finditer(expected):
        parts.append(_literal(expected[end : found.start()], numbers_vary))
        kind = found.lastgroup
        if kind == "elision":
            parts.append(".*")
        elif kind == "duration":
            parts.append(_ANY_NUMBER + r" (?:ms|s)")
        elif kind == "port":
            parts.append(r"\d+")
        elif kind == "gap":
            parts.append(" +")
        else:
            parts.append(_shape(found.group()))
        end = found.end()
    parts.append(_literal(expected[end:], numbers_vary))
    return re.compile("".join(parts))


def _literal(text: str, numbers_vary: bool) -> str:
    if not numbers_vary:
        return re.escape(text)
    pieces = _NUMBER.split(text)
    return _ANY_NUMBER.join(re.escape(piece) for piece in pieces)


def _shape(text: str) -> str:
    """A time's form, any value: each digit any digit, a fraction of a second any length,
    an offset either sign."""
    pattern = []
    for piece in re.finditer(
        r"(?P<fraction>\.\d+)|(?P<digit>\d)|(?P<sign>[+-](?=\d\d:\d\d$))|.", text
    ):
        if piece.lastgroup == "fraction":
            pattern.append(r"\.\d+")
        elif piece.lastgroup == "digit":
            pattern.append(r"\d")
        elif piece.lastgroup == "sign":
            pattern.append("[+-]")
        else:
            pattern.append(re.escape(piece.group()))
    return "".join(pattern)


def output_matches(
    expected: Sequence[str],
    actual: Sequence[str],
    *,
    prefix: bool = False,
    numbers_vary: bool = False,
) -> bool:
    """Whether the actual lines are the expected ones (only their first lines, with prefix)."""
    patterns = [line_pattern(line, numbers_vary=numbers_vary) for line in expected]
    if prefix:
        patterns.append(None)
    lines = [line.rstrip() for line in actual]

    @cache
    def at(i: int, j: int) -> bool:
        if i == len(patterns):
            return j == len(lines)
        pattern = patterns[i]
        if pattern is None:
            return any(at(i + 1, k) for k in range(j, len(lines) + 1))
        return j < len(lines) and pattern.fullmatch(lines[j]) is not None and at(i + 1, j + 1)

    return at(0, 0)


@dataclass
class Background:
    """A long-running command, its output read as it comes."""

    command: Command
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))


@dataclass
class Workspace:
    """A session's copy of the repository, its /tmp and its environment."""

    root: Path
    tmp: Path
    env: dict[str, str]
    #: The long-running commands started, each with whether its numbers may vary.
    background: list[tuple[Background, bool]] = field(default_factory=list)

    def shell(self, command: Command) -> str:
        return command.text.replace("/tmp/", f"{self.tmp}/")

    def printed(self, output: str) -> list[str]:
        output = output.replace(f"{self.tmp}/", "/tmp/").replace(self.env["HOME"], "~")
        return output.replace(f"{AUTHOR}@{socket.gethostname()}", f"{AUTHOR}@{HOST}").splitlines()


def _workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "depotctl"
    shutil.copytree(
        ROOT,
        root,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "*cache*", ".hypothesis", "__pycache__", "*.egg-info", "*.html"
        ),
    )
    tmp, home = tmp_path / "tmp", tmp_path / "home"
    tmp.mkdir()
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DEPOTCTL_", "PYTEST_", "GITHUB_", "CI"))
        and key not in ("COLUMNS", "LINES", "XDG_CONFIG_HOME", "XDG_STATE_HOME")
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(home),
        NO_COLOR="1",
        PYTHONUNBUFFERED="1",
        LOGNAME=AUTHOR,
        USER=AUTHOR,
    )
    return Workspace(root, tmp, env)


def _start(workspace: Workspace, command: Command) -> subprocess.Popen[str]:
    return subprocess.Popen(
        # a long-running command replaces its shell, so that Ctrl-C reaches it
        ["bash", "-c", ("exec " if command.is_long_running else "") + workspace.shell(command)],
        cwd=workspace.root,
        env=workspace.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def _run(workspace: Workspace, block: Block, command: Command) -> None:
    where = f"README.md:{command.line}: $ {command.text}"
    for tool in TOOLS:
        if re.search(rf"(?:^|[|(&;]\s*){tool}\b", command.text) and not shutil.which(tool):
            pytest.skip(f"{where}: needs {tool}, which this machine does not have")
    numbers_vary = "shape" in block.options
    if command.text.startswith("export "):
        # the session's shell keeps what it exports
        for assignment in shlex.split(command.text)[1:]:
            name, _, value = assignment.partition("=")
            workspace.env[name] = value
        assert not command.expected, f"{where}: export prints nothing"
        return
    process = _start(workspace, command)
    if not command.is_long_running:
        try:
            output, _ = process.communicate(timeout=HANG_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
        printed = workspace.printed(output)
        assert output_matches(command.expected, printed, numbers_vary=numbers_vary), (
            f"{where}\nREADME shows:\n"
            + "\n".join(command.expected)
            + "\nit printed:\n"
            + "\n".join(printed)
        )
        return
    running = Background(command, process)
    workspace.background.append((running, numbers_vary))
    threading.Thread(target=running.read, daemon=True).start()
    bound = time.monotonic() + FIRST_LINES_S
    while not output_matches(
        command.first_lines,
        workspace.printed("\n".join(running.lines)),
        prefix=True,
        numbers_vary=numbers_vary,
    ):
        if process.poll() is not None or time.monotonic() > bound:
            so_far = "\n".join(running.lines)
            raise AssertionError(f"{where}\nfirst printed (exit {process.poll()}):\n{so_far}")
        time.sleep(0.05)


def _stop(workspace: Workspace) -> list[str]:
    """Ctrl-C to every long-running command, latest first; what did not stop cleanly, or
    printed other than the README shows after ``^C``."""
    problems = []
    for running, numbers_vary in reversed(workspace.background):
        process = running.process
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        try:
            code = process.wait(timeout=HANG_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            code = process.wait()
        if code != 0:
            problems.append(
                f"README.md:{running.command.line}: exit {code} after Ctrl-C:\n"
                + "\n".join(running.lines[-20:])
            )
        command = running.command
        if command.stopped:
            before, after = command.first_lines, command.expected[len(command.first_lines) + 1 :]
            printed = workspace.printed("\n".join(running.lines))
            if not output_matches([*before, "…", *after], printed, numbers_vary=numbers_vary):
                problems.append(
                    f"README.md:{command.line}: after Ctrl-C, README shows:\n"
                    + "\n".join(after)
                    + "\nit printed:\n"
                    + "\n".join(printed)
                )
    return problems


def _sessions() -> list[object]:
    sessions: dict[str, list[Block]] = {}
    for block in readme_blocks(README.read_text()):
        sessions.setdefault(block.session, []).append(block)
    return [
        pytest.param(
            blocks,
            id=name,
            marks=[pytest.mark.slow] if any("slow" in b.options for b in blocks) else [],
        )
        for name, blocks in sessions.items()
    ]


@pytest.mark.parametrize("blocks", _sessions())
def test_readme_session_runs_as_printed(blocks: list[Block], tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    try:
        for block in blocks:
            if block.site_text is not None:
                (workspace.root / SITE_FILE).write_text(block.site_text)
            for command in block.commands:
                _run(workspace, block, command)
    finally:
        problems = _stop(workspace)
    assert not problems, "\n".join(problems)


# --- the matcher itself: each rule can fail --------------------------------------------


def test_the_readme_marks_runnable_blocks() -> None:
    blocks = readme_blocks(README.read_text())
    assert len(blocks) >= 5
    assert all(block.commands for block in blocks)


def test_a_marker_without_a_fence_is_refused() -> None:
    with pytest.raises(AssertionError, match=r"README.md:1: a runnable marker"):
        readme_blocks("<!-- runnable -->\ntext\n")


def test_commands_their_output_and_continuation_lines_are_read() -> None:
    text = "<!-- runnable session=s slow -->\n```text\n$ a \\\n    b\none\n$ c\n```\n"
    (block,) = readme_blocks(text)
    assert block.session == "s" and "slow" in block.options
    assert block.commands == (Command(3, "a \\\n    b", ("one",)), Command(6, "c", ()))


def test_an_elided_line_matches_any_lines_and_nothing_else_is_skipped() -> None:
    assert output_matches(["a", "…", "z"], ["a", "b", "c", "z"])
    assert output_matches(["a", "…", "z"], ["a", "z"])
    assert not output_matches(["a", "z"], ["a", "b", "z"])
    assert not output_matches(["a", "…"], ["b"])
    assert output_matches(["a"], ["a", "more"], prefix=True)
    assert not output_matches(["a"], ["a", "more"])


def test_times_durations_and_ports_vary_in_value_not_in_form() -> None:
    assert output_matches(["at 17:21:03 UTC"], ["at 09:05:59 UTC"])
    assert not output_matches(["at 17:21:03 UTC"], ["at 17:21 UTC"])
    assert output_matches(['(alice, 01:47: "cable")'], ['(alice, 14:02: "cable")'])
    assert output_matches(
        ["now (2026-11-26T15:34:53.706895+00:00)"], ["now (2027-01-02T03:04:05.1+11:00)"]
    )
    assert not output_matches(["now (2026-11-26T15:34:53+00:00)"], ["now (2026-11-26 15:34:53)"])
    assert output_matches(["took 0.17 s"], ["took 12.5 s"])
    assert output_matches(["http://127.0.0.1:42163/x"], ["http://127.0.0.1:8180/x"])
    assert not output_matches(["85.3 % delivered"], ["83.0 % delivered"])
    assert output_matches(["85.3 % of 1,200 kW"], ["83.0 % of 900 kW"], numbers_vary=True)
    assert output_matches(["id … end"], ["id anything at all end"])
    assert output_matches(["  by        since"], ["  by              since"])
    assert not output_matches(["  by  since"], ["    by  since"])
    assert not output_matches(["by  since"], ["bysince"])


def test_a_site_block_is_validated_as_a_file() -> None:
    text = "<!-- runnable site -->\n```yaml\nkind: Site\n```\n"
    (block,) = readme_blocks(text)
    assert block.site_text == "kind: Site\n"
    assert block.commands == (Command(3, f"depotctl validate {SITE_FILE}", (VALID_SITE,)),)


def test_what_a_long_running_command_prints_first_and_once_stopped() -> None:
    command = Command(1, "depotctl sim chargers -f site.yaml", ("live", "^C", "summary"))
    assert command.is_long_running and command.stopped
    assert command.first_lines == ("live",)
    plain = Command(1, "depotctl serve", ("serving",))
    assert plain.is_long_running and not plain.stopped and plain.first_lines == ("serving",)
    assert not Command(1, "depotctl validate sites/", ()).is_long_running


def _quick_start() -> list[str]:
    """The Quick start block's command lines."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Quick start") :]
    block = section[section.index("```sh\n") + len("```sh\n") :]
    block = block[: block.index("```")]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_the_quick_start_is_setup_then_one_depotctl_command_each() -> None:
    """Each quick-start line sets up the venv the same way, then runs one command: the
    demo (its console needs a terminal: the demo's own tests run it headless), validate
    (run here as printed after its setup) and the suite (what .ci/run runs)."""
    setup = "python3 -m venv .venv && .venv/bin/pip install -e "
    lines = _quick_start()
    assert [line.startswith(setup) for line in lines] == [True, True, True]
    demo, validate, suite = (line.rsplit(" && ", 1)[1] for line in lines)
    assert demo == ".venv/bin/depotctl demo"
    assert validate == ".venv/bin/depotctl validate sites/"
    assert suite == ".venv/bin/pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert lines[2].replace("pip install -e", "pip install --quiet -e") in ci
    ran = subprocess.run(
        [sys.executable, "-m", "depotctl", "validate", "sites/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
