r"""Validity probabilities from GP regression on the labels and a calibrated probit link.

Least-squares classification (Rasmussen & Williams, *Gaussian Processes for Machine
Learning*, 2006, Sec. 6.5): the experts regress the labels :math:`t = 2\,\mathrm{valid} - 1`
like any other target and are aggregated by the same rule, giving a latent
:math:`f \sim \mathcal N(\mu, s^2)` at each point. A probit link with two learnt constants,

.. math:: p(\mathrm{valid}\mid x) = \mathbb E_f\big[\Phi(a f + b)\big]
          = \Phi\!\left(\frac{a\mu + b}{\sqrt{1 + a^2 s^2}}\right),

turns it into a probability. :math:`a, b` maximise the Bernoulli likelihood of labels the
experts did not see: the validation set when given, else each expert's leave-one-out
predictions (the choice of R&W Sec. 6.5; Platt 1999 scaling with the GP's own spread). This is
what calibrates the probabilities: the regression itself is not a probability model of 0/1
labels. Label regression keeps the experts exact and batched (one Cholesky per expert), where
a Laplace or variational classifier would need an inner iteration per expert.

The reported spread of :math:`p` is the standard deviation of :math:`\Phi(a f + b)` under
:math:`f \sim \mathcal N(\mu, s^2)` (Gauss-Hermite quadrature), i.e. the part of the
uncertainty due to the GP's ignorance of :math:`f`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["fit_probit_link", "probit_link_moments"]

_N_NODES = 32  # Gauss-Hermite nodes: exact for polynomials of degree < 64


def fit_probit_link(
    mean: torch.Tensor, var: torch.Tensor, labels: torch.Tensor, n_iter: int = 50
) -> tuple[float, float]:
    """Maximum-likelihood slope ``a`` and offset ``b`` of the probit link.

    Parameters
    ----------
    mean, var : Tensor of shape (n_points,)
        Latent predictive mean and variance at held-out points.
    labels : Tensor of shape (n_points,)
        Their labels, 0 or 1.
    n_iter : int
        L-BFGS iterations (two parameters: converges in a few).

    Returns
    -------
    a, b : float
    """
    mean, var, labels = mean.double(), var.double(), labels.double()
    params = torch.tensor([1.0, 0.0], dtype=torch.float64, device=mean.device, requires_grad=True)
    sign = 2.0 * labels - 1.0
    opt = torch.optim.LBFGS([params], max_iter=n_iter, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        a, b = params
        z = (a * mean + b) / torch.sqrt(1.0 + a * a * var)
        loss = -torch.special.log_ndtr(sign * z).mean()
        loss.backward()
        return loss

    opt.step(closure)
    a, b = params.detach().tolist()
    return a, b


def probit_link_moments(
    mean: torch.Tensor, var: torch.Tensor, a: float, b: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of :math:`\\Phi(a f + b)` for :math:`f \\sim N(\\mu, s^2)`.

    Parameters
    ----------
    mean, var : Tensor of shape (n_points,)
        Latent predictive mean and variance.
    a, b : float
        Link constants from :func:`fit_probit_link`.

    Returns
    -------
    p, p_std : Tensor of shape (n_points,)
        Probability of validity (closed form) and its spread (quadrature).
    """
    p = torch.special.ndtr((a * mean + b) / torch.sqrt(1.0 + a * a * var))
    nodes, weights = np.polynomial.hermite_e.hermegauss(_N_NODES)
    nodes = torch.as_tensor(nodes, dtype=mean.dtype, device=mean.device).unsqueeze(-1)
    weights = torch.as_tensor(
        weights / math.sqrt(2 * math.pi), dtype=mean.dtype, device=mean.device
    )
    f = mean + var.sqrt() * nodes
    second = weights @ torch.special.ndtr(a * f + b).square()
    return p, (second - p.square()).clamp_min(0.0).sqrt()
