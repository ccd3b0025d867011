r"""Accuracy, calibration and classification metrics for surrogate predictions.

Every function takes arrays in *target units* (e.g. a cross-section :math:`\sigma` in fb, the
Higgs mass :math:`m_h` in GeV), never in the model space the surrogates learn in. A predictive
distribution is given either as a Gaussian (``mean``, ``std``, one pair per point) or as ensemble
members ``samples`` of shape (n_members, n_points), batch dimension first.

The definitions follow the papers whose numbers the benchmarks are compared with:

- B. S. Kronheim, M. P. Kuchera, H. B. Prosper, A. Karbo, *Bayesian Neural Networks for Fast
  SUSY Predictions*, Phys. Lett. B 813 (2021) 136041, arXiv:2007.04506 (mean absolute percent
  error; precision / recall with the "mean + 3 std" validity cut of its Table 3);
- G. Bertone, M. P. Deisenroth, J. S. Kim, S. Liem, R. Ruiz de Austri, M. Welling,
  *Accelerating the BSM interpretation of LHC data with machine learning*,
  Phys. Dark Univ. 24 (2019) 100293, arXiv:1611.02704 (:math:`\chi^2` of the pulls compared
  with the number of test points).

Inputs are validated once, at each public function: a ``ValueError`` names the offending
argument(s) and shapes, the number of NaN/inf values, or the number of non-positive standard
deviations and their minimum.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import erf
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

__all__ = [
    "calibration_curve",
    "calibration_curve_from_samples",
    "classification_metrics",
    "coverage",
    "interval_coverage",
    "mean_abs_percent_error",
    "nominal_coverage",
    "pit",
    "pit_from_samples",
    "pull_chi2",
    "pulls",
    "regression_metrics",
    "reliability_curve",
]

DEFAULT_LEVELS = np.arange(1, 100) / 100.0
"""Default nominal levels of the calibration curves: 0.01, 0.02, ..., 0.99."""


# --------------------------------------------------------------------------- validation


def _as_finite(name: str, x: ArrayLike) -> np.ndarray:
    """Return ``x`` as a float64 array with no NaN/inf, at least one element."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not numeric: {exc}") from None
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); need at least one point")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"{name} has {int(bad.sum())} non-finite value(s) (NaN or inf) out of {arr.size}"
        )
    return arr


