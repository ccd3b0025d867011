r"""Sampler diagnostics: acceptance, step size, divergences, and convergence of predictions.

Convergence is judged on what the surrogate is used for, its predictions at held-out points,
rather than on the (non-identifiable) weights: for each point the rank-normalised split
:math:`\hat R` and the bulk effective sample size of Vehtari et al., Bayesian Analysis 16
(2021) 667, arXiv:1903.08008, as implemented by arviz.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from surrogates.bnn.hmc import ChainResult

__all__ = ["prediction_convergence", "sampler_summary"]


def sampler_summary(result: ChainResult) -> dict[str, Any]:
    """Acceptance, step size and divergences, over the sampling iterations (after burn-in).

    Returns
    -------
    dict
        ``accept_rate`` (mean acceptance probability), ``accept_rate_burnin``,
        ``accept_rate_per_chain`` (list), ``step_size_per_chain`` (list),
        ``divergences`` (count after burn-in), ``divergences_burnin``,
        ``mean_leapfrog_steps``, ``n_gradient_evaluations``.
    """
    nb = result.n_burnin
    acc, div = result.accept_prob, result.divergent
    sampling = acc[nb:]
    return {
        "accept_rate": float(sampling.mean()),
        "accept_rate_burnin": float(acc[:nb].mean()) if nb else float("nan"),
        "accept_rate_per_chain": sampling.mean(dim=0).tolist(),
        "step_size_per_chain": result.step_size[-1].tolist(),
        "divergences": int(div[nb:].sum()),
        "divergences_burnin": int(div[:nb].sum()),
        "mean_leapfrog_steps": float(np.mean(result.n_leapfrog)),
        "n_gradient_evaluations": int(np.sum(result.n_leapfrog)),
    }


def prediction_convergence(predictions: torch.Tensor | np.ndarray) -> dict[str, float]:
    """Split R-hat and bulk ESS of predictions at held-out points.

    Parameters
    ----------
    predictions : array of shape (n_chains, n_draws, n_points)
        Model-space predictions of every kept draw.

    Returns
    -------
    dict
        ``rhat_median``, ``rhat_max``, ``ess_bulk_median``, ``ess_bulk_min`` (over points,
        multi-chain: chains stuck in different modes give R-hat >> 1 and an ESS near the
        number of chains); ``ess_within_median``: the sum over chains of each chain's own bulk
        ESS, median over points (the local exploration around each chain's mode); NaN where
        arviz cannot compute them (fewer than 4 draws per chain).
    """
    import arviz as az

    p = predictions.detach().cpu().double().numpy() if torch.is_tensor(predictions) else predictions
    if p.shape[1] < 4:
        return dict.fromkeys(("rhat_median", "rhat_max", "ess_bulk_median", "ess_bulk_min",
                              "ess_within_median"), float("nan"))
    data = az.convert_to_dataset(np.asarray(p, float))
    rhat = az.rhat(data)["x"].values
    ess = az.ess(data, method="bulk")["x"].values
    within = sum(
        az.ess(az.convert_to_dataset(np.asarray(p[c : c + 1], float)), method="bulk")["x"].values
        for c in range(p.shape[0])
    )
    return {
        "rhat_median": float(np.median(rhat)),
        "rhat_max": float(np.max(rhat)),
        "ess_bulk_median": float(np.median(ess)),
        "ess_bulk_min": float(np.min(ess)),
        "ess_within_median": float(np.median(within)),
    }
