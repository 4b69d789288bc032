"""The affine fit's exact (theta, c) solve with the rater Schur matrix assembled from a fixed pattern.

Each sweep of the affine fit solves the same weighted two-way problem as the additive model
(:class:`scoring.models_additive.AdditiveSolver`), only with new weights and slopes. The
Schur matrix over the raters, S = diag(db) - C' D^-1 C, has the same sparsity every time:
rater r and rater s meet once for every work both rated. The generic solver forms C' D^-1 C
by a sparse matrix product, which first counts the product's non-zeros and then works out
its pattern again on every solve. Here the pattern is worked out once: for every work, the
pairs (r, s) of its raters (r = s included), each pair's cell in the lower triangle of the
dense n_raters x n_raters matrix. A solve then only multiplies v_r v_s per pair (v = c /
sqrt(dq), the work's weighted slope over the square root of its total) and sums them into
their cells with one ``np.bincount``; the Cholesky factorisation reads only that triangle.

The sum runs over works in work order, and a cell receives at most one term per work, so the
result does not depend on the order of the input rows (the sparse product summed in row order).
Panels with more than ``DENSE_RATERS_MAX`` raters, more than ``PAIRS_MAX`` rater pairs or more
than ``PAIRS_PER_RATING_MAX`` pairs a rating keep the generic solve of the parent class.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from scoring import models_additive
from scoring.models_additive import AdditiveSolver, deflated_cholesky

__all__ = ["PairPatternSolver", "PAIRS_MAX"]

#: Most rater pairs listed (16 bytes each: cell and value); a denser panel (every rater on every
#: work of a large panel) keeps the generic sparse product rather than hold hundreds of MiB
PAIRS_MAX = 12_000_000
#: Above this many pairs per rating (works rated by dozens of raters each) scattering the
#: products into their cells is slower than the sparse product: 16 pairs a rating was faster
#: (0.0071 s against 0.0086 s a solve), 21 slower (0.0110 against 0.0101)
PAIRS_PER_RATING_MAX = 16
SLICED_WORKS_MIN = 32  # works with the same number of ratings for their pairs to be taken by slices


class PairPatternSolver(AdditiveSolver):
    """:class:`AdditiveSolver` whose dense Schur matrix is summed over a precomputed list of rater pairs."""

    def __post_init__(self) -> None:
        super().__post_init__()
        p = self.panel
        # the limits are read at build time, so a test that lowers one takes effect
        counts = self._counts.astype(np.int64)
        n_pairs = int(np.sum(counts * (counts + 1) // 2))
        self._paired = (p.n_raters <= models_additive.DENSE_RATERS_MAX
                        and n_pairs <= min(PAIRS_MAX, PAIRS_PER_RATING_MAX * p.n_ratings))
        if not self._paired:
            return
        n_r = p.n_raters
        # per group of works with the same number m of ratings: their positions in work order
        # (n x m); the pairs are taken diagonal by diagonal, (k, k + d) for d = 0 .. m - 1, so
        # each diagonal's products are one product of two column slices, written in place. Each
        # pair's cell is in the lower triangle (row = the larger rater code), the only part the
        # Cholesky factorisation reads, so the matrix is never symmetrized. The cells are written
        # straight into one array: the sliced groups' pairs in that order, then the listed ones
        self._groups = []
        self._cells = cells = np.empty(n_pairs, dtype=np.intp)
        first_pos, second_pos = [], []
        start = 0
        for m in np.unique(self._counts):
            pos = self._indptr[np.flatnonzero(self._counts == m)][:, None] + np.arange(m)[None, :]
            # a group of few works would cost one small product per diagonal: list its pairs'
            # positions instead, and gather them all at once
            if pos.shape[0] < SLICED_WORKS_MIN:
                for d in range(m):
                    first_pos.append(pos[:, :m - d].ravel())
                    second_pos.append(pos[:, d:].ravel())
                continue
            self._groups.append(pos)
            raters = self._indices[pos]
            for d in range(m):
                rf, rs = raters[:, :m - d], raters[:, d:]
                size = rf.size
                out = cells[start:start + size].reshape(rf.shape)
                np.maximum(rf, rs, out=out)
                out *= n_r
                out += np.minimum(rf, rs)
                start += size
        self._first = np.concatenate(first_pos) if first_pos else np.zeros(0, dtype=np.intp)
        self._second = np.concatenate(second_pos) if second_pos else np.zeros(0, dtype=np.intp)
        rf, rs = self._indices[self._first], self._indices[self._second]
        cells[start:] = np.maximum(rf, rs) * n_r + np.minimum(rf, rs)
        self._terms = np.empty(n_pairs)
        self._work_of_ordered = np.repeat(np.arange(p.n_works), self._counts)

    def solve(self, weight: np.ndarray, y: np.ndarray | None = None,
              slope: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Same contract and solution as :meth:`AdditiveSolver.solve`; only the assembly differs."""
        if not self._paired:
            return super().solve(weight, y, slope)
        p = self.panel
        n_r = p.n_raters
        y = p.score if y is None else y
        wa = weight if slope is None else weight * slope
        # each rating's weight in its work's total (the affine fit's leverages read it, and dq)
        self.work_weight = wa if slope is None else wa * slope
        dq = np.bincount(p.work, self.work_weight, minlength=p.n_works)
        sq = np.bincount(p.work, wa * y, minlength=p.n_works)
        db = np.bincount(p.rater, weight, minlength=n_r)
        sb = np.bincount(p.rater, weight * y, minlength=n_r)
        # theta_variance reads the weighted slopes in work order and the work totals from here
        self._ordered_weight = wa_ordered = wa[self._order]
        self.work_total = dq
        v = wa_ordered / np.sqrt(dq)[self._work_of_ordered]
        terms, start = self._terms, 0
        for pos in self._groups:
            vv = v[pos]
            n, m = pos.shape
            for d in range(m):
                size = n * (m - d)
                np.multiply(vv[:, :m - d], vv[:, d:], out=terms[start:start + size].reshape(n, m - d))
                start += size
        np.multiply(v[self._first], v[self._second], out=terms[start:])
        # the lower triangle of S = diag(db + ridge) - C' D^-1 C (the upper one stays 0)
        schur = np.bincount(self._cells, terms, minlength=n_r * n_r).reshape(n_r, n_r)
        np.negative(schur, out=schur)
        schur[np.diag_indices(n_r)] += db + self.ridge
        theta_part = sq / dq
        rhs = sb - np.bincount(p.rater, wa * theta_part[p.work], minlength=n_r)
        null = np.ones(n_r)
        if slope is not None:
            null[p.rater] = slope
        comp = self._rater_comp
        null_norm2 = np.bincount(comp, null * null, minlength=self._n_comp)
        # deflate the null direction per component, exactly as the parent class does
        self._factor, self._level_var = deflated_cholesky(schur, db, null, null_norm2, comp, self._n_comp,
                                                          self.ridge, overwrite=True)
        bias = linalg.cho_solve(self._factor, rhs, check_finite=False)
        drift = np.bincount(comp, null * bias, minlength=self._n_comp) / null_norm2
        bias = bias - drift[comp] * null
        theta = (sq - np.bincount(p.work, wa * bias[p.rater], minlength=p.n_works)) / dq
        return theta, bias
