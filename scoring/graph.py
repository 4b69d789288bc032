"""Connectivity of the rater–work graph.

Rater effects are only identifiable within a connected component of the bipartite graph
whose nodes are raters and works and whose edges are ratings: two groups of raters that
never rated a common work (directly or through a chain of shared works) cannot be put
on a common scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

__all__ = ["Connectivity", "rater_work_components", "components_from_codes"]


@dataclass
class Connectivity:
    """Connected components of the rater–work graph.

    Attributes
    ----------
    connected : bool
        True when every work and rater lies in one component.
    n_components : int
    work_component, rater_component : ndarray of int
        Component label (0-based, ordered by first work) of each work / rater.
    message : str
        A plain-language summary for the panel chair.
    """

    connected: bool
    n_components: int
    work_component: np.ndarray
    rater_component: np.ndarray
    message: str

    def works_in(self, component: int) -> np.ndarray:
        """Indices of the works in one component."""
        return np.flatnonzero(self.work_component == component)


def components_from_codes(work: np.ndarray, rater: np.ndarray, n_works: int, n_raters: int) -> Connectivity:
    """Components from integer-coded ratings (works ``0..n_works-1``, raters after them)."""
    n = n_works + n_raters
    adj = sparse.csr_matrix(
        (np.ones(len(work), dtype=np.int8), (work, n_works + rater)), shape=(n, n)
    )
    n_comp, labels = connected_components(adj, directed=False)
    # relabel so that component 0 holds work 0, component 1 the next new work, ...
    _, first = np.unique(labels[:n_works], return_index=True)
    order = np.argsort(first)
    remap = np.full(n_comp, -1)
    remap[np.unique(labels[:n_works])[order]] = np.arange(len(order))
    labels = remap[labels]
    work_comp, rater_comp = labels[:n_works], labels[n_works:]
    if n_comp == 1:
        msg = "All raters and works form one connected group: rater effects are comparable across all works."
    else:
        sizes = np.bincount(work_comp, minlength=n_comp)
        msg = (
            f"The rater–work graph falls into {n_comp} separate groups (works per group: "
            f"{', '.join(str(s) for s in sizes)}). No rater scored works in two of these groups, "
            "so rater leniency cannot be separated from work quality across groups: each group is "
            "normalized on its own, and scores or ranks of works in different groups are not "
            "comparable. Assign a few raters to works in several groups to join them."
        )
    return Connectivity(n_comp == 1, int(n_comp), work_comp, rater_comp, msg)


def rater_work_components(work_ids, rater_ids) -> Connectivity:
    """Connected components of the bipartite rater–work graph.

    Parameters
    ----------
    work_ids, rater_ids : array_like, shape (n,)
        Work and rater of each rating.

    Returns
    -------
    Connectivity
        ``work_component`` follows the sorted unique work ids.

    Notes
    -----
    Uses :func:`scipy.sparse.csgraph.connected_components` on the (works + raters) square
    adjacency matrix. In the additive model y = mu + q_work + b_rater + e the rater effects
    are identifiable only up to one constant per component (Searle, *Linear Models for
    Unbalanced Data*, 1987, on connectedness of two-way designs).

    References
    ----------
    .. [1] Searle, S. R. (1987). *Linear Models for Unbalanced Data*. Wiley (connectedness of two-way
       designs).

    Examples
    --------
    >>> c = rater_work_components(["w1", "w2", "w3"], ["a", "a", "b"])
    >>> c.connected, c.n_components, c.work_component.tolist()
    (False, 2, [0, 0, 1])
    """
    w = np.asarray(work_ids)
    r = np.asarray(rater_ids)
    if w.shape != r.shape or w.ndim != 1:
        raise ValueError("work_ids and rater_ids must be one-dimensional and of equal length")
    if w.size == 0:
        raise ValueError("no ratings given")
    wu, wc = np.unique(w, return_inverse=True)
    ru, rc = np.unique(r, return_inverse=True)
    return components_from_codes(wc, rc, len(wu), len(ru))
