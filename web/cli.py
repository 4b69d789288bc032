"""The ``tuiyou`` command line (also ``flask --app web …``): it only assembles the features'
commands, each imported when it runs.

Every command that touches the database reads ``DATABASE_URL`` (default: a SQLite file in
the instance folder). Errors are one clear line and a non-zero exit, never a traceback.
The numeric commands (``analyze``, ``reliability``) load neither Flask nor SQLAlchemy.
"""
from __future__ import annotations

import click

from scoring.rules.toml_reader import ConfigError

from .core.commands import COMMANDS
from .core.lazy_group import LazyGroup


class _Main(LazyGroup):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(f"configuration error: {exc}") from None


@click.group(cls=_Main, lazy_subcommands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tuiyou")
def main():
    """Tuiyou (推优): expert-panel scoring and ranking for 网络视听节目推优."""
