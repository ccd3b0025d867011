r"""Closure tests: a fit with a surrogate against the same fit with the true function.

The *true function* is an analytic observable of the pMSSM-19 parameters that is cheap to
evaluate: the tree-level mass of the lightest chargino (Martin, "A Supersymmetry Primer",
hep-ph/9709356, eqs. 8.2.5-8.2.6). With the chargino mass matrix

.. math:: X = \begin{pmatrix} M_2 & \sqrt2\, m_W \sin\beta \\ \sqrt2\, m_W\cos\beta & \mu
          \end{pmatrix},

the masses are its singular values,

.. math:: m^2_{\tilde\chi^\pm_{1,2}} = \tfrac12\Big[A \mp \sqrt{A^2 - 4\,|\mu M_2 - m_W^2
          \sin 2\beta|^2}\Big], \qquad A = M_2^2 + \mu^2 + 2 m_W^2,

a smooth function of :math:`(M_2, \mu, \tan\beta)` with a ridge where :math:`|M_2| \approx
|\mu|` (wino-higgsino mixing): a fit to a measured chargino mass has a curved, L-shaped
posterior in :math:`(M_2, \mu)`, a fair test for samplers and surrogates alike.

:func:`compare_posteriors` measures how far a posterior is from a reference one, parameter by
parameter: the 1-D Wasserstein distance (in units of the reference posterior std), the
two-sample Kolmogorov–Smirnov statistic of the weighted ECDFs, the overlap of the credible
intervals (intersection over union) and the ratio of their widths.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

from fits.results import FitResult, weighted_quantile
from surrogates.space import parameter_index

__all__ = ["M_W", "compare_posteriors", "light_chargino_mass", "weighted_ks"]

M_W = 80.379  # GeV, PDG 2020 W mass


def light_chargino_mass(X: np.ndarray) -> np.ndarray:
    """Tree-level mass of the lightest chargino, GeV.

    Parameters
    ----------
    X : ndarray of shape (n, 19)
        pMSSM-19 points (uses ``M2``, ``mu`` and ``tanb``).

    Returns
    -------
    ndarray of shape (n,)
    """
    m2 = X[:, parameter_index("M2")]
    mu = X[:, parameter_index("mu")]
    beta = np.arctan(X[:, parameter_index("tanb")])
    a = m2**2 + mu**2 + 2 * M_W**2
    det = mu * m2 - M_W**2 * np.sin(2 * beta)
    return np.sqrt(0.5 * (a - np.sqrt(np.maximum(a**2 - 4 * det**2, 0.0))))


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
