"""Click groups whose subcommands are imported only when they run (click's documented pattern).

The help listing comes from short texts kept beside each import path, so ``tuiyou --help``
imports no feature at all. ``LazyAppGroup`` is the same for ``flask --app web`` (``app.cli``).
"""
from __future__ import annotations

import importlib

import click


class LazyGroup(click.Group):
    """A group whose subcommands are ``name: ("module:attribute", "short help")``, imported on use."""

    def __init__(self, *args, lazy_subcommands: dict[str, tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = dict(lazy_subcommands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands:
            return self.load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def load(self, cmd_name: str) -> click.Command:
        """Import and return the subcommand ``cmd_name``."""
        module_name, attribute = self.lazy_subcommands[cmd_name][0].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module_name}:{attribute} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the short texts, without importing any subcommand."""
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy_subcommands:
                rows.append((name, self.lazy_subcommands[name][1]))
            else:
                command = super().get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def lazy_app_group(name: str, commands: dict[str, tuple[str, str]]) -> click.Group:
    """An ``app.cli`` replacement (Flask's AppGroup) that loads ``commands`` lazily."""
    from flask.cli import AppGroup

    class LazyAppGroup(LazyGroup, AppGroup):
        pass

    return LazyAppGroup(name, lazy_subcommands=commands)
