"""``_fit_affine`` as small named functions (issue 20) gives the same estimates bit for bit.

``affine_frozen.py`` keeps the fit as it was before the split (one function of nested closures
sharing a mutable dict); both run here on the same panels with every option that changes the
fit's path, and every array of the result must be identical, not merely close.
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import affine_frozen
import numpy as np
import pytest
from scoring_panels import biased_panel, random_panel

from scoring import affine
from scoring.panel import build_panel
from scoring.simulate import SCENARIOS, simulate_panel


def _panels():
    out = {}
    w, r, y, conf, cat = random_panel(11, wild=0.04)
    out["random, wild taps, confidence"] = build_panel(w, r, y, confidence=conf, categories=cat)
    w, r, y, conf, cat = random_panel(12, split=True)
    out["two components"] = build_panel(w, r, y, confidence=conf, categories=cat)
    w, r, y, cat, _, _ = biased_panel(3)
    out["additive truth"] = build_panel(w, r, y, categories=cat)
    sim = simulate_panel(replace(SCENARIOS["sparse quarter, criteria"], n_works=90, n_raters=12),
                         rng=np.random.default_rng(5))
    out["criteria, whole points"] = build_panel(sim.work_id, sim.rater_id, sim.score, categories=sim.category)
    out["tiny"] = build_panel(["a", "b", "c", "a", "b", "c", "d", "d"], list("xxxyyyxy"),
                              [5.0, 6, 7, 3, 6, 9, 6, 6])
    return out


PANELS = _panels()
OPTIONS = {
    "default": {},
    "no robust loss": dict(robust=False),
    "biweight": dict(redescending="biweight"),
    "huber only": dict(redescending=None),
    "newton": dict(accelerator="newton"),
    "anderson": dict(accelerator="anderson"),
    "fixed priors": dict(ridge=1.0, scale_prior_sd=0.3),
    "fixed severity prior": dict(ridge=0.5),
    "no work shrinkage": dict(shrink_works=False),
    "vb posterior": dict(posterior_method="vb"),
    "scale ends": dict(wild_ends=(0.0, 10.0)),
    "uniform wild only": dict(wild_ends=False),
    "tight": dict(tol=1e-8, max_iter=400),
}


def _same(a, b, path="result"):
    if dataclasses.is_dataclass(a):
        assert type(a).__name__ == type(b).__name__, path
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, path
        if a.dtype.kind in "fc":
            assert np.array_equal(a, b, equal_nan=True), f"{path} differs: max {np.nanmax(np.abs(a - b))}"
        else:
            assert np.array_equal(a, b), path
    elif isinstance(a, float) and isinstance(b, float) and np.isnan(a):
        assert np.isnan(b), path
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}[{k!r}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


@pytest.mark.parametrize("panel_name", list(PANELS))
@pytest.mark.parametrize("option_name", list(OPTIONS))
def test_refactored_affine_fit_is_bit_for_bit_the_frozen_one(panel_name, option_name):
    panel, options = PANELS[panel_name], OPTIONS[option_name]
    new = affine._fit_affine(panel, **options)
    old = affine_frozen._fit_affine(panel, **options)
    _same(old, new)


def test_the_comparison_notices_a_difference():
    # the test above must be able to fail: a changed last bit in one array is caught
    panel = PANELS["tiny"]
    a = affine._fit_affine(panel)
    b = affine._fit_affine(panel)
    b.score = np.nextafter(b.score, np.inf)
    with pytest.raises(AssertionError, match="result.score differs"):
        _same(a, b)
