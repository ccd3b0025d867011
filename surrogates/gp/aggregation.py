r"""Aggregation of independent GP experts' predictions into one Gaussian predictive.

All four rules of Deisenroth & Ng, "Distributed Gaussian Processes", ICML 2015
(arXiv:1502.02843), share one form: with expert means :math:`\mu_k`, variances
:math:`\sigma_k^2` and the prior variance :math:`\sigma_{**}^2` at a test point,

.. math:: \sigma_*^{-2} = \sum_{k=1}^M \beta_k \sigma_k^{-2} + c\,\sigma_{**}^{-2}, \qquad
          \mu_* = \sigma_*^2 \sum_{k=1}^M \beta_k \sigma_k^{-2} \mu_k

(zero prior mean), with

======  ===========================================================  ===========================
rule    :math:`\beta_k`                                              :math:`c`
======  ===========================================================  ===========================
poe     1 (product of experts)                                       0
gpoe    :math:`1/M` (generalised PoE, as Deisenroth & Ng)            0
bcm     1 (Bayesian committee machine, Tresp 2000)                   :math:`1 - M`
rbcm    :math:`\tfrac12(\log\sigma_{**}^2 - \log\sigma_k^2)`         :math:`1 - \sum_k\beta_k`
======  ===========================================================  ===========================

The rBCM weights are the differential-entropy change from the prior to expert :math:`k`'s
posterior. Expert variances are clipped to :math:`[\epsilon\sigma_{**}^2, \sigma_{**}^2]` first
(:math:`\epsilon` the machine epsilon of the input dtype: an exact GP never exceeds its prior,
and a variance below :math:`\epsilon\sigma_{**}^2` is round-off), which keeps every rule's
precision :math:`\ge \sigma_{**}^{-2} > 0` for BCM and rBCM and finite for a zero variance
(the rBCM's :math:`\beta_k/\sigma_k^2` overflowed at the smallest normal number).

**Per-expert priors** (experts with their own hyper-parameters, :math:`\sigma_{**,k}^2`): the
BCM and rBCM multiply each expert's update of its own prior,
:math:`[p_k(f\mid\mathcal D_k)/p_k(f)]^{\beta_k}`, and the geometric mean of the priors,

.. math:: \sigma_*^{-2} = \sum_k \beta_k\big(\sigma_k^{-2} - \sigma_{**,k}^{-2}\big)
          + \frac1M \sum_k \sigma_{**,k}^{-2},

which is the formula above for equal priors and stays :math:`\ge \frac1M\sum_k
\sigma_{**,k}^{-2} > 0` for any priors (the correction :math:`c` times the mean prior
precision does not: three weakly informative experts of prior 1.6 beside one of prior 0.05
gave a negative precision, and local experts with their own kernels meet such neighbours).

Notes: with one expert only PoE, gPoE and BCM return that expert's prediction; the rBCM does
so only where :math:`\beta_1 = 1`. Where experts are informative
(:math:`\sigma_k^2 < e^{-2}\sigma_{**}^2`, so :math:`\beta_k > 1`) the rBCM is more
confident than the PoE; the gPoE is the least confident rule.
"""

from __future__ import annotations

import torch

__all__ = ["AGGREGATIONS", "aggregate", "aggregation_weights", "clip_variance"]

AGGREGATIONS = ("rbcm", "bcm", "poe", "gpoe")


def clip_variance(
    var: torch.Tensor, prior_var: torch.Tensor, dtype: torch.dtype
) -> torch.Tensor:
    """Expert variances clipped to ``[eps * prior_var, prior_var]`` (``eps`` of ``dtype``, the
    precision they were computed in; see the module text)."""
    return torch.minimum(torch.maximum(var, torch.finfo(dtype).eps * prior_var), prior_var)


def aggregation_weights(
    var: torch.Tensor, prior_var: torch.Tensor | float, method: str = "rbcm"
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Expert weights :math:`\beta_k` and prior-correction weight :math:`c` of one rule.

    Parameters
    ----------
    var : Tensor of shape (n_experts, n_points)
        Expert predictive variances (noise-free or noisy, consistently with ``prior_var``).
    prior_var : Tensor of shape (), (n_experts, 1) or (n_experts, n_points), or float
        Prior variance :math:`\sigma_{**}^2`; one per expert with per-expert
        hyper-parameters.
    method : {"rbcm", "bcm", "poe", "gpoe"}

    Returns
    -------
    beta : Tensor of shape (n_experts, n_points)
    c : Tensor of shape (n_points,)
    """
    if method not in AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {', '.join(AGGREGATIONS)}; got {method!r}")
    prior_var = torch.as_tensor(prior_var, dtype=var.dtype, device=var.device)
    n_experts = var.shape[0]
    ones = torch.ones_like(var)
    if method == "rbcm":
        beta = 0.5 * (torch.log(prior_var) - torch.log(var))
        return beta, 1.0 - beta.sum(0)
    if method == "gpoe":
        return ones / n_experts, torch.zeros_like(var[0])
    if method == "bcm":
        return ones, torch.full_like(var[0], 1.0 - n_experts)
    return ones, torch.zeros_like(var[0])


def aggregate(
    mean: torch.Tensor,
    var: torch.Tensor,
    prior_var: torch.Tensor | float,
    method: str = "rbcm",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Combine the experts' Gaussian predictions by one rule (see the module docstring).

    Parameters
    ----------
    mean, var : Tensor of shape (n_experts, n_points)
        Expert predictive means and variances.
    prior_var : Tensor of shape (), (n_experts, 1) or (n_experts, n_points), or float
        Prior variance :math:`\\sigma_{**}^2`: shared, one per expert, or one per expert and
        point (experts chosen per point); per-expert priors as in the module text.
    method : {"rbcm", "bcm", "poe", "gpoe"}

    Returns
    -------
    mean, var : Tensor of shape (n_points,)
        In the dtype of ``mean``; the sums are taken in float64 (the BCM's
        :math:`\\sum_k \\sigma_k^{-2} + (1 - M)\\sigma_{**}^{-2}` cancels strongly).
    """
    dtype = mean.dtype
    mean, var = mean.double(), var.double()
    prior_var = torch.as_tensor(prior_var, device=var.device, dtype=torch.float64)
    var = clip_variance(var, prior_var, dtype)
    beta, c = aggregation_weights(var, prior_var, method)
    weighted = beta / var
    precision = weighted.sum(0)
    if method in ("bcm", "rbcm"):  # the products (PoE, gPoE) have no prior correction
        if prior_var.dim() == 0:
            precision = precision + c / prior_var
        else:  # each expert's update of its own prior, times their priors' geometric mean
            precision = precision + ((1.0 / var.shape[0] - beta) / prior_var).sum(0)
    out_var = 1.0 / precision
    return (out_var * (weighted * mean).sum(0)).to(dtype), out_var.to(dtype)
