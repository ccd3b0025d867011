r"""Recalibration of a surrogate's error bars (or class probabilities), fitted on held-out data.

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

``"local_quantile"`` (:class:`LocalQuantile`)
    The shape of the errors as well as their size. A Gaussian width cannot cover 68.3, 95.4
    and 99.7 % at 1, 2 and 3 widths at once when the errors are heavier-tailed than a
    Gaussian (the errors of the pMSSM surrogates have a kurtosis of ~25): the best single
    width of a Student-t with 4 degrees of freedom covers 70.1 / 92.4 / 97.7 %. This one
    replaces the predictive by the empirical distribution of the validation pulls, per bin of
    the spread (split conformal prediction with the spread as the normalising score and the
    bins as a Mondrian taxonomy; Papadopoulos et al., JAIR 40 (2011) 815; Vovk et al.,
    "Algorithmic learning in a random world", 2005):

    1. the validation points are binned by :math:`s` as for ``"local_scale"``, and the bin
       of the largest spreads is halved while they span more than a factor of 2 and each
       half keeps ``min_per_bin // 2`` points (the spread has a long upper tail: on the
       shipped m_h model's validation split it runs over a factor of 38 in the top 5 % and
       of 13 in the other 95 %); in bin :math:`b` the median pull :math:`c_b` of
       :math:`(z_i - \mu_i) / s_i` and the quantiles :math:`q_b(a_j)` of the absolute pulls
       about it, :math:`|(z_i - \mu_i) / s_i - c_b|`, are kept at the levels
       :math:`a_j = (2j + 1)/M`, :math:`j = 0 \dots M/2 - 1` (numpy's linear quantiles);
    2. each level's half-width :math:`\tilde s_b\, q_b(a_j)` is made non-decreasing in the
       bins' median spread :math:`\tilde s_b` (isotonic regression weighted by bin counts,
       order-preserving, so the levels stay sorted);
    3. a new point gets :math:`\ln q(a_j)` (and :math:`c`) interpolated linearly in :math:`\ln
       s` between the bins, held constant below the first; above the last bin's median spread
       the half-widths :math:`s\,q(a_j)` are held instead (the errors stop growing with the
       spread there: on the shipped m_h model's validation split the rms error is 2-3 GeV from
       the 99th to the 100th percentile of the spread, while the spread grows from 2 to 20 GeV;
       growing the half-widths with it made the members' variance 6 times the mean squared error
       on the test split; :math:`s\,c` is held with them). Its predictive becomes the :math:`M`
       equally weighted members :math:`\mu + s\,(c \pm q(a_j))`, symmetric about the model's
       mean moved by the median pull (a network biased by a fraction of its spread is
       re-centred: the shipped sigma model's validation truths lie above the networks' mean
       in 44 % of the points, median pull -0.02 to -0.11 per bin): the quantiles of the
       calibrated distribution at the plotting positions :math:`(i + 1/2)/M` (Hazen's,
       numpy's ``method="hazen"``). Their central interval of probability :math:`a`
       (:func:`~surrogates.metrics.interval_coverage`) is :math:`\mu + s\,(c \pm q(a))` at the
       levels :math:`a_j`, interpolated between them and held at the outermost members beyond
       :math:`a = 1 - 1/M`: the k-sigma intervals (68.3, 95.4 %) cover as on the validation
       split, in every bin of the spread; the 99.7 % one is that of 99 % for the default 100
       members. The members' standard deviation :math:`s\,r(s)`, :math:`r = \mathrm{rms}_j\,
       q(a_j)`, is the predictive's (heavy tails make it wider than the half-width of the
       central 68 %).

    The likelihood terms see these members: a mixture over members
    (``GaussianMeasurement(uncertainty="mixture")``, the signal nuisance of
    :class:`~likelihoods.SignalRegion`) uses the heavy-tailed shape, a quadrature term its
    variance.

``"temperature"`` (:class:`Temperature`), the classifier's
    Temperature scaling (Guo, Pleiss, Sun & Weinberger, ICML 2017, arXiv:1706.04599): each
    member's logit :math:`f_j = \ln p_j - \ln(1 - p_j)` is divided by one temperature
    :math:`T`, :math:`p_j \to \sigma(f_j / T)`, with :math:`T` minimising the Bernoulli
    negative log-likelihood of the predictive probability :math:`\bar p = \frac1M\sum_j
    \sigma(f_j/T)` on the validation labels. :math:`T > 1` softens over-confident
    probabilities; the ranking of the points, hence the ROC curve, is unchanged, and so is the
    decision :math:`\bar p \ge 1/2` of a single member. For classifiers whose predictive is
    members (the BNN, the deep ensemble); the rBCM's probit link is fitted on the validation
    split already (:mod:`surrogates.gp.classifier`).

For ``"variance_scale"`` and ``"local_scale"`` members are moved away from (or towards) their
model-space mean by the same factor, so a member-based predictive keeps its shape. The map is
stored with the model (JSON) and applied by :meth:`surrogates.base.Surrogate.predict`, so a
loaded model is calibrated as saved.
Without validation data a ``"variance_scale"`` surrogate is left unscaled; a
``"local_scale"`` or ``"local_quantile"`` one cannot be fitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import erf, expit
from sklearn.isotonic import IsotonicRegression

from surrogates.metrics import pull_chi2

__all__ = [
    "LocalQuantile",
    "LocalScale",
    "CLASSIFIER_RECALIBRATIONS",
    "RECALIBRATIONS",
    "Recalibration",
    "Temperature",
    "VarianceScale",
    "fit_recalibration",
    "recalibration_from_dict",
    "rescale_spread",
]

#: Names of the recalibrations a surrogate accepts.
RECALIBRATIONS = ("none", "variance_scale", "local_scale", "local_quantile", "temperature")
#: The recalibrations of a classifier's probabilities (the others act on regression spreads).
CLASSIFIER_RECALIBRATIONS = ("none", "temperature")
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
        bins, pulls = _spread_bins(z, mean, std, n_bins, min_per_bin)
        med = np.array([np.median(std[b]) for b in bins])
        factor = np.array([_best_factor(np.abs(pulls[b])) for b in bins])
        knots, log_width = _monotone_in_spread(med, np.log(factor * med)[:, None], bins)
        return cls(log_s=knots, log_c=log_width[:, 0] - knots, n_val=int(z.size))

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


def _spread_bins(
    z: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    n_bins: int,
    min_per_bin: int,
    split_tail: bool = False,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Checked inputs cut into bins of equal count by ``std``: (indices per bin, signed pulls
    ``(z - mean) / std``).

    With ``split_tail`` the bin of the largest spreads is halved again and again while its
    spreads span more than a factor of 2 and each half keeps at least ``min_per_bin // 2``
    points (the spread's long upper tail)."""
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
    while (split_tail and bins[-1].size // 2 >= max(1, min_per_bin // 2)
           and std[bins[-1][-1]] > 2.0 * std[bins[-1][0]]):
        bins[-1:] = np.array_split(bins[-1], 2)
    return bins, (z - mean) / std


