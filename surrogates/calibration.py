r"""Recalibration of a regression surrogate's error bars as a function of their size.

A surrogate's predictive in model space (:mod:`surrogates.transforms`) has a mean
:math:`\mu(x)` and a spread :math:`s(x)`. On held-out data the spread can be wrong in a way
that depends on its size: too wide where the model is sure, too narrow in the tails. One
variance scale (the std scaling of Levi et al. 2019) cannot mend that; an isotonic map of the
PIT (Kuleshov, Fenner & Ermon, arXiv:1807.00263) calibrates the marginal quantiles but not the
bars where they are small. :class:`LocalScale` rescales the spread by a factor that depends on
the spread itself, fitted on the validation split:

1. the validation points are sorted by :math:`s` and cut into ``n_bins`` bins of equal count
   (at least ``min_per_bin`` points each);
2. in bin :math:`b` the factor :math:`c_b` minimises the squared distance of the k-sigma
   coverages to their Gaussian values,

   .. math:: c_b = \arg\min_c \sum_{k=1}^{3} \Big(\frac1{n_b}\sum_{i\in b}
             \mathbb 1\big[|z_i - \mu_i| < k\,c\,s_i\big] - (2\Phi(k) - 1)\Big)^2 ,

   a grid search over :math:`c` (the coverage of interval predictions is what a likelihood
   using the bars relies on; matching three levels at once is the best one Gaussian width can
   do when the errors have heavier tails than a Gaussian);
3. the calibrated spreads :math:`c_b \tilde s_b` at the bins' median spreads
   :math:`\tilde s_b` are made non-decreasing in :math:`\tilde s_b` (isotonic regression,
   weighted by bin counts): a larger raw error bar never becomes a smaller calibrated one;
4. a new point gets :math:`s \to c(s)\,s` with :math:`\ln c` interpolated linearly in
   :math:`\ln s` between the bins and held constant beyond the first and the last.

Members are moved away from (or towards) their model-space mean by the same factor, so a
member-based predictive keeps its shape. The map is stored with the model (JSON) and applied
by :meth:`surrogates.base.Surrogate.predict`, so a loaded model is calibrated as saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import erf
from sklearn.isotonic import IsotonicRegression

__all__ = ["LocalScale", "RECALIBRATIONS"]

#: Names of the recalibrations a surrogate accepts.
RECALIBRATIONS = ("none", "local_scale")
#: k of the k-sigma coverages matched in each bin, and their Gaussian values 2 Phi(k) - 1.
_K = np.array([1.0, 2.0, 3.0])
_NOMINAL = erf(_K / np.sqrt(2.0))
#: Candidate factors c: 10^-1.5 .. 10^1.5, 0.5 % apart.
_GRID = np.exp(np.arange(np.log(10**-1.5), np.log(10**1.5), 0.005))


def _best_factor(ratio: np.ndarray) -> float:
    """The factor c matching the k-sigma coverages of the pulls ``ratio = |z - mu| / s``."""
    r = np.sort(ratio)
    # coverage at k for factor c: fraction of r < k c, for every c of the grid at once
    cov = np.searchsorted(r, _K[:, None] * _GRID[None, :], side="left") / r.size
    loss = ((cov - _NOMINAL[:, None]) ** 2).sum(axis=0)
    return float(_GRID[np.argmin(loss)])


@dataclass(frozen=True)
class LocalScale:
    """A factor on the model-space spread that depends on the spread (see the module text).

    Attributes
    ----------
    log_s : ndarray of shape (n_bins,)
        Natural log of the bins' median raw spread (model space), increasing.
    log_c : ndarray of shape (n_bins,)
        Natural log of the factor at those spreads.
    n_val : int
        Validation points it was fitted on.
    """

    log_s: np.ndarray
    log_c: np.ndarray
    n_val: int

    @classmethod
    def fit(
        cls,
        z: np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
        *,
        n_bins: int = 20,
        min_per_bin: int = 200,
    ) -> LocalScale:
        """Fit on validation targets ``z`` and the predictive ``mean``, ``std`` (model space).

        Parameters
        ----------
        z, mean, std : ndarray of shape (n_val,)
            Model-space truth, predictive mean and spread (std > 0).
        n_bins : int
            Most bins; fewer when the data hold fewer than ``min_per_bin`` points per bin.
        min_per_bin : int
            Fewest points per bin.

        Raises
        ------
        ValueError
            If the arrays differ in shape, are not finite, a std is not positive, or there
            are fewer than ``min_per_bin`` points.
        """
        z, mean, std = (np.asarray(a, np.float64) for a in (z, mean, std))
        if not z.shape == mean.shape == std.shape or z.ndim != 1:
            raise ValueError(
                f"z, mean and std must be 1-D of one length; got {z.shape}, {mean.shape}, "
                f"{std.shape}"
            )
        if not (np.isfinite(z).all() and np.isfinite(mean).all() and np.isfinite(std).all()):
            raise ValueError("z, mean and std must be finite")
        if not (std > 0).all():
            raise ValueError(f"std must be > 0; got min {std.min()!r}")
        if z.size < min_per_bin:
            raise ValueError(
                f"recalibration needs at least {min_per_bin} validation points; got {z.size}"
            )
        order = np.argsort(std, kind="stable")
        bins = np.array_split(order, max(1, min(n_bins, z.size // min_per_bin)))
        ratio = np.abs(z - mean) / std
        med = np.array([np.median(std[b]) for b in bins])
        factor = np.array([_best_factor(ratio[b]) for b in bins])
        counts = np.array([b.size for b in bins], float)
        log_med = np.log(med)
        iso = IsotonicRegression(increasing=True).fit(
            log_med, np.log(factor * med), sample_weight=counts
        )
        log_c = iso.predict(log_med) - log_med
        # bins of equal median spread (a homoscedastic model) become one knot
        knots, inverse = np.unique(log_med, return_inverse=True)
        log_c = np.bincount(inverse, weights=log_c * counts) / np.bincount(inverse, counts)
        return cls(log_s=knots, log_c=log_c, n_val=int(z.size))

    def factor(self, std: np.ndarray) -> np.ndarray:
        """The factor :math:`c(s)` for raw model-space spreads ``std``, same shape."""
        log_std = np.log(np.maximum(np.asarray(std, np.float64), np.finfo(float).tiny))
        return np.exp(np.interp(log_std, self.log_s, self.log_c))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"kind": "local_scale", "log_s": self.log_s.tolist(),
                "log_c": self.log_c.tolist(), "n_val": self.n_val}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> LocalScale:
        """Inverse of :meth:`to_dict`."""
        return cls(log_s=np.asarray(state["log_s"], float),
                   log_c=np.asarray(state["log_c"], float), n_val=int(state["n_val"]))
