"""Validated long-form ratings ("a panel") shared by every normalization method.

A *panel* is the list of ratings given by raters (experts) to works: one row per
(work, rater) with a score, an optional confidence weight and a category per work.
Every method in :mod:`scoring.normalize` starts from :func:`build_panel`, so all input
checks live here and produce the same clear ``ValueError`` messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Panel", "CodedLabels", "build_panel"]


def _show(value) -> str:
    """repr of a value, unwrapping numpy scalars so messages read 'w1', not np.str_('w1')."""
    return repr(value.item() if isinstance(value, np.generic) else value)


@dataclass(frozen=True, eq=False)
class CodedLabels:
    """A column of identifiers already encoded as integer codes into a list of distinct labels.

    Columnar readers (``web.analysis.ratings_csv``) produce this so that :func:`build_panel`
    sorts only the distinct labels instead of a million strings. It behaves like the plain
    array ``labels[codes]`` wherever one is expected (``len``, indexing, ``np.asarray``).

    Examples
    --------
    >>> ids = CodedLabels(np.array([1, 0, 1]), np.array(["w2", "w1"]))
    >>> len(ids), ids[0], np.asarray(ids).tolist()
    (3, 'w1', ['w1', 'w2', 'w1'])
    """

    codes: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i):
        out = self.labels[self.codes[i]]
        return out.item() if isinstance(out, np.generic) else out

    def __array__(self, dtype=None, copy=None):
        out = self.labels[self.codes]
        return out if dtype is None else out.astype(dtype)

    def tolist(self) -> list:
        """The labels, one per row, as a list."""
        return self.labels[self.codes].tolist()


@dataclass(frozen=True)
class Panel:
    """Ratings encoded as integer codes, ready for the numeric methods.

    Attributes
    ----------
    work_ids, rater_ids : ndarray
        Sorted unique identifiers; ``work[i]`` and ``rater[i]`` index into them.
    work, rater : ndarray of int
        Code of the work and the rater of each rating.
    score : ndarray of float
        The rating (a weighted total on the criteria scale).
    weight : ndarray of float
        Confidence weight of each rating, normalised to mean 1 (all ones if none given).
    category : ndarray
        Category label of each work (``""`` when no categories were given).
    """

    work_ids: np.ndarray
    rater_ids: np.ndarray
    work: np.ndarray
    rater: np.ndarray
    score: np.ndarray
    weight: np.ndarray
    category: np.ndarray

    @property
    def n_works(self) -> int:
        """Number of distinct works."""
        return len(self.work_ids)

    @property
    def n_raters(self) -> int:
        """Number of distinct raters."""
        return len(self.rater_ids)

    @property
    def n_ratings(self) -> int:
        """Number of ratings."""
        return len(self.score)

    def ratings_per_work(self) -> np.ndarray:
        """Count of ratings of each work."""
        return np.bincount(self.work, minlength=self.n_works)

    def ratings_per_rater(self) -> np.ndarray:
        """Count of ratings given by each rater."""
        return np.bincount(self.rater, minlength=self.n_raters)


def _as_float(values, name: str) -> np.ndarray:
    """Convert to float, naming the first offending 1-based row on failure."""
    try:
        out = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raw = np.asarray(values, dtype=object)
        for i, v in enumerate(raw.ravel()):
            try:
                float(v)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: data row {i + 1} has a non-numeric value {v!r}") from None
        raise ValueError(f"{name}: values are not numeric") from None
    if out.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {out.shape}")
    bad = np.flatnonzero(~np.isfinite(out))
    if bad.size:
        raise ValueError(f"{name}: data row {bad[0] + 1} has a non-finite value {_show(out[bad[0]])}")
    return out


def _encode_coded(ids: CodedLabels, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted labels and codes into them, as ``np.unique(labels[codes], return_inverse=True)`` gives."""
    codes = np.asarray(ids.codes, dtype=np.intp)
    labels = np.asarray(ids.labels)
    if codes.ndim != 1 or labels.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if codes.size and (codes.min() < 0 or codes.max() >= len(labels)):
        raise ValueError(f"{name}: a code is outside the {len(labels)} labels")
    used = np.flatnonzero(np.bincount(codes, minlength=len(labels)))
    try:
        order = used[np.argsort(labels[used], kind="stable")]
    except TypeError as exc:
        raise ValueError(f"{name} mixes identifier types that cannot be ordered: {exc}") from None
    uniques = labels[order]
    if uniques.size > 1 and np.any(uniques[1:] == uniques[:-1]):
        raise ValueError(f"{name}: the same label is given two codes")
    remap = np.empty(len(labels), dtype=np.intp)
    remap[order] = np.arange(order.size)
    return uniques, remap[codes]


def _encode(ids, name: str) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(ids, CodedLabels):
        return _encode_coded(ids, name)
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    try:
        uniques, codes = np.unique(arr, return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"{name} mixes identifier types that cannot be ordered: {exc}") from None
    return uniques, codes.astype(np.intp)