def _monotone_in_spread(
    med: np.ndarray, widths: np.ndarray, bins: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Each column of ``widths`` (n_bins, n_columns) made non-decreasing in the bins' median
    spread ``med`` by isotonic regression weighted by the bins' counts; bins of equal median
    (a homoscedastic model) pooled into one knot. Returns (ln knots, widths per knot)."""
    counts = np.array([b.size for b in bins], float)
    log_med = np.log(med)
    iso = IsotonicRegression(increasing=True)
    fitted = np.column_stack([iso.fit(log_med, col, sample_weight=counts).predict(log_med)
                              for col in widths.T])
    return _pooled_by_knot(log_med, fitted, counts)


def _pooled_by_knot(
    log_med: np.ndarray, values: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``values`` (n_bins, n_columns) of bins with equal ``log_med`` averaged, weighted
    by ``counts``. Returns (the distinct ``log_med``, increasing; values per knot)."""
    knots, inverse = np.unique(log_med, return_inverse=True)
    pooled = np.stack([np.bincount(inverse, weights=col * counts) for col in values.T], axis=1)
    return knots, pooled / np.bincount(inverse, counts)[:, None]


@dataclass(frozen=True)
class LocalQuantile:
    """Quantiles of the absolute pulls per spread, the predictive's shape (module text).

    Attributes
    ----------
    log_s : ndarray of shape (n_knots,)
        Natural log of the bins' median raw spread (model space), increasing.
    abs_pulls : ndarray of shape (n_knots, n_nodes // 2)
        Quantiles :math:`q(a_j)` of ``|z - mean| / std`` at the levels :attr:`levels`,
        non-decreasing along both axes once multiplied by the spread.
    n_val : int
        Validation points it was fitted on.
    hold_above : bool
        Beyond the last knot the half-widths stay those of the last knot (True, as
        :meth:`fit` makes it); False, the pulls stay and the half-widths grow with the
        spread, as recalibrations saved without this key were fitted (they predict as
        saved).
    shift : ndarray of shape (n_knots,) or None
        Median of the signed pulls ``(z - mean) / std`` per knot: the members' centre is
        ``mean + std * shift``; None (centred on the mean) for recalibrations saved without
        it.
    """

    log_s: np.ndarray
    abs_pulls: np.ndarray
    n_val: int
    hold_above: bool = True
    shift: np.ndarray | None = None

    @staticmethod
    def levels(n_nodes: int) -> np.ndarray:
        """Probabilities :math:`a_j = (2j + 1) / M` of the central intervals whose
        half-widths are kept, shape (n_nodes // 2,)."""
        return (2.0 * np.arange(n_nodes // 2) + 1.0) / n_nodes

    @property
    def n_nodes(self) -> int:
        """Members of the recalibrated predictive, :math:`M`."""
        return 2 * self.abs_pulls.shape[1]

    @classmethod
    def fit(
        cls,
        z: np.ndarray,
        mean: np.ndarray,
        std: np.ndarray,
        *,
        n_bins: int = 20,
        min_per_bin: int = 200,
        n_nodes: int = 100,
    ) -> LocalQuantile:
        """Fit on validation targets ``z`` and the predictive ``mean``, ``std`` (model space).

        Parameters
        ----------
        z, mean, std : ndarray of shape (n_val,)
            Model-space truth, predictive mean and spread (std > 0).
        n_bins, min_per_bin : int
            As for :meth:`LocalScale.fit`; the bin of the largest spreads is then halved
            while its spreads span more than a factor of 2 and each half keeps
            ``min_per_bin // 2`` points (module text).
        n_nodes : int
            Members :math:`M` of the recalibrated predictive, even and >= 4.

        Raises
        ------
        ValueError
            As :meth:`LocalScale.fit`, and for an odd or too small ``n_nodes``.
        """
        if n_nodes < 4 or n_nodes % 2:
            raise ValueError(f"n_nodes must be an even integer >= 4; got {n_nodes!r}")
        z, mean, std = (np.asarray(a, np.float64) for a in (z, mean, std))
        bins, pulls = _spread_bins(z, mean, std, n_bins, min_per_bin, split_tail=True)
        levels = cls.levels(n_nodes)
        med = np.array([np.median(std[b]) for b in bins])
        centre = np.array([np.median(pulls[b]) for b in bins])
        q = np.stack([np.quantile(np.abs(pulls[b] - c), levels)
                      for b, c in zip(bins, centre, strict=True)])  # (n_bins, n_levels)
        knots, half = _monotone_in_spread(med, med[:, None] * q, bins)
        _, shift = _pooled_by_knot(np.log(med), centre[:, None],
                                   np.array([b.size for b in bins], float))
        return cls(log_s=knots, abs_pulls=half / np.exp(knots)[:, None], n_val=int(z.size),
                   shift=shift[:, 0])

    def nodes(self, std: np.ndarray) -> np.ndarray:
        r"""The standardised members :math:`c \pm q(a_j)` at raw spreads ``std`` (:math:`c`
        the bins' median pull), shape (n_nodes, n_points), sorted along the first axis."""
        return _symmetric_members(*self.centre_and_half_widths(std))

    def centre_and_half_widths(self, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""The centre :math:`c`, shape (n_points,), and the half-widths :math:`q(a_j)`,
        shape (n_nodes // 2, n_points), of the standardised members at raw spreads ``std``.

        :math:`\ln q` is linear in :math:`\ln s` between the knots (so is :math:`\ln (s q)`:
        the half-widths in model units are non-decreasing there); beyond the last knot
        :math:`s q` is held at the knot's (``hold_above``).
        """
        log_std = np.log(np.maximum(np.asarray(std, np.float64), np.finfo(float).tiny))
        pos = np.interp(log_std, self.log_s, np.arange(self.log_s.size, dtype=float))
        lo = np.minimum(np.floor(pos).astype(int), self.log_s.size - 1)
        t = pos - lo
        log_q = np.log(np.maximum(self.abs_pulls, np.finfo(float).tiny)).T  # (n_levels, n_knots)
        slope = np.diff(log_q, axis=1, append=log_q[:, -1:])  # 0 at the last knot
        shift = (np.zeros(log_std.shape) if self.shift is None
                 else self.shift[lo] + t * np.diff(self.shift, append=self.shift[-1])[lo])
        log_half = log_q[:, lo] + t * slope[:, lo]
        if self.hold_above:  # s q held at the last knot's: q shrinks as 1 / s beyond it
            log_beyond = np.minimum(0.0, self.log_s[-1] - log_std)
            log_half += log_beyond
            shift = shift * np.exp(log_beyond)
        return shift, np.exp(log_half)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        state = {"kind": "local_quantile", "log_s": self.log_s.tolist(),
                 "abs_pulls": self.abs_pulls.tolist(), "n_val": self.n_val,
                 "hold_above": self.hold_above}
        if self.shift is not None:
            state["shift"] = self.shift.tolist()
        return state

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> LocalQuantile:
        """Inverse of :meth:`to_dict`."""
        return cls(log_s=np.asarray(state["log_s"], float),
                   abs_pulls=np.asarray(state["abs_pulls"], float).reshape(
                       len(state["log_s"]), -1),
                   n_val=int(state["n_val"]), hold_above=bool(state.get("hold_above", False)),
                   shift=None if "shift" not in state else np.asarray(state["shift"], float))


def _symmetric_members(centre: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Members ``centre -+ half``, shape (2 * n_levels, n_points), sorted along the first axis
    for ``half`` (n_levels, n_points) non-decreasing along it."""
    return np.concatenate([centre - half[::-1], centre + half])


def _logit(p: np.ndarray) -> np.ndarray:
    """ln p - ln(1 - p) in float64, p clipped 1e-12 from 0 and 1 (a float32 probability that
    rounded to 1 keeps a finite logit)."""
    p = np.clip(np.asarray(p, np.float64), 1e-12, 1.0 - 1e-12)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class Temperature:
    r"""One temperature :math:`T` on a classifier's member logits (see the module text).

    Attributes
    ----------
    T : float
        Temperature; > 1 softens the probabilities, < 1 sharpens them.
    n_val : int
        Validation points it was fitted on.
    """

    T: float
    n_val: int

    @classmethod
    def fit(
        cls, labels: np.ndarray, members: np.ndarray, weights: np.ndarray | None = None
    ) -> Temperature:
        """Fit on validation ``labels`` (0/1) and the member probabilities.

        Parameters
        ----------
        labels : ndarray of shape (n_val,)
        members : ndarray of shape (n_members, n_val)
            Each member's probability of class 1.
        weights : ndarray of shape (n_members,), optional
            The members' weights in the predictive (default equal).

        Raises
        ------
        ValueError
            On labels other than 0 and 1, or shapes that do not match.
        """
        y = np.asarray(labels, np.float64)
        logit = _logit(members)
        if logit.ndim != 2 or logit.shape[1] != y.size:
            raise ValueError(f"members must have shape (n_members, {y.size}); got {logit.shape}")
        if not np.isin(y, (0.0, 1.0)).all():
            raise ValueError("temperature scaling needs labels 0 and 1")

        def nll(log_t: float) -> float:
            p = np.average(expit(logit / np.exp(log_t)), axis=0, weights=weights)
            p = np.clip(p, 1e-12, 1.0 - 1e-12)
            return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))

        best = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded",
                               options={"xatol": 1e-4})
        return cls(T=float(np.exp(best.x)), n_val=int(y.size))

    def apply(self, members: np.ndarray) -> np.ndarray:
        r"""Member probabilities :math:`\sigma(f_j / T)`, same shape, float64."""
        return expit(_logit(members) / self.T)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {"kind": "temperature", "T": self.T, "n_val": self.n_val}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Temperature:
        """Inverse of :meth:`to_dict`."""
        return cls(T=float(state["T"]), n_val=int(state["n_val"]))


#: A fitted recalibration: each kind has ``to_dict`` and ``n_val``; the scales ``factor``, the
#: local quantiles ``nodes`` (:func:`rescale_spread` applies either), the temperature
#: ``apply`` (to member probabilities).
Recalibration = VarianceScale | LocalScale | LocalQuantile | Temperature
_KINDS: dict[str, type[Recalibration]] = {
    "variance_scale": VarianceScale, "local_scale": LocalScale, "local_quantile": LocalQuantile,
    "temperature": Temperature,
}


def fit_recalibration(kind: str, z: np.ndarray, mean: np.ndarray, std: np.ndarray) -> Recalibration:
    """The regression recalibration ``kind`` fitted on validation targets ``z`` and the
    predictive ``mean``, ``std``, all model space (:class:`Temperature` is fitted on the
    members, by its ``fit``: asked for here it raises instead of reading ``mean`` as members)."""
    if kind == "temperature":
        raise ValueError(f"{kind!r} is fitted on a classifier's members (Temperature.fit), "
                         "not on a mean and spread")
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
    recalibration : VarianceScale, LocalScale or LocalQuantile
    mean, std : ndarray of shape (n_points,)
        Model-space (weighted) mean and spread.
    samples : ndarray of shape (n_members, n_points), optional
        Members, moved away from (or towards) ``mean`` by the factor.

    Returns
    -------
    std : ndarray of shape (n_points,)
    samples : ndarray of shape (n_members, n_points) or None
        For :class:`LocalQuantile`, always its ``n_nodes`` equally weighted members
        ``mean + std * nodes`` (they replace any given ``samples``).
    """
    if isinstance(recalibration, LocalQuantile):  # members symmetric about the centre
        shift, half = recalibration.centre_and_half_widths(std)
        offsets = std * half
        return np.sqrt(np.mean(offsets**2, axis=0)), _symmetric_members(mean + std * shift, offsets)
    c = recalibration.factor(std)
    return c * std, None if samples is None else mean + c * (samples - mean)
