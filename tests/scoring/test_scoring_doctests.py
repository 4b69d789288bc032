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


CITED = [("scoring.affine", "fit_affine"), ("scoring.models_additive", "fit_additive"),
         ("scoring.models_simple", "fit_raw"), ("scoring.ranking", "rank_within_category"),
         ("scoring.reliability", "icc"), ("scoring.reliability", "krippendorff_alpha"),
         ("scoring.graph", "rater_work_components"), ("scoring.simulate", "evaluate"),
         ("scoring.posterior", "posterior_work_scores")]


@pytest.mark.parametrize("module, name", CITED)
def test_methods_from_papers_have_a_numpydoc_references_section(module, name):
    doc = getattr(importlib.import_module(module), name).__doc__
    section = doc.split("    References\n    ----------\n", 1)
    assert len(section) == 2, f"{module}.{name} has no References section"
    entries = [line for line in section[1].split("\n\n", 1)[0].splitlines() if line.startswith("    .. [")]
    assert entries and entries[0].startswith("    .. [1] "), f"{module}.{name}: references are not numbered from [1]"
