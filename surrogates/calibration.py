r"""Recalibration of a regression surrogate's error bars, fitted on held-out data.

A surrogate's predictive in model space (:mod:`surrogates.transforms`) has a mean
:math:`\mu(x)` and a spread :math:`s(x)`. A recalibration multiplies the spread by a factor
:math:`c(s)` fitted on the validation split (:func:`rescale_spread`); every surrogate takes
one (``recalibration=`` of :class:`~surrogates.base.Surrogate`), saves it with the model and
applies it in :meth:`~surrogates.base.Surrogate.predict`. Two are offered
(:data:`RECALIBRATIONS`):

``"variance_scale"`` (:class:`VarianceScale`)
    One factor for all points, :math:`c^2 = s^2 = \frac1{n_\mathrm{val}}\sum_i
    ((z_i - \mu_i)/\sigma_i)^2`, the maximum-likelihood scale of a Gaussian predictive, i.e.
    the :math:`\chi^2/n` of the model-space pulls (sigma scaling, Laves et al., MELBA 2021,
    arXiv:2104.12376; the std scaling of Levi et al. 2019). The rBCM's default: random-
    partition rBCMs are over-confident when the experts are small (Liu et al., ICML 2018,
    arXiv:1806.00720).

``"local_scale"`` (:class:`LocalScale`)
    A factor that depends on the spread. On held-out data the spread can be wrong in a way
    that depends on its size: too wide where the model is sure, too narrow in the tails. One
    variance scale cannot mend that; an isotonic map of the PIT (Kuleshov, Fenner & Ermon,
    arXiv:1807.00263) calibrates the marginal quantiles but not the bars where they are small.
    :class:`LocalScale` rescales the spread by a factor that depends on the spread itself,
    fitted on the validation split:

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
Without validation data a ``"variance_scale"`` surrogate is left unscaled; a
``"local_scale"`` one cannot be fitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import erf
from sklearn.isotonic import IsotonicRegression

from surrogates.metrics import pull_chi2

__all__ = [
    "LocalScale",
    "RECALIBRATIONS",
    "Recalibration",
    "VarianceScale",
    "fit_recalibration",
    "recalibration_from_dict",
    "rescale_spread",
]

#: Names of the recalibrations a surrogate accepts.
RECALIBRATIONS = ("none", "variance_scale", "local_scale")
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
class VarianceScale:
    r"""One factor :math:`s^2` on the model-space predictive variance (see the module text).

    Attributes
    ----------
    s2 : float
        Variance scale; > 1 widens the error bars, < 1 narrows them.
    n_val : int
        Validation points it was fitted on.
    """

    s2: float
    n_val: int

    @property
    def s(self) -> float:
        """Scale of the standard deviation, :math:`\\sqrt{s^2}`."""
        return float(np.sqrt(self.s2))

    @classmethod
    def fit(cls, z: np.ndarray, mean: np.ndarray, std: np.ndarray) -> VarianceScale:
        """Fit on validation targets ``z`` and the predictive ``mean``, ``std`` (model space).

        Parameters
        ----------
        z, mean, std : ndarray of shape (n_val,)
            Model-space truth, predictive mean and spread (std > 0).

        Raises
        ------
        ValueError
            If the arrays differ in shape, are not finite or a std is not positive
            (:func:`~surrogates.metrics.pull_chi2`).
        """
        s2 = pull_chi2(z, mean, std)["chi2_per_dof"]
        return cls(s2=float(s2), n_val=int(np.size(z)))

    def factor(self, std: np.ndarray) -> np.ndarray:
        """The factor :math:`s` for every raw model-space spread ``std``, same shape."""
        return np.full(np.shape(std), self.s)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"kind": "variance_scale", "s2": self.s2, "n_val": self.n_val}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> VarianceScale:
        """Inverse of :meth:`to_dict`."""
        return cls(s2=float(state["s2"]), n_val=int(state["n_val"]))


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


#: A fitted recalibration: either kind has ``factor``, ``to_dict`` and ``n_val``.
Recalibration = VarianceScale | LocalScale
_KINDS: dict[str, type[VarianceScale] | type[LocalScale]] = {
    "variance_scale": VarianceScale, "local_scale": LocalScale,
}


def fit_recalibration(kind: str, z: np.ndarray, mean: np.ndarray, std: np.ndarray) -> Recalibration:
    """The recalibration ``kind`` (``"variance_scale"`` or ``"local_scale"``) fitted on
    validation targets ``z`` and the predictive ``mean``, ``std``, all model space."""
    return _KINDS[kind].fit(z, mean, std)


def recalibration_from_dict(state: dict[str, Any]) -> Recalibration:
    """A recalibration from its :meth:`to_dict` (the ``kind`` key names the class)."""
    return _KINDS[state["kind"]].from_dict(state)


def rescale_spread(
    recalibration: Recalibration,
    mean: np.ndarray,
    std: np.ndarray,
    samples: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """A model-space predictive with its spread multiplied by ``recalibration.factor(std)``.

    Parameters
    ----------
    recalibration : VarianceScale or LocalScale
    mean, std : ndarray of shape (n_points,)
        Model-space (weighted) mean and spread.
    samples : ndarray of shape (n_members, n_points), optional
        Members, moved away from (or towards) ``mean`` by the factor.

    Returns
    -------
    std : ndarray of shape (n_points,)
    samples : ndarray of shape (n_members, n_points) or None
    """
    c = recalibration.factor(std)
    return c * std, None if samples is None else mean + c * (samples - mean)
