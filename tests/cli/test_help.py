"""Every command's ``--help`` reads well at 80 columns, shows its examples (each one a
command line depotctl accepts), reflows its paragraphs; ``depotctl --version``."""

from __future__ import annotations

import inspect
import json
import re
import shlex
from collections.abc import Iterator
from enum import StrEnum
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from depotctl.cli import app
from depotctl.cli.help import ReadableTyper

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

#: how typer names a value's type when no metavar says it better
TYPER_TYPE = re.compile(r"<(bool|str|int|float|path|file|directory|datetime|list\[[^>]*\])>|range>")


def _tree(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _tree(sub, (*path, name))


COMMANDS = dict(_tree(typer.main.get_command(app)))
LEAVES = [path for path, command in COMMANDS.items() if not getattr(command, "commands", None)]


def _help(path: tuple[str, ...], columns: int) -> str:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": str(columns), "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.output


def _name(path: tuple[str, ...]) -> str:
    return " ".join(("depotctl", *path))


@pytest.mark.parametrize("path", list(COMMANDS), ids=_name)
def test_help_fits_80_columns_and_names_values_plainly(path: tuple[str, ...]) -> None:
    shown = _help(path, 80)
    wide = [line for line in shown.splitlines() if len(line.rstrip()) > 80]
    assert not wide, "\n".join(wide)
    assert not TYPER_TYPE.search(shown), shown
    usage = next(line for line in shown.splitlines() if "Usage:" in line)
    assert "{" not in usage and "[[" not in usage, usage


def _examples(shown: str) -> list[list[str]]:
    """The command lines under Examples, as the shell would split them (a trailing
    backslash continues a line; ``NAME=value`` before ``depotctl`` sets the environment;
    a redirection ends the command); none without an Examples section."""
    lines = [line.strip() for line in shown.splitlines()]
    if "Examples" not in lines:
        return []
    section = lines[lines.index("Examples") + 1 :]
    section = section[: next((i for i, s in enumerate(section) if s.startswith("╭")), None)]
    examples = []
    for line in "\n".join(section).replace("\\\n", " ").splitlines():
        if not line:
            continue
        assert re.match(r"([A-Z_]+=\S*\s+)*depotctl\s", line), f"not a command line: {line}"
        words = shlex.split(line)
        words = words[words.index("depotctl") + 1 :]
        ends = [i for i, word in enumerate(words) if word in {">", ">>", "|"}]
        examples.append(words[: ends[0] if ends else None])
    return examples


def _parses(example: list[str]) -> tuple[str, ...]:
    """The command an example runs, after click has parsed its arguments as it would
    (unknown options, bad choices, missing values and required options all raise)."""
    words = list(example)
    command: Any = COMMANDS[()]
    context = command.make_context("depotctl", [], resilient_parsing=True)
    path: tuple[str, ...] = ()
    while words and words[0] in getattr(command, "commands", {}):
        path = (*path, words.pop(0))
        command = COMMANDS[path]
        if getattr(command, "commands", None) and words and words[0] in command.commands:
            context = command.make_context(path[-1], [], parent=context, resilient_parsing=True)
    command.make_context(path[-1], words, parent=context)
    return path


@pytest.mark.parametrize("path", list(COMMANDS), ids=_name)
def test_every_command_shows_examples_depotctl_accepts(path: tuple[str, ...]) -> None:
    """A command's examples run it (``envelopes`` runs ``envelopes list``); a group's
    (the top's) may run any command."""
    shown = _help(path, 80)
    examples = _examples(shown)
    ran = {_parses(example) for example in examples}
    if path in LEAVES:
        assert examples, f"no Examples section with a command in it:\n{shown}"
        assert path in ran or (path[-1] == "list" and path[:-1] in ran), (path, examples)


def _sentences(paragraph: str) -> list[str]:
    plain = " ".join(paragraph.replace("`", "").replace("**", "").split())
    return [sentence for sentence in re.split(r"(?<=[.;])\s+", plain) if sentence]


@pytest.mark.parametrize("path", list(COMMANDS), ids=_name)
def test_help_is_reflowed_not_hard_wrapped(path: tuple[str, ...]) -> None:
    source = inspect.cleandoc(COMMANDS[path].help or "").split("\n\n")[0]
    shown = [" ".join(line.split()) for line in _help(path, 200).splitlines()]
    for sentence in _sentences(source):
        assert any(sentence in line for line in shown), (sentence, shown)


def test_version_names_the_package_and_the_site_schema() -> None:
    schema = json.loads((ROOT / "schema" / "site.schema.json").read_text(encoding="utf-8"))
    api_version = schema["properties"]["apiVersion"]["const"]
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"depotctl {version('depotctl')} (site schema {api_version})\n"


class Kind(StrEnum):
    A = "a"
    B = "b"


def test_a_readable_app_shows_flags_bare_choices_as_choices_and_arguments_by_name() -> None:
    toy = ReadableTyper(name="toy")

    @toy.command()
    def run(
        target: Annotated[str, typer.Argument(metavar="TARGET", help="Where.")],
        extra: Annotated[list[str] | None, typer.Argument(metavar="EXTRA", help="More.")] = None,
        loud: Annotated[bool, typer.Option("--loud", help="Shout.")] = False,
        kind: Annotated[Kind, typer.Option("--kind", help="Which.")] = Kind.A,
    ) -> None:
        """Run it.

        A second paragraph
        over two lines.
        """

    shown = runner.invoke(toy, ["--help"], env={"COLUMNS": "80", "NO_COLOR": "1"}).output
    usage = [line.strip() for line in shown.splitlines() if "Usage:" in line]
    assert usage == ["Usage: run [OPTIONS] TARGET [EXTRA]..."], shown
    assert "A second paragraph over two lines." in shown
    assert re.search(r"--loud +Shout\.", shown) and re.search(r"--kind +a\|b +Which\.", shown)
    assert not TYPER_TYPE.search(shown), shown
