"""ICC and Krippendorff's alpha against published values and independent libraries."""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pandas as pd
import pingouin
import pytest

from scoring.reliability import icc, krippendorff_alpha

FORMS = ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]

# Shrout & Fleiss (1979), Psychol. Bull. 86:420-428, Table 2: 6 targets x 4 judges,
# with the ICCs reported in their Table 4.
SF_TABLE2 = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)
SF_PUBLISHED = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62, "ICC3k": 0.91}

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x
# 12 units with missing values (here transposed to units x raters); published alphas below.
nan = np.nan
K2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]).T
K2011_PUBLISHED = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}


@pytest.fixture(autouse=True)
def _pingouin_unrounded():
    old = pingouin.options.get("round.column.CI95")
    pingouin.options["round.column.CI95"] = None
    yield
    pingouin.options["round.column.CI95"] = old


def _pingouin_icc(m: np.ndarray) -> pd.DataFrame:
    n, k = m.shape
    df = pd.DataFrame({"t": np.repeat(np.arange(n), k), "r": np.tile(np.arange(k), n), "y": m.ravel()})
    with warnings.catch_warnings():
        # pingouin itself triggers a pandas deprecation warning; it is not ours to fix
        warnings.simplefilter("ignore", DeprecationWarning)
        return pingouin.intraclass_corr(df, targets="t", raters="r", ratings="y").set_index("Type")


def test_icc_shrout_fleiss_published_values():
    r = icc(SF_TABLE2)
    for form, value in SF_PUBLISHED.items():
        assert round(r[form], 2) == value
        assert getattr(r, form) == r[form]


@pytest.mark.parametrize("seed, shape, integer", [(0, (6, 4), True), (1, (50, 5), False), (2, (200, 8), True)])
def test_icc_matches_pingouin(seed, shape, integer):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(shape[0], 1)) + rng.normal(size=shape) + rng.normal(size=(1, shape[1]))
    if integer:
        m = np.round(2 * m + 5)
    ours = icc(m)
    ref = _pingouin_icc(m)
    types = ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
    pg_types = ["ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)"]
    for form, pg in zip(types, pg_types):
        assert ours[form] == pytest.approx(ref.loc[pg, "ICC"], abs=1e-9)
        np.testing.assert_allclose(ours.ci95[form], ref.loc[pg, "CI95"], atol=1e-9)
        assert ours.F[form] == pytest.approx(ref.loc[pg, "F"], rel=1e-9)
        assert ours.pval[form] == pytest.approx(ref.loc[pg, "pval"], rel=1e-9, abs=1e-300)


def test_icc_missing_rows():
    m = SF_TABLE2.copy()
    m[0, 1] = np.nan
    r = icc(m)
    assert r.n_dropped == 1 and r.n_units == 5 and "dropped 1" in r.notes[0]
    assert r.ICC3 == pytest.approx(icc(SF_TABLE2[1:]).ICC3)
    with pytest.raises(ValueError, match="unit 1"):
        icc(m, nan_policy="raise")


@pytest.mark.parametrize("bad, message", [
    (np.ones((5, 1)), "two raters"),
    (np.ones((1, 3)), "two units"),
    (np.ones(4), "two-dimensional"),
    (np.ones((3, 3)), "same mean"),
    ([["a", "b"], ["c", "d"]], "numbers"),
])
def test_icc_bad_input(bad, message):
    with pytest.raises(ValueError, match=message):
        icc(bad)


def test_icc_as_dict_has_contract_keys():
    d = icc(SF_TABLE2).as_dict()
    assert set(FORMS) <= set(d) and len(d["ICC2_ci95"]) == 2


@pytest.mark.parametrize("level", list(K2011_PUBLISHED))
def test_alpha_krippendorff_2011_published(level):
    assert round(krippendorff_alpha(K2011, level=level), 3) == K2011_PUBLISHED[level]


@pytest.mark.parametrize("level", list(K2011_PUBLISHED))
@pytest.mark.parametrize("seed, continuous", [(0, False), (1, True), (2, True)])
def test_alpha_matches_krippendorff_package(level, seed, continuous):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(300, 1)) * 1.5 + rng.integers(1, 6, (300, 7))
    m = np.round(m, 1) if continuous else np.round(m)
    m[rng.random(m.shape) < 0.6] = np.nan
    ours = krippendorff_alpha(m, level=level)
    ref = krippendorff.alpha(reliability_data=m.T, level_of_measurement=level)
    assert ours == pytest.approx(ref, abs=1e-9)


def test_alpha_ratio_with_zero_values_matches_package():
    m = np.array([[0, 0, 1], [2, 0, nan], [3, 3, 4], [0, 1, 1], [5, nan, 5]], float)
    assert krippendorff_alpha(m, level="ratio") == pytest.approx(
        krippendorff.alpha(reliability_data=m.T, level_of_measurement="ratio"), abs=1e-12)


def test_alpha_perfect_agreement_is_one():
    m = np.array([[1, 1, nan], [2, 2, 2], [5, nan, 5]], float)
    for level in K2011_PUBLISHED:
        assert krippendorff_alpha(m, level=level) == pytest.approx(1.0)


@pytest.mark.parametrize("bad, kwargs, message", [
    (np.array([[1, nan], [nan, 2]]), {}, "two or more raters"),
    (np.array([[1, 1], [1, 1]]), {}, "no variation"),
    (np.array([[1, 2], [2, 3]]), {"level": "cardinal"}, "level must be one of"),
])
def test_alpha_bad_input(bad, kwargs, message):
    with pytest.raises(ValueError, match=message):
        krippendorff_alpha(bad, **kwargs)
