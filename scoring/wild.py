"""Wild ratings: the contamination mixture that sets them aside, and Tukey's biweight.

A wild rating is a careless tap or a hostile score that says nothing about the work. The
mixture treats each rating as genuine, N(fitted, sigma^2), or wild, and weights it by the
posterior probability that it is genuine (Aitkin & Wilson 1980, "Mixture models, outliers,
and the EM algorithm", *Technometrics* 22:325-331). A wild rating is either anywhere on the
scale (uniform over the range of the scores) or **at one of its ends** (a 0 or a 10 on a
0-10 scale, where careless taps and hostile raters land). A genuine rating at an end is a
rater's impression at or beyond it, cut off by the scale (a censored normal), so its
probability is the normal tail beyond the end less half a scale step, set against the share
of wild ratings at that end: a 10 given to a work whose other ratings say 7.5 is then far
more likely a tap than a generous rater, while a 10 for a work the panel puts at 9.5 stays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

__all__ = ["WildMixture", "biweight_weights", "BIWEIGHT_C"]

BIWEIGHT_C = 4.685  # 95% efficiency under normal errors (Beaton & Tukey 1974)
_SQRT_2PI = float(np.sqrt(2 * np.pi))


def biweight_weights(standardized: np.ndarray, c: float = BIWEIGHT_C) -> np.ndarray:
    """Tukey's biweight IRLS weights ``(1 - (z/c)^2)^2`` inside ``|z| < c``, 0 outside."""
    u = np.minimum(np.abs(standardized) / c, 1.0)
    return (1.0 - u * u) ** 2


def _half_step(y: np.ndarray) -> float:
    """Half the smallest gap between distinct scores (0.5 for whole points, ~0 for continuous scores)."""
    values = np.unique(y)
    if values.size < 2:
        return 0.0
    return 0.5 * float(np.min(np.diff(values)))


@dataclass
class WildMixture:
    """Genuine N(0, sigma^2) residuals against wild ratings, uniform or at the scale's ends.

    ``pi_uniform``, ``pi_low``, ``pi_high`` are the shares of wild ratings anywhere on the
    scale and at its low and high end; :meth:`estimate` fits them by EM, :meth:`genuine`
    gives each rating's posterior probability of being genuine.
    """

    sigma: float
    sqrt_conf: np.ndarray
    width: float
    at_low: np.ndarray
    at_high: np.ndarray
    half_step: float
    pi_uniform: float = 0.01
    pi_low: float = 0.0
    pi_high: float = 0.0

    @classmethod
    def from_scores(cls, y: np.ndarray, conf: np.ndarray, sigma: float, *, ends=None) -> WildMixture:
        """Mixture for the scores ``y``; ``ends`` = (low, high) of the scale, default the scores' range.

        No rating at an end (or ``ends=False``): wild ratings are uniform only.
        """
        y = np.asarray(y, dtype=float)
        width = float(np.ptp(y)) or 1.0
        if ends is False:
            at_low = at_high = np.zeros(y.size, dtype=bool)
        else:
            low, high = (float(np.min(y)), float(np.max(y))) if ends is None else map(float, ends)
            if not low < high:
                raise ValueError(f"the scale's ends must satisfy low < high, got ({low}, {high})")
            tol = 1e-9 * max(1.0, abs(low), abs(high))
            # exactly at an end; a score beyond the ends (which a configured scale would have refused)
            # is no tap at an end, and is left to the uniform component
            at_low, at_high = np.abs(y - low) <= tol, np.abs(y - high) <= tol
            if ends is None:
                # the scores' own range: one rating at the extreme is no sign of taps piling up there
                at_low = at_low if at_low.sum() >= 2 else np.zeros_like(at_low)
                at_high = at_high if at_high.sum() >= 2 else np.zeros_like(at_high)
        mix = cls(float(sigma), np.sqrt(conf), width, at_low, at_high, _half_step(y))
        mix.pi_low = 0.005 if at_low.any() else 0.0
        mix.pi_high = 0.005 if at_high.any() else 0.0
        return mix

    @property
    def pi(self) -> float:
        """Share of wild ratings in all."""
        return self.pi_uniform + self.pi_low + self.pi_high

    def _kernels(self, z: np.ndarray, per: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """The parts of the genuine likelihood that do not depend on the shares: the normal kernel
        exp(-z^2 / 2) of each rating, and the normal tail of the ratings at each end of the scale."""
        kernel = np.exp(-0.5 * z * z)
        shift = self.half_step * per
        high = low = None
        if self.at_high.any():
            k = self.at_high
            high = ndtr(-(z[k] - shift[k]))  # P(impression >= end - half step)
        if self.at_low.any():
            k = self.at_low
            low = ndtr(z[k] + shift[k])
        return kernel, high, low

    def _likelihoods(self, kernels) -> tuple[np.ndarray, np.ndarray]:
        """(genuine, wild) likelihood of each rating: densities inside the scale, masses at its ends."""
        kernel, high, low = kernels
        genuine = (1 - self.pi) * kernel / (_SQRT_2PI * self.sigma) * self.sqrt_conf
        wild = np.full(kernel.shape, self.pi_uniform / self.width)
        if high is not None:
            genuine[self.at_high] = (1 - self.pi) * high
            wild[self.at_high] = self.pi_high
        if low is not None:
            genuine[self.at_low] = (1 - self.pi) * low
            wild[self.at_low] = self.pi_low
        return genuine, wild

    def _posterior(self, kernels) -> np.ndarray:
        g, w = self._likelihoods(kernels)
        total = g + w
        return np.divide(g, total, out=np.zeros_like(g), where=total > 0)

    def genuine(self, z: np.ndarray, per) -> np.ndarray:
        """Posterior probability that each rating is genuine.

        ``z`` are the studentized residuals, ``per`` the factor that studentized them
        (residual × per = z), which converts half a scale step to the same units.
        """
        per = np.broadcast_to(np.asarray(per, dtype=float), z.shape)
        return self._posterior(self._kernels(z, per))

    def estimate(self, resid: np.ndarray, per, *, max_iter: int = 200) -> WildMixture:
        """EM for the wild shares given the residuals of a fit (the fit itself held fixed)."""
        per = np.broadcast_to(np.asarray(per, dtype=float), resid.shape)
        z = resid * per
        n = z.size
        # the residuals stay fixed: only the shares change from one EM step to the next
        kernels = self._kernels(z, per)
        for _ in range(max_iter):
            wild = 1.0 - self._posterior(kernels)
            low, high = float(wild[self.at_low].sum()) / n, float(wild[self.at_high].sum()) / n
            uniform = max(float(wild[~(self.at_low | self.at_high)].sum()) / n, 1e-4)
            total = uniform + low + high
            if total > 0.5:  # at most half the ratings are wild
                uniform, low, high = (0.5 * v / total for v in (uniform, low, high))
            change = abs(uniform - self.pi_uniform) + abs(low - self.pi_low) + abs(high - self.pi_high)
            self.pi_uniform, self.pi_low, self.pi_high = uniform, low, high
            if change < 1e-7:
                break
        return self