def build_panel(
    work_ids: Sequence,
    rater_ids: Sequence,
    scores: Sequence,
    *,
    confidence: Sequence | None = None,
    categories: Sequence | Mapping | None = None,
    works: Sequence | None = None,
    min_raters: int = 2,
) -> Panel:
    """Validate long-form ratings and encode them as a :class:`Panel`.

    Parameters
    ----------
    work_ids, rater_ids : array_like, shape (n,)
        Identifier of the work and of the rater of each rating.
    scores : array_like, shape (n,)
        The ratings; must be finite numbers.
    confidence : array_like, shape (n,), optional
        Positive confidence weight of each rating (treated as a relative precision).
    categories : array_like of shape (n,) or mapping, optional
        Either the category of the work of each rating, or a mapping ``work_id -> category``.
        Every work in a mapping must have at least one rating.
    works : sequence, optional
        The works that should have been rated; any of them without a rating is an error.
    min_raters : int, default 2
        Fewer distinct raters is an error (1 for callers that fall back to the raw mean).

    Returns
    -------
    Panel

    Raises
    ------
    ValueError
        Empty input, mismatched lengths, non-numeric or non-finite scores, fewer than
        ``min_raters`` raters, a (work, rater) pair rated twice, a non-positive confidence, a work with no
        rating, or a work given two categories.

    Examples
    --------
    >>> p = build_panel(["w1", "w1", "w2"], ["a", "b", "a"], [7, 8, 6])
    >>> p.n_works, p.n_raters, p.ratings_per_work().tolist()
    (2, 2, [2, 1])
    """
    score = _as_float(scores, "scores")
    n = len(score)
    if n == 0:
        raise ValueError("no ratings given: scores is empty")
    if len(work_ids) != n or len(rater_ids) != n:
        raise ValueError(
            f"work_ids ({len(work_ids)}), rater_ids ({len(rater_ids)}) and scores ({n}) "
            "must have the same length"
        )
    work_uniq, work = _encode(work_ids, "work_ids")
    rater_uniq, rater = _encode(rater_ids, "rater_ids")
    if len(rater_uniq) < min_raters:
        raise ValueError(
            f"at least two raters are needed to estimate rater effects; got only {_show(rater_uniq[0])}"
        )
    key = work.astype(np.int64) * len(rater_uniq) + rater
    order = np.argsort(key, kind="stable")
    dup = np.flatnonzero(key[order][1:] == key[order][:-1])
    if dup.size:
        first, second = sorted((order[dup[0]], order[dup[0] + 1]))
        raise ValueError(
            f"data row {second + 1} duplicates data row {first + 1}: rater {_show(rater_uniq[rater[second]])} "
            f"rated work {_show(work_uniq[work[second]])} twice"
        )
    if confidence is None:
        weight = np.ones(n)
    else:
        weight = _as_float(confidence, "confidence")
        if len(weight) != n:
            raise ValueError(f"confidence has {len(weight)} values for {n} ratings")
        bad = np.flatnonzero(weight <= 0)
        if bad.size:
            raise ValueError(f"confidence: data row {bad[0] + 1} is {_show(weight[bad[0]])}; must be > 0")
        weight = weight / weight.mean()
    if works is not None:
        missing = sorted(set(np.asarray(works).tolist()) - set(work_uniq.tolist()), key=str)
        if missing:
            raise ValueError(f"work {_show(missing[0])} has no ratings ({len(missing)} such works)")
    category = _categories(categories, work_uniq, work, n)
    return Panel(work_uniq, rater_uniq, work, rater, score, weight, category)


def _categories(categories, work_uniq: np.ndarray, work: np.ndarray, n: int) -> np.ndarray:
    if categories is None:
        return np.full(len(work_uniq), "", dtype=object)
    if isinstance(categories, Mapping):
        known = set(work_uniq.tolist())
        unrated = sorted((w for w in categories if w not in known), key=str)
        if unrated:
            raise ValueError(
                f"work {_show(unrated[0])} is listed in categories but has no ratings "
                f"({len(unrated)} such works)"
            )
        try:
            return np.array([categories[w] for w in work_uniq.tolist()], dtype=object)
        except KeyError as exc:
            raise ValueError(f"work {_show(exc.args[0])} has ratings but no category") from None
    if isinstance(categories, CodedLabels):
        if len(categories) != n:
            raise ValueError(f"categories must give one category per rating ({n}), got shape ({len(categories)},)")
        cat = np.asarray(categories.codes)
        labels = np.asarray(categories.labels, dtype=object)
    else:
        cat = np.asarray(categories, dtype=object)
        labels = None
    if cat.shape != (n,):
        raise ValueError(f"categories must give one category per rating ({n}), got shape {cat.shape}")
    first = np.full(len(work_uniq), -1, dtype=np.intp)
    # first rating of each work (reverse assignment keeps the earliest index)
    first[work[::-1]] = np.arange(n)[::-1]
    per_work = cat[first]
    clash = np.flatnonzero(cat != per_work[work])
    if labels is not None:
        per_work = labels[per_work]
    if clash.size:
        i = clash[0]
        given = cat[i] if labels is None else labels[cat[i]]
        raise ValueError(
            f"data row {i + 1}: work {_show(work_uniq[work[i]])} has category {_show(given)} but data row "
            f"{first[work[i]] + 1} says {_show(per_work[work[i]])}"
        )
    return per_work
