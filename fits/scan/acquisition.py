r"""Acquisition functions: how much a scan wants to test a point, given the surrogates.

For one likelihood term (:class:`~fits.scan.steering.Steering`) with its exact likelihood
:math:`L(O)`, peaking at :math:`O^*`, and a surrogate predicting :math:`O \sim \mathcal N(\mu(x),
s(x)^2)`, each acquisition lies in :math:`[0, 1]` and reaches 1, so a proposal can
rejection-sample it with the exact bound 1. With several terms the acquisitions multiply (the
terms are independent measurements). The formulas in brackets are those of a Gaussian
measurement :math:`O^* \pm \sigma^*`.

``likelihood``
    :math:`L(\mu) / L(O^*)` [:math:`\exp(-(\mu - O^*)^2 / 2\sigma^{*2})`], the surrogate
    likelihood of the Machine Learning Scan (Ren et al., arXiv:1708.06615), blind to :math:`s`.
``expected_likelihood``
    The term's own propagation of :math:`s` (``uncertainty`` of the term) over
    :math:`L(O^*)`; for the Gaussian with ``uncertainty="quadrature"`` the likelihood averaged
    over the surrogate's predictive [:math:`\frac{\sigma^*}{\sqrt{\sigma^{*2}+s^2}}
    \exp(-(\mu - O^*)^2 / 2(\sigma^{*2}+s^2))`].
``ucb``
    Upper confidence bound on the likelihood: the largest likelihood of any
    :math:`O \in [\mu - \kappa s, \mu + \kappa s]`, :math:`L(\mathrm{clip}(O^*, \mu - \kappa s,
    \mu + \kappa s)) / L(O^*)` [:math:`\exp(-\max(|\mu - O^*| - \kappa s, 0)^2 /
    2\sigma^{*2})`] (Srinivas et al., arXiv:0912.3995, applied to the likelihood). Optimistic
    where the surrogate is unsure.
``target_probability``
    :math:`P(O_\text{low} \le O \le O_\text{high}) = \Phi((O_\text{high} - \mu)/s) -
    \Phi((O_\text{low} - \mu)/s)` [:math:`O^* \pm n\sigma^*`]: the probability that the point
    lies in the term's target region (the level-set estimation criterion of Bryan et al.,
    NIPS 2005). Sampling it fills the region uniformly where the surrogate is sure and keeps
    testing where it is not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.special import ndtr

from fits.scan.steering import Steering

__all__ = ["ACQUISITIONS", "acquisition"]


def _likelihood(mu: np.ndarray, s: np.ndarray, st: Steering, kappa: float) -> np.ndarray:
    return np.exp(st.log_ratio(mu, np.zeros_like(mu)))


def _expected_likelihood(mu: np.ndarray, s: np.ndarray, st: Steering, kappa: float) -> np.ndarray:
    return np.exp(st.log_ratio(mu, s))


def _ucb(mu: np.ndarray, s: np.ndarray, st: Steering, kappa: float) -> np.ndarray:
    return np.exp(st.log_ratio(np.clip(st.best, mu - kappa * s, mu + kappa * s),
                               np.zeros_like(mu)))


def _target_probability(mu: np.ndarray, s: np.ndarray, st: Steering, kappa: float) -> np.ndarray:
    inside = st.in_region(mu).astype(float)
    safe = np.where(s > 0, s, 1.0)
    prob = ndtr((st.high - mu) / safe) - ndtr((st.low - mu) / safe)
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
    steering: Sequence[Steering],
    kappa: float = 2.0,
) -> np.ndarray:
    """Acquisition values in [0, 1], shape (n_points,).

    Parameters
    ----------
    kind : {"likelihood", "expected_likelihood", "ucb", "target_probability"}
    means, stds : dict of str to ndarray of shape (n_points,)
        Surrogate predictive mean and standard deviation per simulator output.
    steering : sequence of Steering
        The scan's terms (:func:`fits.scan.steering.steer`).
    kappa : float
        Width of the ``ucb`` interval in predictive standard deviations.
    """
    if kind not in ACQUISITIONS:
        raise ValueError(f"unknown acquisition {kind!r}; choose one of {', '.join(ACQUISITIONS)}")
    fn = ACQUISITIONS[kind]
    value = np.ones_like(next(iter(means.values())), dtype=float)
    for st in steering:
        mu, s = means[st.column], np.maximum(stds[st.column], 0.0)
        finite = np.isfinite(mu)
        safe_mu = np.where(finite, mu, st.best)
        value *= np.where(finite, fn(safe_mu, s, st, kappa), 0.0)
    return value
