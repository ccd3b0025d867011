r"""Acquisition functions: how much a scan wants to test a point, given the surrogates.

For one constraint :math:`O = O^* \pm \sigma^*` and a surrogate predicting
:math:`O \sim \mathcal N(\mu(x), s(x)^2)`, each acquisition lies in :math:`[0, 1]` and reaches
1, so a proposal can rejection-sample it with the exact bound 1. With several constraints the
acquisitions multiply (the constraints are independent measurements).

``likelihood``
    :math:`\exp(-(\mu - O^*)^2 / 2\sigma^{*2})`, the surrogate likelihood of the Machine
    Learning Scan (Ren et al., arXiv:1708.06615), blind to :math:`s`.
``expected_likelihood``
    :math:`E[\exp(-(O - O^*)^2 / 2\sigma^{*2})] = \frac{\sigma^*}{\sqrt{\sigma^{*2}+s^2}}
    \exp(-(\mu - O^*)^2 / 2(\sigma^{*2}+s^2))`: the likelihood averaged over the surrogate's
    predictive (the ``quadrature`` propagation of :mod:`likelihoods.gaussian`).
``ucb``
    Upper confidence bound on the likelihood: the largest likelihood of any
    :math:`O \in [\mu - \kappa s, \mu + \kappa s]`,
    :math:`\exp(-\max(|\mu - O^*| - \kappa s, 0)^2 / 2\sigma^{*2})` (Srinivas et al.,
    arXiv:0912.3995, applied to the likelihood). Optimistic where the surrogate is unsure.
``target_probability``
    :math:`P(|O - O^*| \le n\sigma^*) = \Phi((O^* + n\sigma^* - \mu)/s) -
    \Phi((O^* - n\sigma^* - \mu)/s)`: the probability that the point lies in the target region
    (the level-set estimation criterion of Bryan et al., NIPS 2005). Sampling it fills the
    region uniformly where the surrogate is sure and keeps testing where it is not.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import ndtr

from fits.scan.constraints import Constraint

__all__ = ["ACQUISITIONS", "acquisition"]


def _likelihood(mu: np.ndarray, s: np.ndarray, c: Constraint, kappa: float) -> np.ndarray:
    return np.exp(-0.5 * ((mu - c.value) / c.sigma) ** 2)


def _expected_likelihood(mu: np.ndarray, s: np.ndarray, c: Constraint, kappa: float) -> np.ndarray:
    var = c.sigma**2 + s**2
    return c.sigma / np.sqrt(var) * np.exp(-0.5 * (mu - c.value) ** 2 / var)


def _ucb(mu: np.ndarray, s: np.ndarray, c: Constraint, kappa: float) -> np.ndarray:
    gap = np.maximum(np.abs(mu - c.value) - kappa * s, 0.0)
    return np.exp(-0.5 * (gap / c.sigma) ** 2)


def _target_probability(mu: np.ndarray, s: np.ndarray, c: Constraint, kappa: float) -> np.ndarray:
    inside = ((mu >= c.low) & (mu <= c.high)).astype(float)
    safe = np.where(s > 0, s, 1.0)
    prob = ndtr((c.high - mu) / safe) - ndtr((c.low - mu) / safe)
    return np.where(s > 0, prob, inside)


ACQUISITIONS: dict[str, Callable[..., np.ndarray]] = {
    "likelihood": _likelihood,
    "expected_likelihood": _expected_likelihood,
    "ucb": _ucb,
    "target_probability": _target_probability,
}


def acquisition(
    kind: str,
    means: dict[str, np.ndarray],
    stds: dict[str, np.ndarray],
    constraints: list[Constraint],
    kappa: float = 2.0,
) -> np.ndarray:
    """Acquisition values in [0, 1], shape (n_points,).

    Parameters
    ----------
    kind : {"likelihood", "expected_likelihood", "ucb", "target_probability"}
    means, stds : dict of str to ndarray of shape (n_points,)
        Surrogate predictive mean and standard deviation per observable.
    constraints : list of Constraint
    kappa : float
        Width of the ``ucb`` interval in predictive standard deviations.
    """
    if kind not in ACQUISITIONS:
        raise ValueError(f"unknown acquisition {kind!r}; choose one of {', '.join(ACQUISITIONS)}")
    fn = ACQUISITIONS[kind]
    value = np.ones_like(next(iter(means.values())), dtype=float)
    for c in constraints:
        mu, s = means[c.observable], np.maximum(stds[c.observable], 0.0)
        value *= np.where(np.isfinite(mu), fn(mu, s, c, kappa), 0.0)
    return value
