"""How every command's ``--help`` reads: docstrings and ``help=`` texts as Markdown, so
the terminal reflows each paragraph and fenced blocks (the examples) stay verbatim, and
values named the way a person reads them: a flag shows no type, a choice its choices
(``text|json``), any other value the metavar its option declares (TIME, DURATION, FILE…),
and an argument only its name (``depotctl diff OLD NEW``, ``[PLANFILE]`` when optional)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.models import CommandFunctionType


class _NamedArgument(TyperArgument):
    """An argument shown by its name alone: ``OLD``, not typer's ``{OLD}`` and ``<path>``
    (its name says what it is; its help, how to write it)."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return [name if self.nargs == 1 else f"{name}..."]


def _plainly_named(parameters: list[Any], ctx: Any) -> list[Any]:
    """``parameters`` with a metavar a person reads where typer would show its type:
    none for a flag (``--help`` too), the choices for a choice (``text|json``), and
    arguments by their names alone (:class:`_NamedArgument`)."""
    for parameter in parameters:
        if isinstance(parameter, TyperArgument) and type(parameter) is TyperArgument:
            parameter.__class__ = _NamedArgument
        if not isinstance(parameter, TyperOption) or parameter.metavar is not None:
            continue
        if parameter.is_flag:
            parameter.metavar = ""
        elif parameter.type_descriptor.is_choice and not parameter.multiple:
            parameter.metavar = parameter.display_type(ctx).strip("<>")
    return parameters


class ReadableCommand(TyperCommand):
    """A command whose help names its values plainly (:func:`_plainly_named`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plainly_named(super().get_params(ctx), ctx)


class ReadableGroup(TyperGroup):
    """A group whose help names its values plainly (:func:`_plainly_named`)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _plainly_named(super().get_params(ctx), ctx)


class ReadableTyper(typer.Typer):
    """A typer app (``depotctl`` or one of its groups) whose help reads well: Markdown
    help, only ``--help`` for help, and every command a :class:`ReadableCommand`."""

    def __init__(self, **settings: Any) -> None:
        settings.setdefault("cls", ReadableGroup)
        settings.setdefault("rich_markup_mode", "markdown")
        settings.setdefault("context_settings", {"help_option_names": ["--help"]})
        super().__init__(**settings)

    def command(  # typer.Typer.command, with another default class
        self,
        name: str | None = None,
        *,
        cls: type[TyperCommand] | None = None,
        **settings: Any,
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return super().command(name, cls=cls or ReadableCommand, **settings)
