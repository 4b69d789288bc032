"""ICC vs pingouin.intraclass_corr (500 x 8) and alpha vs the krippendorff package (2,000 x 10, 70% missing).

Run by hand: ``.venv/bin/python benchmarks/bench_reliability_speed.py``. Integer scores and
continuous scores with about 100 distinct values; prints times and the largest difference.
"""

from __future__ import annotations

import time
import warnings

import krippendorff
import numpy as np
import pandas as pd
import pingouin

from scoring.reliability import icc, krippendorff_alpha

FORMS = ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
PG = ["ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)"]


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def scores(rng, shape, kind):
    base = rng.normal(size=(shape[0], 1)) + rng.normal(size=shape) * 0.8
    if kind == "integer":
        return np.clip(np.round(base * 1.5 + 5), 1, 9)
    return np.round(base * 1.6 + 5, 1)  # steps of 0.1: about 100 distinct values


def main():
    pingouin.options["round.column.CI95"] = None
    rng = np.random.default_rng(0)
    print("| statistic | data | distinct values | ours (ms) | reference (ms) | speed-up | max abs difference |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for kind in ("integer", "continuous"):
        m = scores(rng, (500, 8), kind)
        df = pd.DataFrame({"t": np.repeat(np.arange(500), 8), "r": np.tile(np.arange(8), 500), "y": m.ravel()})
        t_ours, ours = best(lambda: icc(m), 20)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ref, ref = best(lambda: pingouin.intraclass_corr(df, "t", "r", "y").set_index("Type"), 5)
        diff = max(max(abs(ours[f] - ref.loc[p, "ICC"]) for f, p in zip(FORMS, PG)),
                   max(np.max(np.abs(np.array(ours.ci95[f]) - ref.loc[p, "CI95"])) for f, p in zip(FORMS, PG)))
        print(f"| ICC (6 forms + CIs) vs pingouin | 500 x 8, {kind} | {np.unique(m).size} | {t_ours * 1e3:.2f} | "
              f"{t_ref * 1e3:.1f} | {t_ref / t_ours:.0f}x | {diff:.1e} |")
    for kind in ("integer", "continuous"):
        m = scores(rng, (2000, 10), kind)
        m[rng.random(m.shape) < 0.7] = np.nan
        for level in ("nominal", "ordinal", "interval", "ratio"):
            t_ours, ours = best(lambda: krippendorff_alpha(m, level=level), 5)
            t_ref, ref = best(lambda: krippendorff.alpha(reliability_data=m.T, level_of_measurement=level), 3)
            print(f"| alpha {level} vs krippendorff | 2000 x 10, 70% missing, {kind} | {np.unique(m[~np.isnan(m)]).size} | "
                  f"{t_ours * 1e3:.2f} | {t_ref * 1e3:.1f} | {t_ref / t_ours:.0f}x | {abs(ours - ref):.1e} |")


if __name__ == "__main__":
    main()
