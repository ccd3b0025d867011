"""A fit problem: a likelihood over the points of a space seen through a prior's free parameters.

:class:`FitProblem` turns "points (n, n_dim) -> log-likelihoods (n,)" into "free parameters
(n, ndim) -> log-likelihoods (n,)" for the samplers, counts the points it evaluates (the
"likelihood calls" of the benchmarks), and probes the likelihood on a few prior draws before a
sampler starts (UltraNest's habit): wrong shapes, NaN or +inf fail at once with a clear error
instead of deep inside a sampler.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from fits.priors import Prior

__all__ = ["FitProblem"]


class FitProblem:
    """Likelihood + prior, vectorised over the free parameters.

    Parameters
    ----------
    likelihood : object with ``log_likelihood(X)``, or callable
        Maps points ``X`` of shape (n, n_dim) of the prior's space to log-likelihoods of
        shape (n,): a :class:`~likelihoods.Combination`, a single term, or a plain function.
        ``-inf`` is allowed (vetoed points); NaN and ``+inf`` are errors.
    prior : Prior
        Its space must be the likelihood's (``likelihood.space``, where it has one).
    """

    def __init__(self, likelihood: Any, prior: Prior) -> None:
        if not isinstance(prior, Prior):
            raise ValueError(f"prior must be a fits.Prior; got {type(prior).__name__}")
        fn = getattr(likelihood, "log_likelihood", likelihood)
        if not callable(fn):
            raise ValueError(
                "likelihood must have a log_likelihood(X) method or be callable; got "
                f"{type(likelihood).__name__}"
            )
        space = getattr(likelihood, "space", None)
        if space is not None and space != prior.space:
            raise ValueError(
                f"the likelihood's points are those of {space!r}, but the prior is on "
                f"{prior.space!r}"
            )
        self.likelihood = likelihood
        self.prior = prior
        self._fn = fn
        self.n_calls = 0

    def log_likelihood(self, theta: np.ndarray) -> np.ndarray:
        """Log-likelihood of free-parameter points ``theta`` (n, ndim), shape (n,).

        Raises
        ------
        ValueError
            If the likelihood returns a wrong shape, NaN or ``+inf``.
        """
        theta = np.atleast_2d(np.asarray(theta, float))
        logl = np.asarray(self._fn(self.prior.to_full(theta)), float)
        self.n_calls += theta.shape[0]
        if logl.shape != (theta.shape[0],):
            raise ValueError(
                f"the likelihood returned shape {logl.shape}; expected ({theta.shape[0]},) for "
                f"{theta.shape[0]} points"
            )
        bad = np.isnan(logl) | (logl == np.inf)
        if bad.any():
            i = int(np.argmax(bad))
            point = dict(zip(self.prior.names, theta[i].round(6).tolist(), strict=True))
            raise ValueError(
                f"the likelihood returned {logl[i]} at {int(bad.sum())} point(s), e.g. {point}"
            )
        return logl

    def log_posterior(self, theta: np.ndarray) -> np.ndarray:
        """Unnormalised log posterior, shape (n,); the likelihood runs only inside the prior."""
        theta = np.atleast_2d(np.asarray(theta, float))
        lp = self.prior.log_prob(theta)
        inside = np.isfinite(lp)
        if inside.any():
            lp[inside] += self.log_likelihood(theta[inside])
        return lp

    def probe(self, n: int = 8, seed: int = 0) -> np.ndarray:
        """Evaluate the likelihood on ``n`` prior draws before sampling.

        Returns
        -------
        ndarray of shape (n,)
            The probe's log-likelihoods (not counted in :attr:`n_calls`).

        Raises
        ------
        ValueError
            On a wrong shape, NaN or ``+inf`` (see :meth:`log_likelihood`).
        """
        calls = self.n_calls
        logl = self.log_likelihood(self.prior.sample(n, seed))
        self.n_calls = calls
        if not np.isfinite(logl).any():
            warnings.warn(
                f"the likelihood is -inf on all {n} probe draws from the prior: check the "
                f"terms' vetoes (viability cut, outside-domain policy)",
                stacklevel=2,
            )
        return logl

    def per_term(self, theta: np.ndarray) -> pd.DataFrame:
        """Per-term log-likelihoods and diagnostics at ``theta``; empty if not inspectable."""
        evaluate = getattr(self.likelihood, "evaluate", None)
        if evaluate is None or len(theta) == 0:
            return pd.DataFrame(index=range(len(theta)))
        return evaluate(self.prior.to_full(theta)).drop(columns="logl", errors="ignore")
