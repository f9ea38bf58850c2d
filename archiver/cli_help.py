"""How the command line's --help reads: metavars in capitals, no type noise beside options."""

from __future__ import annotations

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _Argument(TyperArgument):
    """An argument shown as well-kept CLIs show it: `FORMAT [URL]`, no type beside it."""

    def display_type_rich(self, ctx: typer.Context) -> str | None:
        return None

    def get_usage_pieces(self, ctx: typer.Context) -> list[str]:
        name = self.metavar or (self.name or "").upper()
        return [name if self.required else f"[{name}]"]


def _tidy_help(params: list) -> list:  # type: ignore[type-arg]
    """Metavars in capitals (PATH, URL), none for flags: no <bool>/<str> noise in --help."""
    for param in params:
        if isinstance(param, TyperArgument):
            param.__class__ = _Argument
            param.metavar = param.metavar or (param.name or "").upper()
        elif isinstance(param, TyperOption) and param.metavar is None:
            param.metavar = "" if param.is_flag else (param.name or "").upper()
    return params


class TidyCommand(TyperCommand):
    """A command whose --help reads tidily (see _tidy_help)."""

    def get_params(self, ctx: typer.Context) -> list:  # type: ignore[type-arg]
        return _tidy_help(super().get_params(ctx))


class TidyGroup(TyperGroup):
    """A command group whose --help reads tidily (see _tidy_help)."""

    def get_params(self, ctx: typer.Context) -> list:  # type: ignore[type-arg]
        return _tidy_help(super().get_params(ctx))
