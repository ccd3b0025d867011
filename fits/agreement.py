r"""Does a fit driven by surrogates land where the fit driven by the exact code lands?

Given draws :math:`x_i \sim \pi` from the prior that the exact code has labelled (the
reference data of the library are such draws over the pMSSM-19 box), each likelihood turns
them into an importance-sampled posterior, :math:`w_i \propto L(x_i)`, and an evidence

.. math:: \hat Z = \frac1N \sum_i L(x_i), \qquad
          \delta \ln \hat Z = \frac{\operatorname{sd}(L)}{\sqrt N\, \hat Z}

(the delta-method error of the mean). Computing :math:`L` once from the exact labels and
once from the surrogates, on the same draws, compares the two fits with no sampler noise
between them: what differs is the surrogates. :func:`compare_importance` reports

- the reference's effective sample size :math:`(\sum w_i)^2 / \sum w_i^2` (Kish), which sets
  how well the comparison resolves anything;
- per parameter, the 1-D Wasserstein distance of the two marginals in units of the prior
  width (``w1_prior``) and the weighted Kolmogorov-Smirnov distance (``ks``);
- :math:`\Delta \ln Z` in units of its combined error;
- for a set of region parameters (e.g. M1, M2, mu, tan beta), the overlap (intersection over
  union) of the two highest-posterior-density regions at 68 % and 95 %, on a grid of equal
  prior cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

from fits.closure.metrics import weighted_ks

__all__ = ["ImportancePosterior", "compare_importance", "hpd_cells"]


@dataclass(frozen=True)
class ImportancePosterior:
    """Prior draws weighted by a likelihood.

    Attributes
    ----------
    weights : ndarray of shape (n_draws,)
        Normalised posterior weights (zero where the likelihood is zero).
    log_evidence, log_evidence_error : float
        :math:`\\ln \\hat Z` and its standard error (``-inf`` and ``nan`` when every
        likelihood is zero).
    ess : float
        Kish's effective sample size of the weights.
    """

    weights: np.ndarray
    log_evidence: float
    log_evidence_error: float
    ess: float

    @classmethod
    def from_log_likelihood(cls, log_l: np.ndarray) -> ImportancePosterior:
        """Weights, evidence and ESS from log-likelihoods of shape (n_draws,) (``-inf`` allowed).

        Raises
        ------
        ValueError
            On NaN or ``+inf`` log-likelihoods, or no draws.
        """
        log_l = np.asarray(log_l, float)
        if log_l.ndim != 1 or log_l.size == 0:
            raise ValueError(f"log-likelihoods must be a non-empty 1-D array; got {log_l.shape}")
        if np.isnan(log_l).any() or np.isposinf(log_l).any():
            raise ValueError("log-likelihoods must not be NaN or +inf")
        n = log_l.size
        if np.isneginf(log_l).all():
            return cls(np.zeros(n), -np.inf, np.nan, 0.0)
        top = log_l.max()
        ratio = np.exp(log_l - top)
        mean = ratio.mean()
        weights = ratio / ratio.sum()
        return cls(
            weights=weights,
            log_evidence=float(top + np.log(mean)),
            log_evidence_error=float(ratio.std() / (np.sqrt(n) * mean)),
            ess=float(1.0 / np.sum(weights**2)),
        )


def hpd_cells(
    X: np.ndarray, weights: np.ndarray, lows: np.ndarray, highs: np.ndarray, level: float,
    bins: int,
) -> set[tuple[int, ...]]:
    """Grid cells of the highest-posterior-density region holding ``level`` of the mass.

    The box ``[lows, highs]`` of the columns of ``X`` (shape (n_draws, n_region)) is cut
    into ``bins`` equal cells per dimension (equal prior volume under a uniform prior, so
    mass ranks density); the region is the fewest cells whose weight reaches ``level``.
    """
    idx = np.clip(((X - lows) / (highs - lows) * bins).astype(int), 0, bins - 1)
    keys, inverse = np.unique(idx, axis=0, return_inverse=True)
    mass = np.bincount(inverse.ravel(), weights=weights, minlength=len(keys))
    order = np.argsort(mass)[::-1]
    n_cells = int(np.searchsorted(np.cumsum(mass[order]), level * mass.sum())) + 1
    return {tuple(keys[i]) for i in order[:n_cells]}


def compare_importance(
    X: np.ndarray,
    log_l_reference: np.ndarray,
    log_l_other: np.ndarray,
    names: Sequence[str],
    lows: Sequence[float],
    highs: Sequence[float],
    *,
    region: Sequence[str] = (),
    levels: Sequence[float] = (0.68, 0.95),
    bins: int = 6,
) -> tuple[dict[str, float], pd.DataFrame]:
    """Compare two importance-sampled posteriors on the same prior draws.

    Parameters
    ----------
    X : ndarray of shape (n_draws, n_dim)
        Prior draws.
    log_l_reference, log_l_other : ndarray of shape (n_draws,)
        Log-likelihoods from the exact labels and from the surrogates.
    names : sequence of str
        Column names of ``X``.
    lows, highs : sequence of float
        Prior box (the widths are the units of ``w1_prior``).
    region : sequence of str
        Parameters whose joint HPD regions are compared.
    levels : sequence of float
        Credibility levels of the regions.
    bins : int
        Cells per region parameter.

    Returns
    -------
    summary : dict
        ``ess_reference``, ``ess_other``, ``ln_z_reference``, ``ln_z_other``,
        ``ln_z_error`` (combined), ``delta_ln_z_sigmas``, ``max_w1_prior``,
        ``worst_parameter``, ``max_ks`` and ``overlap_<level>`` for each level.
    per_parameter : DataFrame indexed by parameter
        ``w1_prior``, ``ks``, and each posterior's mean.
    """
    X = np.asarray(X, float)
    names = list(names)
    lows, highs = np.asarray(lows, float), np.asarray(highs, float)
    ref = ImportancePosterior.from_log_likelihood(log_l_reference)
    oth = ImportancePosterior.from_log_likelihood(log_l_other)
    if ref.ess == 0 or oth.ess == 0:
        raise ValueError("a likelihood is zero at every draw: nothing to compare")
    rows = {}
    for j, name in enumerate(names):
        x = X[:, j]
        rows[name] = {
            "w1_prior": wasserstein_distance(x, x, ref.weights, oth.weights)
            / (highs[j] - lows[j]),
            "ks": weighted_ks(x, ref.weights, x, oth.weights),
            "mean_reference": float(ref.weights @ x),
            "mean_other": float(oth.weights @ x),
        }
    table = pd.DataFrame(rows).T
    error = float(np.hypot(ref.log_evidence_error, oth.log_evidence_error))
    delta = oth.log_evidence - ref.log_evidence
    summary: dict[str, float] = {
        "ess_reference": ref.ess,
        "ess_other": oth.ess,
        "ln_z_reference": ref.log_evidence,
        "ln_z_other": oth.log_evidence,
        "ln_z_error": error,
        "delta_ln_z_sigmas": float(delta / error) if error > 0 else float("inf"),
        "max_w1_prior": float(table["w1_prior"].max()),
        "worst_parameter": str(table["w1_prior"].idxmax()),
        "max_ks": float(table["ks"].max()),
    }
    if region:
        cols = [names.index(r) for r in region]
        for level in levels:
            a = hpd_cells(X[:, cols], ref.weights, lows[cols], highs[cols], level, bins)
            b = hpd_cells(X[:, cols], oth.weights, lows[cols], highs[cols], level, bins)
            summary[f"overlap_{level:g}"] = len(a & b) / len(a | b)
    return summary, table
