"""Typed, validated reading of TOML tables: every error names the file and the dotted key."""
from __future__ import annotations

import datetime as dt
import functools
import math
import os
import tomllib
from pathlib import Path
from typing import Any


def config_directory(config_dir: str | os.PathLike | None, default: Path) -> Path:
    """The configuration directory, resolved: ``config_dir``, else ``$TUIYOU_CONFIG``, else ``default``.

    Resolved once per (name, working directory) rather than once per call: the rules are read
    for every time a page shows (a live board shows hundreds), and each ``Path.resolve()`` is a
    system call per part of the path."""
    return _resolved(os.fspath(config_dir or os.environ.get("TUIYOU_CONFIG") or default), os.getcwd())


@functools.lru_cache(maxsize=32)
def _resolved(name: str, cwd: str) -> Path:
    return Path(cwd, name).resolve()


class ConfigError(ValueError):
    """A configuration value is missing or wrong; the message names file and key."""

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key, self.problem = file, key, problem
        super().__init__(f"{file}: {key}: {problem}")


class TableReader:
    """Typed access to one TOML table, raising ConfigError with the dotted key."""

    def __init__(self, file: str, table: dict[str, Any], prefix: str = ""):
        self.file, self.table, self.prefix = file, table, prefix

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.file, self._key(key), problem)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "is missing")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and kind is not bool:
            raise self.fail(key, f"expected {kind_name(kind)}, got {value!r}")
        if not isinstance(value, kind):
            raise self.fail(key, f"expected {kind_name(kind)}, got {value!r}")
        if isinstance(value, str) and not value.strip():
            raise self.fail(key, "must not be empty")
        return value

    def only(self, *keys: str) -> None:
        """Reject keys this table does not know (a typo must not pass silently)."""
        for key in self.table:
            if key not in keys:
                raise self.fail(key, f"unknown setting (known: {', '.join(keys)})")

    def number(self, key: str, default: Any = ...) -> float:
        value = self.get(key, float, default)
        if value is not None and value is not default and not math.isfinite(value):
            raise self.fail(key, f"must be a finite number, got {value!r}")
        return value

    def child(self, key: str, table: dict[str, Any]) -> "TableReader":
        return TableReader(self.file, table, f"{self._key(key)}.")

    def tables(self, key: str) -> list["TableReader"]:
        items = self.get(key, list)
        readers = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{index}]", "expected a table")
            readers.append(TableReader(self.file, item, f"{self._key(key)}[{index}]."))
        return readers


def kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "text", float: "a number", int: "an integer", bool: "true or false",
             list: "a list", dict: "a table", dt.date: "a date (YYYY-MM-DD)"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(path.name, "-", f"file not found in {path.parent}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path.name, "-", f"not valid TOML: {exc}") from None
