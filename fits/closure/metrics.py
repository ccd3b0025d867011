r"""How far a posterior is from a reference one, and where true values lie in it.

:func:`compare_posteriors` measures it parameter by parameter: the 1-D Wasserstein distance
(in units of the reference posterior std), the two-sample Kolmogorov–Smirnov statistic of the
weighted ECDFs (:func:`weighted_ks`), the overlap of the credible intervals (intersection over
union) and the ratio of their widths.

:func:`truth_position` says where the true value lies in each marginal posterior: its
posterior-probability integral (PPI, :math:`P(\theta < \theta_\text{true} \mid y)`, uniform
over repeated experiments for a calibrated posterior, cf. the simulation-based calibration
of Talts et al., arXiv:1804.06788), its distance from the posterior mean in posterior std,
and whether it lies in the equal-tailed credible interval. An L-shaped posterior has broad
marginals that hide a shifted ridge, so a closure test also scores the *true observable
pushed forward through the posterior*, :math:`m(\theta)` with :math:`\theta \sim p(\theta
\mid y)` (:func:`push_forward`): a fit that trusts a biased surrogate puts the ridge where the
surrogate, not the true function, matches the measurement, and the true observable's
posterior misses its measured value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

from fits.priors import Prior
from fits.results import FitResult, weighted_quantile

__all__ = ["compare_posteriors", "push_forward", "truth_position", "weighted_ks"]


def weighted_ks(x: np.ndarray, wx: np.ndarray, y: np.ndarray, wy: np.ndarray) -> float:
    """Kolmogorov–Smirnov statistic: largest gap between two weighted ECDFs."""
    grid = np.sort(np.concatenate([x, y]))

    def ecdf(v, w):
        order = np.argsort(v)
        cum = np.cumsum(w[order]) / w.sum()
        return np.concatenate([[0.0], cum])[np.searchsorted(v[order], grid, side="right")]

    return float(np.max(np.abs(ecdf(x, wx) - ecdf(y, wy))))


def compare_posteriors(reference: FitResult, other: FitResult, level: float = 0.95) -> pd.DataFrame:
    """Per-parameter distances between ``other``'s marginals and ``reference``'s.

    Returns
    -------
    DataFrame indexed by parameter
        ``wasserstein`` (in units of the reference std), ``ks``, ``ci_overlap``
        (intersection over union of the equal-tailed ``level`` intervals) and
        ``width_ratio`` (other's interval width over the reference's).
    """
    if reference.parameter_names != other.parameter_names:
        raise ValueError(
            f"the fits have different free parameters: {reference.parameter_names} vs "
            f"{other.parameter_names}"
        )
    q = [(1 - level) / 2, (1 + level) / 2]
    rows = {}
    for name in reference.parameter_names:
        x, wx = reference.samples[name].to_numpy(), reference.weights
        y, wy = other.samples[name].to_numpy(), other.weights
        std = np.sqrt(wx @ (x - wx @ x) ** 2)
        lo1, hi1 = weighted_quantile(x, q, wx)
        lo2, hi2 = weighted_quantile(y, q, wy)
        inter = max(0.0, min(hi1, hi2) - max(lo1, lo2))
        rows[name] = {
            "wasserstein": wasserstein_distance(x, y, wx, wy) / std,
            "ks": weighted_ks(x, wx, y, wy),
            "ci_overlap": inter / (max(hi1, hi2) - min(lo1, lo2)),
            "width_ratio": (hi2 - lo2) / (hi1 - lo1),
        }
    return pd.DataFrame(rows).T


def truth_position(
    result: FitResult, truth: Mapping[str, float], level: float = 0.95
) -> pd.DataFrame:
    """Where true values lie in the marginal posteriors of ``result``.

    Parameters
    ----------
    result : FitResult
    truth : mapping of str to float
        True value per column of ``result.samples`` (free parameters or derived columns such
        as those added by :func:`push_forward`).
    level : float
        Credible level of the equal-tailed interval.

    Returns
    -------
    DataFrame indexed by column
        ``ppi`` (posterior mass below the truth), ``pull`` ((truth - mean) / std), ``inside``
        (the truth lies in the ``level`` interval), ``std`` and ``width`` (of the interval).
    """
    q = [(1 - level) / 2, (1 + level) / 2]
    w = result.weights
    rows = {}
    for name, value in truth.items():
        x = result.samples[name].to_numpy()
        mean = w @ x
        std = np.sqrt(w @ (x - mean) ** 2)
        lo, hi = weighted_quantile(x, q, w)
        rows[name] = {
            "ppi": float(w[x < value].sum()),
            "pull": (value - mean) / std,
            "inside": bool(lo <= value <= hi),
            "std": std,
            "width": hi - lo,
        }
    return pd.DataFrame(rows).T


def push_forward(
    result: FitResult, prior: Prior, fn: Callable[[np.ndarray], np.ndarray], name: str
) -> FitResult:
    """``result`` with a column ``name`` = ``fn`` at each posterior sample's full point.

    ``fn`` maps points (n, n_dim) of the prior's space to values (n,), e.g.
    :func:`~fits.closure.chargino.light_chargino_mass`.
    """
    samples = result.samples.copy()
    samples[name] = fn(prior.to_full(samples[result.parameter_names].to_numpy()))
    return FitResult(**{**result.__dict__, "samples": samples})