def _as_points(name: str, x: ArrayLike) -> np.ndarray:
    """Return ``x`` as a finite float64 array of shape (n_points,)."""
    arr = _as_finite(name, x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must have shape (n_points,); got shape {arr.shape}")
    return arr


def _check_same_shape(**arrays: np.ndarray) -> None:
    """Raise if the named 1-D arrays differ in shape, naming every argument and shape."""
    shapes = {name: arr.shape for name, arr in arrays.items()}
    if len(set(shapes.values())) > 1:
        listing = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise ValueError(f"shape mismatch: {listing}; all must have shape (n_points,)")


def _check_positive_std(name: str, std: np.ndarray) -> None:
    bad = std <= 0
    if bad.any():
        raise ValueError(
            f"{name} must be > 0 everywhere; {int(bad.sum())} of {std.size} value(s) are <= 0 "
            f"(min {std.min():g})"
        )


def _gaussian_inputs(
    y_true: ArrayLike, mean: ArrayLike, std: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a Gaussian predictive ``(mean, std)`` against ``y_true``."""
    y = _as_points("y_true", y_true)
    m = _as_points("mean", mean)
    s = _as_points("std", std)
    _check_same_shape(y_true=y, mean=m, std=s)
    _check_positive_std("std", s)
    return y, m, s


def _sample_inputs(y_true: ArrayLike, samples: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate ensemble ``samples`` of shape (n_members, n_points) against ``y_true``."""
    y = _as_points("y_true", y_true)
    s = _as_finite("samples", samples)
    if s.ndim != 2 or s.shape[1] != y.shape[0]:
        raise ValueError(
            f"samples must have shape (n_members, n_points) = (n_members, {y.shape[0]}) to "
            f"match y_true of shape {y.shape}; got samples of shape {s.shape}"
        )
    return y, s


def _check_levels(levels: ArrayLike | None) -> np.ndarray:
    if levels is None:
        return DEFAULT_LEVELS.copy()
    lv = _as_finite("levels", levels)
    if lv.ndim != 1:
        raise ValueError(f"levels must have shape (n_levels,); got shape {lv.shape}")
    outside = (lv <= 0) | (lv >= 1)
    if outside.any():
        raise ValueError(
            f"levels must lie strictly inside (0, 1); {int(outside.sum())} of {lv.size} do not "
            f"(min {lv.min():g}, max {lv.max():g})"
        )
    return lv


def _check_k(k: float | Sequence[float] | np.ndarray) -> np.ndarray:
    kk = np.atleast_1d(_as_finite("k", k))
    if kk.ndim != 1:
        raise ValueError(f"k must be a number or have shape (n_k,); got shape {kk.shape}")
    bad = kk <= 0
    if bad.any():
        raise ValueError(
            f"k must be > 0; {int(bad.sum())} of {kk.size} value(s) are <= 0 (min {kk.min():g})"
        )
    return kk


# --------------------------------------------------------------------------- kernels
# Private kernels trust their (validated) inputs.


def _abs_percent_errors(y: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    zero = y == 0
    if zero.any():
        raise ValueError(
            f"percent error is undefined where y_true == 0; {int(zero.sum())} of {y.size} "
            "value(s) of y_true are 0"
        )
    return 100.0 * np.abs(y_pred - y) / np.abs(y)


def _coverage(abs_pulls: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Fraction of ``abs_pulls <= k`` for each ``k``; O(n log n) via one sort."""
    return np.searchsorted(np.sort(abs_pulls), k, side="right") / abs_pulls.size


def _quantile_sorted(sorted_samples: np.ndarray, q: float) -> np.ndarray:
    r"""Quantile ``q`` along axis 0 of pre-sorted samples, numpy's default "linear" method.

    Hyndman & Fan type 7: position :math:`h = (M - 1) q`, linear interpolation between the
    order statistics :math:`x_{(\lfloor h \rfloor)}` and :math:`x_{(\lfloor h \rfloor + 1)}`
    (0-based), as :func:`numpy.quantile` does.
    """
    n_members = sorted_samples.shape[0]
    h = (n_members - 1) * q
    lo = int(np.floor(h))
    hi = min(lo + 1, n_members - 1)
    return sorted_samples[lo] + (h - lo) * (sorted_samples[hi] - sorted_samples[lo])


def _binary_scores(y: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    """(precision, recall, F1) with 0.0 for a zero denominator, as sklearn's zero_division=0."""
    tp = int(np.sum(predicted & y))
    fp = int(np.sum(predicted & ~y))
    fn = int(np.sum(~predicted & y))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return precision, recall, f1


# --------------------------------------------------------------------------- regression


def mean_abs_percent_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    r"""Mean absolute percent error, in percent.

    .. math::

        \mathrm{MAPE} = \frac{100}{n} \sum_{i=1}^{n}
            \frac{|\hat y_i - y_i|}{|y_i|}

    the "mean absolute percent error" of the tables of Kronheim et al., arXiv:2007.04506,
    computed in target units (e.g. :math:`\sigma` in fb, not :math:`\ln\sigma`).

    Parameters
    ----------
    y_true : array-like of shape (n_points,)
        True values, target units; none may be 0.
    y_pred : array-like of shape (n_points,)
        Predicted values (e.g. the predictive mean), same units.

    Returns
    -------
    float
        MAPE in percent (5.0 means 5 %).

    Raises
    ------
    ValueError
        On mismatched shapes, NaN/inf, or any ``y_true == 0``.
    """
    y = _as_points("y_true", y_true)
    yp = _as_points("y_pred", y_pred)
    _check_same_shape(y_true=y, y_pred=yp)
    return float(np.mean(_abs_percent_errors(y, yp)))


def nominal_coverage(k: float | ArrayLike) -> float | np.ndarray:
    r"""Probability that a Gaussian variable lies within ``k`` standard deviations of its mean.

    .. math::

        P(|y - \mu| \le k\sigma) = \operatorname{erf}\!\left(k / \sqrt{2}\right)

    i.e. 0.6827, 0.9545, 0.9973 for ``k`` = 1, 2, 3.

    Parameters
    ----------
    k : float or array-like of shape (n_k,)
        Half-widths in units of the standard deviation, > 0.

    Returns
    -------
    float or ndarray of shape (n_k,)
        Fractions in (0, 1); a float for a scalar ``k``.
    """
    kk = _check_k(k)
    nominal = erf(kk / np.sqrt(2.0))
    return float(nominal[0]) if np.ndim(k) == 0 else nominal


def coverage(
    y_true: ArrayLike,
    mean: ArrayLike,
    std: ArrayLike,
    k: float | Sequence[float] | np.ndarray = (1, 2, 3),
) -> dict[float, float]:
    r"""Observed fraction of points inside the :math:`\pm k\sigma` band of a Gaussian predictive.

    .. math::

        c(k) = \frac{1}{n} \sum_{i=1}^{n} \mathbb 1\!\left[|y_i - \mu_i| \le k\,\sigma_i\right]

    For a calibrated predictive :math:`c(k) \to` :func:`nominal_coverage` ``(k)`` (68.27 %,
    95.45 %, 99.73 % for k = 1, 2, 3), with binomial standard error
    :math:`\sqrt{c(1-c)/n}`.

    Parameters
    ----------
    y_true : array-like of shape (n_points,)
        True values, target units.
    mean, std : array-like of shape (n_points,)
        Predictive mean and standard deviation, same units; ``std > 0``.
    k : float or sequence of float
        Half-widths in units of ``std``, each > 0.

    Returns
    -------
    dict of float to float
        ``{float(k_j): c(k_j)}``, fractions in [0, 1].

    Raises
    ------
    ValueError
        On mismatched shapes, NaN/inf, ``std <= 0`` or ``k <= 0``.
    """
    y, m, s = _gaussian_inputs(y_true, mean, std)
    kk = _check_k(k)
    observed = _coverage(np.abs(y - m) / s, kk)
    return {float(kj): float(cj) for kj, cj in zip(kk, observed, strict=True)}


def interval_coverage(
    y_true: ArrayLike,
    samples: ArrayLike,
    k: float | Sequence[float] | np.ndarray = (1, 2, 3),
) -> dict[float, float]:
    r"""Observed fraction of points inside the central k-sigma-equivalent interval of members.

    The interval of point :math:`i` at probability :math:`a_k =` :func:`nominal_coverage`
    ``(k)`` (68.27, 95.45, 99.73 % for k = 1, 2, 3) runs between the quantiles
    :math:`Q_i((1 - a_k)/2)` and :math:`Q_i((1 + a_k)/2)` of its :math:`M` equally weighted
    members, read at Hazen's plotting positions: the :math:`j`-th smallest member is the
    quantile at :math:`(j - 1/2)/M`, linear in between, the outermost members beyond
    (numpy's ``method="hazen"``). No Gaussian shape is assumed: for a heavy-tailed
    predictive the interval of 68 % is narrower than :math:`\pm 1` standard deviation and the
    one of 99.7 % wider than :math:`\pm 3`.

    .. math::

        c(k) = \frac{1}{n} \sum_{i=1}^{n}
            \mathbb 1\!\left[Q_i\big(\tfrac{1-a_k}{2}\big) \le y_i
            \le Q_i\big(\tfrac{1+a_k}{2}\big)\right]

    Parameters
    ----------
    y_true : array-like of shape (n_points,)
        True values, target units.
    samples : array-like of shape (n_members, n_points)
        Equally weighted members (batch dimension first), same units.
    k : float or sequence of float
        Gaussian-equivalent half-widths, each > 0.

    Returns
    -------
    dict of float to float
        ``{float(k_j): c(k_j)}``, fractions in [0, 1].

    Raises
    ------
    ValueError
        On a ``samples`` shape other than (n_members, n_points), NaN/inf, or ``k <= 0``.
    """
    y, s = _sample_inputs(y_true, samples)
    kk = _check_k(k)
    a = nominal_coverage(kk)
    lo = np.quantile(s, 0.5 * (1.0 - a), axis=0, method="hazen")  # (n_k, n_points)
    hi = np.quantile(s, 0.5 * (1.0 + a), axis=0, method="hazen")
    inside = ((lo <= y) & (y <= hi)).mean(axis=1)
    return {float(kj): float(cj) for kj, cj in zip(kk, inside, strict=True)}


def calibration_curve(
    y_true: ArrayLike,
    mean: ArrayLike,
    std: ArrayLike,
    levels: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Observed coverage of central Gaussian intervals against their nominal level.

    For each nominal level :math:`a`, the central interval
    :math:`\mu_i \pm z_a \sigma_i` with :math:`z_a = \Phi^{-1}\big((1 + a)/2\big)` and

    .. math::

        \hat c(a) = \frac{1}{n} \sum_{i=1}^{n}
            \mathbb 1\!\left[|y_i - \mu_i| \le z_a\,\sigma_i\right].

    A calibrated predictive gives :math:`\hat c(a) = a` within the binomial error
    :math:`\sqrt{a(1-a)/n}`; a curve below the diagonal means over-confident (too small)
    ``std``.

    Parameters
    ----------
    y_true : array-like of shape (n_points,)
        True values, target units.
    mean, std : array-like of shape (n_points,)
        Predictive mean and standard deviation, same units; ``std > 0``.
    levels : array-like of shape (n_levels,), optional
        Nominal levels strictly inside (0, 1); default the 99 levels 0.01, 0.02, ..., 0.99.

    Returns
    -------
    nominal : ndarray of shape (n_levels,)
        The levels :math:`a`.
    observed : ndarray of shape (n_levels,)
        :math:`\hat c(a)`, fractions in [0, 1].

    Raises
    ------
    ValueError
        On mismatched shapes, NaN/inf, ``std <= 0`` or levels outside (0, 1).
    """
    y, m, s = _gaussian_inputs(y_true, mean, std)
    nominal = _check_levels(levels)
    z = norm.ppf(0.5 * (1.0 + nominal))
    return nominal, _coverage(np.abs(y - m) / s, z)


def calibration_curve_from_samples(
    y_true: ArrayLike,
    samples: ArrayLike,
    levels: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Observed coverage of central empirical intervals of ensemble members.

    For each nominal level :math:`a`, the interval of point :math:`i` runs between the
    empirical quantiles :math:`Q_i\big((1-a)/2\big)` and :math:`Q_i\big((1+a)/2\big)` of its
    :math:`M` members (numpy's default linear interpolation, Hyndman & Fan type 7), and

    .. math::

        \hat c(a) = \frac{1}{n} \sum_{i=1}^{n}
            \mathbb 1\!\left[Q_i\big(\tfrac{1-a}{2}\big) \le y_i
            \le Q_i\big(\tfrac{1+a}{2}\big)\right].

    No Gaussian shape is assumed. With finitely many members the expected coverage of these
    intervals, for members and :math:`y` drawn from the same distribution, is about
    :math:`a\,(M-1)/(M+1)` (exactly so for a uniform predictive): a small ensemble looks
    slightly over-confident even when it is calibrated.

    Parameters
    ----------
    y_true : array-like of shape (n_points,)
        True values, target units.
    samples : array-like of shape (n_members, n_points)
        Ensemble members or posterior draws, batch dimension first, same units.
    levels : array-like of shape (n_levels,), optional
        Nominal levels strictly inside (0, 1); default the 99 levels 0.01, 0.02, ..., 0.99.

    Returns
    -------
    nominal : ndarray of shape (n_levels,)
        The levels :math:`a`.
    observed : ndarray of shape (n_levels,)
        :math:`\hat c(a)`, fractions in [0, 1].

    Raises
    ------
    ValueError
        On a ``samples`` shape other than (n_members, n_points), NaN/inf, or levels outside
        (0, 1).
    """
    y, s = _sample_inputs(y_true, samples)
    nominal = _check_levels(levels)
    ordered = np.sort(s, axis=0)
    observed = np.empty_like(nominal)
    for j, a in enumerate(nominal):
        lo = _quantile_sorted(ordered, 0.5 * (1.0 - a))
        hi = _quantile_sorted(ordered, 0.5 * (1.0 + a))
        observed[j] = np.mean((lo <= y) & (y <= hi))
    return nominal, observed


def pit(y_true: ArrayLike, mean: ArrayLike, std: ArrayLike) -> np.ndarray:
    r"""Gaussian probability integral transform of each true value.

    .. math::

        u_i = \Phi\!\left(\frac{y_i - \mu_i}{\sigma_i}\right)

    Uniform on [0, 1] for a calibrated predictive; U-shaped if ``std`` is too small,
    hump-shaped if too large, skewed if ``mean`` is biased.

    Parameters
    ----------
    y_true : array-like of shape (n_points,)
        True values, target units.
    mean, std : array-like of shape (n_points,)
        Predictive mean and standard deviation, same units; ``std > 0``.

    Returns
    -------
    ndarray of shape (n_points,)
        PIT values in [0, 1].

    Raises
    ------
    ValueError
        On mismatched shapes, NaN/inf or ``std <= 0``.
    """
    y, m, s = _gaussian_inputs(y_true, mean, std)
    return norm.cdf((y - m) / s)


def pit_from_samples(y_true: ArrayLike, samples: ArrayLike) -> np.ndarray:
    r"""Empirical probability integral transform: fraction of members below each true value.

    .. math::

        u_i = \frac{1}{M} \sum_{m=1}^{M}
            \left(\mathbb 1[s_{mi} < y_i] + \tfrac12\,\mathbb 1[s_{mi} = y_i]\right)

    (ties count half). For :math:`y_i` and :math:`M` continuous members drawn from the same
    distribution, :math:`u_i` is uniform on the :math:`M + 1` values :math:`0, 1/M, \dots, 1`.

    Parameters
    ----------
    y_true : array-like of shape (n_points,)
        True values, target units.
    samples : array-like of shape (n_members, n_points)
        Ensemble members or posterior draws, batch dimension first, same units.

    Returns
    -------
    ndarray of shape (n_points,)
        PIT values in [0, 1].

    Raises
    ------
    ValueError
        On a ``samples`` shape other than (n_members, n_points), or NaN/inf.
    """
    y, s = _sample_inputs(y_true, samples)
    below = np.sum(s < y, axis=0)
    ties = np.sum(s == y, axis=0)
    return (below + 0.5 * ties) / s.shape[0]


def pulls(y_true: ArrayLike, mean: ArrayLike, std: ArrayLike) -> np.ndarray:
    r"""Pull of each true value with respect to a Gaussian predictive.

    .. math::

        p_i = \frac{y_i - \mu_i}{\sigma_i}

    Standard normal for a calibrated predictive.

    Parameters
    ----------
    y_true : array-like of shape (n_points,)
        True values, target units.
    mean, std : array-like of shape (n_points,)
        Predictive mean and standard deviation, same units; ``std > 0``.

    Returns
    -------
    ndarray of shape (n_points,)
        Dimensionless pulls; positive where the truth lies above the prediction.

    Raises
    ------
    ValueError
        On mismatched shapes, NaN/inf or ``std <= 0``.
    """
    y, m, s = _gaussian_inputs(y_true, mean, std)
    return (y - m) / s


def pull_chi2(y_true: ArrayLike, mean: ArrayLike, std: ArrayLike) -> dict[str, float | int]:
    r""":math:`\chi^2` of the pulls, compared with the number of test points.

    .. math::

        \chi^2 = \sum_{i=1}^{n} \left(\frac{y_i - \mu_i}{\sigma_i}\right)^2,
        \qquad \mathrm{dof} = n

    As in Bertone et al., arXiv:1611.02704, :math:`\chi^2` is compared with the number of test
    points: no parameters are fitted to the test set, so all :math:`n` are degrees of freedom.
    For a calibrated predictive :math:`\chi^2/n = 1 \pm \sqrt{2/n}`.

    Parameters
    ----------
    y_true : array-like of shape (n_points,)
        True values, target units.
    mean, std : array-like of shape (n_points,)
        Predictive mean and standard deviation, same units; ``std > 0``.

    Returns
    -------
    dict
        ``chi2`` (float), ``dof`` (int, = n_points), ``chi2_per_dof`` (float).

    Raises
    ------
    ValueError
        On mismatched shapes, NaN/inf or ``std <= 0``.
    """
    y, m, s = _gaussian_inputs(y_true, mean, std)
    chi2 = float(np.sum(((y - m) / s) ** 2))
    return {"chi2": chi2, "dof": y.size, "chi2_per_dof": chi2 / y.size}


def regression_metrics(
    y_true: ArrayLike, mean: ArrayLike, std: ArrayLike
) -> dict[str, float | int]:
    r"""All regression metrics of a Gaussian predictive, as one flat dict for reports.

    With :math:`e_i = 100\,|\mu_i - y_i|/|y_i|` (percent) and :math:`p_i = (y_i-\mu_i)/\sigma_i`:

    .. math::

        \mathrm{MAPE} = \operatorname{mean}_i e_i, \quad
        \mathrm{MdAPE} = \operatorname{median}_i e_i, \quad
        \mathrm{RMSE} = \sqrt{\tfrac1n \textstyle\sum_i (\mu_i - y_i)^2}, \quad
        \chi^2 = \textstyle\sum_i p_i^2,

    and the coverages :math:`c(k)` of :func:`coverage` for k = 1, 2, 3.

    Parameters
    ----------
    y_true : array-like of shape (n_points,)
        True values, target units; none may be 0 (percent errors).
    mean, std : array-like of shape (n_points,)
        Predictive mean and standard deviation, same units; ``std > 0``.

    Returns
    -------
    dict
        ``mape_percent`` (see :func:`mean_abs_percent_error`, percent),
        ``coverage_1std``, ``coverage_2std``, ``coverage_3std`` (fractions),
        ``chi2``, ``dof``, ``chi2_per_dof`` (see :func:`pull_chi2`),
        ``median_abs_percent_error`` (percent), ``rmse`` (target units),
        ``n_points`` (int).

    Raises
    ------
    ValueError
        On mismatched shapes, NaN/inf, ``std <= 0`` or any ``y_true == 0``.
    """
    y, m, s = _gaussian_inputs(y_true, mean, std)
    ape = _abs_percent_errors(y, m)
    p = (y - m) / s
    c1, c2, c3 = _coverage(np.abs(p), np.array([1.0, 2.0, 3.0]))
    chi2 = float(np.sum(p**2))
    return {
        "mape_percent": float(np.mean(ape)),
        "coverage_1std": float(c1),
        "coverage_2std": float(c2),
        "coverage_3std": float(c3),
        "chi2": chi2,
        "dof": y.size,
        "chi2_per_dof": chi2 / y.size,
        "median_abs_percent_error": float(np.median(ape)),
        "rmse": float(np.sqrt(np.mean((m - y) ** 2))),
        "n_points": y.size,
    }


# --------------------------------------------------------------------------- classification


def classification_metrics(
    y_true: ArrayLike,
    p_mean: ArrayLike,
    p_std: ArrayLike | None = None,
    threshold: float = 0.5,
) -> dict[str, float | int]:
    r"""Precision, recall, F1, accuracy and ROC AUC of a probabilistic validity classifier.

    A point is predicted valid when :math:`\bar p_i > t` (strictly). With the counts of true
    positives, false positives and false negatives,

    .. math::

        P = \frac{TP}{TP + FP}, \quad R = \frac{TP}{TP + FN}, \quad
        F_1 = \frac{2PR}{P + R} = \frac{2\,TP}{2\,TP + FP + FN}.

    Given ``p_std``, the same scores are also computed for the cut of Kronheim et al.,
    arXiv:2007.04506, Table 3: a point is called valid when :math:`\bar p_i + 3 s_i > t`.
    This cut only adds predicted positives, so its recall is never lower than the plain one.

    A zero denominator (nothing predicted positive for :math:`P`, no positive label for
    :math:`R`, neither for :math:`F_1`) gives 0.0, as sklearn's ``zero_division=0``.
    ``roc_auc`` (of ``p_mean``) is NaN when ``y_true`` holds only one class.

    Parameters
    ----------
    y_true : array-like of shape (n_points,)
        Labels, 1 = valid, 0 = invalid (bool or numeric).
    p_mean : array-like of shape (n_points,)
        Predictive mean probability of being valid, in [0, 1].
    p_std : array-like of shape (n_points,), optional
        Predictive standard deviation of that probability, >= 0 (0 is allowed: a point with
        no spread is cut on its mean alone).
    threshold : float
        Cut :math:`t` in [0, 1].

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1`` (cut on ``p_mean``); with ``p_std`` also
        ``precision_3std``, ``recall_3std``, ``f1_3std`` (cut on ``p_mean + 3 p_std``);
        ``roc_auc``; ``accuracy`` (cut on ``p_mean``); ``brier`` (mean squared error of
        ``p_mean``); ``ece`` (expected calibration error, :func:`reliability_curve`);
        ``n_points`` (int).

    Raises
    ------
    ValueError
        On mismatched shapes, NaN/inf, labels other than 0/1, ``p_mean`` outside [0, 1],
        ``p_std < 0`` or ``threshold`` outside [0, 1].
    """
    labels = _as_points("y_true", y_true)
    pm = _as_points("p_mean", p_mean)
    ps = None if p_std is None else _as_points("p_std", p_std)
    _check_same_shape(y_true=labels, p_mean=pm, **({} if ps is None else {"p_std": ps}))
    not_binary = (labels != 0) & (labels != 1)
    if not_binary.any():
        raise ValueError(
            f"y_true must hold only labels 0 and 1; {int(not_binary.sum())} of {labels.size} "
            f"value(s) do not (e.g. {labels[not_binary][0]:g})"
        )
    outside = (pm < 0) | (pm > 1)
    if outside.any():
        raise ValueError(
            f"p_mean must lie in [0, 1]; {int(outside.sum())} of {pm.size} value(s) do not "
            f"(min {pm.min():g}, max {pm.max():g})"
        )
    if ps is not None and (ps < 0).any():
        raise ValueError(
            f"p_std must be >= 0; {int((ps < 0).sum())} of {ps.size} value(s) are < 0 "
            f"(min {ps.min():g})"
        )
    if not (np.isfinite(threshold) and 0 <= threshold <= 1):
        raise ValueError(f"threshold must lie in [0, 1]; got {threshold!r}")

    y = labels == 1
    predicted = pm > threshold
    precision, recall, f1 = _binary_scores(y, predicted)
    out: dict[str, float | int] = {"precision": precision, "recall": recall, "f1": f1}
    if ps is not None:
        p3, r3, f3 = _binary_scores(y, pm + 3.0 * ps > threshold)
        out.update({"precision_3std": p3, "recall_3std": r3, "f1_3std": f3})
    both_classes = y.any() and not y.all()
    out["roc_auc"] = float(roc_auc_score(y, pm)) if both_classes else float("nan")
    out["accuracy"] = float(np.mean(predicted == y))
    out["brier"] = float(np.mean((pm - y) ** 2))
    curve = reliability_curve(labels, pm)
    gap = np.abs(curve["mean_predicted"] - curve["fraction_valid"])
    out["ece"] = float(np.sum(curve["count"] * gap) / y.size)
    out["n_points"] = y.size
    return out


def reliability_curve(
    y_true: ArrayLike, p_mean: ArrayLike, n_bins: int = 10
) -> dict[str, np.ndarray]:
    r"""Reliability diagram of a probabilistic classifier: equal-width bins of ``p_mean``.

    In bin :math:`b` (edges :math:`b/B, (b+1)/B`; the last bin includes 1) the mean predicted
    probability :math:`\bar p_b` against the fraction of valid points :math:`\bar y_b`; the
    expected calibration error (Naeini, Cooper & Hauskrecht, AAAI 2015) is
    :math:`\mathrm{ECE} = \sum_b \frac{n_b}{n}\,|\bar p_b - \bar y_b|`.

    Returns
    -------
    dict
        ``mean_predicted``, ``fraction_valid``, ``count``: arrays of the non-empty bins.
    """
    y = _as_points("y_true", y_true)
    pm = _as_points("p_mean", p_mean)
    _check_same_shape(y_true=y, p_mean=pm)
    idx = np.clip((pm * n_bins).astype(int), 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins).astype(float)
    keep = count > 0
    mean_p = np.bincount(idx, weights=pm, minlength=n_bins)[keep] / count[keep]
    frac = np.bincount(idx, weights=y, minlength=n_bins)[keep] / count[keep]
    return {"mean_predicted": mean_p, "fraction_valid": frac, "count": count[keep]}
