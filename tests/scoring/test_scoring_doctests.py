"""The Examples blocks in scoring/ docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import scoring

MODULES = sorted(m.name for m in pkgutil.iter_modules(scoring.__path__, "scoring.") if not m.ispkg)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_public_functions_have_examples():
    for name in ("scoring.normalize", "scoring.ranking", "scoring.reliability", "scoring.totals"):
        assert doctest.testmod(importlib.import_module(name)).attempted > 0
