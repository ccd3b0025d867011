r"""A grid "sampler": posterior and evidence by quadrature, free of sampling noise.

For fits in one or two free parameters, the midpoint rule on a grid in the prior's unit cube
gives a deterministic reference where nested sampling's noise would blur a comparison
(the closure tests of :mod:`fits.closure`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from fits.priors import Prior
from fits.problem import FitProblem
from fits.results import FitResult

__all__ = ["grid_fit"]


def grid_fit(likelihood: Any, prior: Prior, n_per_dim: int = 2000) -> FitResult:
    r"""Posterior and evidence by the midpoint rule on a grid in the prior's unit cube.

    Each of the :math:`N = n^d` cells of the unit cube holds prior mass :math:`1/N`, so with
    the cell centres :math:`u_j` mapped to :math:`\theta_j` by the prior transform,

    .. math:: Z \approx \frac1N \sum_j L(\theta_j), \qquad w_j = L(\theta_j) / (N Z),

    exact up to the variation of :math:`L` within a cell: a deterministic reference for fits
    in one or two free parameters, where nested sampling's noise would blur a comparison.

    Parameters
    ----------
    likelihood : Combination, Term, or callable
        Points (n, n_dim) of the prior's space -> log-likelihoods (n,), as for the samplers.
    prior : Prior
    n_per_dim : int
        Cells per free parameter; the cell width should be well below the posterior width.

    Returns
    -------
    FitResult
        ``sampler="grid"``, one sample per cell with its weight; ``log_evidence`` with
        ``log_evidence_error=0`` (no sampling error; the quadrature error is not estimated).

    Raises
    ------
    ValueError
        If the grid would exceed 10**7 cells or the likelihood is ``-inf`` everywhere.
    """
    n = int(n_per_dim)
    if n < 2 or n**prior.ndim > 10**7:
        raise ValueError(
            f"n_per_dim must be >= 2 with n_per_dim**ndim <= 10**7 cells; got {n_per_dim!r} "
            f"for {prior.ndim} free parameters"
        )
    problem = FitProblem(likelihood, prior)
    mids = (np.arange(n) + 0.5) / n
    u = np.stack(np.meshgrid(*[mids] * prior.ndim, indexing="ij"), -1).reshape(-1, prior.ndim)
    theta = prior.transform(u)
    logl = problem.log_likelihood(theta)
    if not np.isfinite(logl).any():
        raise ValueError(f"the likelihood is -inf on all {len(logl)} grid cells")
    log_z = logsumexp(logl) - np.log(len(logl))
    samples = pd.DataFrame(theta, columns=prior.names)
    samples["weight"] = np.exp(logl - log_z) / len(logl)
    samples["logl"] = logl
    samples = pd.concat([samples, problem.per_term(theta)], axis=1)
    return FitResult(sampler="grid", parameter_names=prior.names, samples=samples,
                     log_evidence=float(log_z), log_evidence_error=0.0, n_calls=len(logl))
