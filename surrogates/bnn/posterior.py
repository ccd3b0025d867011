r"""Log posterior of a fully connected network, for many chains in one batched program.

The parameters of one network are a flat vector :math:`\theta` laid out as
``[W_1, b_1, ..., W_L, b_L, ln s (2L, if sampled), ln tau (1, if sampled)]``; ``n_chains``
vectors are stacked to (n_chains, n_params) and the forward pass of all chains is one
``torch.baddbmm`` per layer (:func:`surrogates.nn.batched_mlp_forward`), so the log density
and its gradient for every chain come from one forward and one backward pass over the full
training batch.

Likelihoods, in model space (standardised inputs and targets):

.. math:: \text{regression:}\quad \ln p(z\mid\theta) = \sum_i \Big[\tfrac12\ln\frac{\tau}{2\pi}
          - \tfrac{\tau}{2}\big(z_i - f_\theta(x_i)\big)^2\Big],

.. math:: \text{classification:}\quad \ln p(z\mid\theta) =
          \sum_i \big[z_i \ln\sigma(f_i) + (1-z_i)\ln(1-\sigma(f_i))\big]

with the noise precision :math:`\tau = \sigma^{-2}` fixed or sampled as :math:`\ln\tau` under a
Gamma(``noise_shape``, ``noise_rate``) prior (the conjugate prior of a Gaussian precision, as
in Neal, *Bayesian Learning for Neural Networks* (1996), Sec. 1.2).

Input-dependent noise. Given per-point scales :math:`\sigma_i` (``point_scale``, e.g. the
error model of a pre-trained heteroscedastic network), the regression likelihood is
:math:`z_i \sim \mathcal N(f_\theta(x_i), \sigma_i^2/\tau)`: residuals are divided by
:math:`\sigma_i` and :math:`\tau` becomes a global correction of the error model (its
:math:`-\sum_i \ln\sigma_i` is constant in :math:`\theta` and dropped).

A network without hidden layers (a last layer on fixed features) with a Gaussian likelihood is
linear in :math:`\theta`: then the sum of squares is evaluated from sufficient statistics
computed once, :math:`\sum_i r_i^2 = \theta^\top G\,\theta - 2\,\theta^\top h + c` with
:math:`G = \tilde\Phi^\top\tilde\Phi`, :math:`h = \tilde\Phi^\top\tilde z`,
:math:`c = \tilde z^\top\tilde z` (rows of :math:`\tilde\Phi` are :math:`(x_i, 1)/\sigma_i`,
:math:`\tilde z_i = z_i/\sigma_i`; in float64 against cancellation), so an HMC step costs
:math:`O(d^2)` instead of a pass over the data: the same density, exactly.

Inputs may be shared by all chains, ``X`` of shape (n_points, n_inputs), or one set per chain,
shape (n_chains, n_points, n_inputs): the last-layer posterior of several pre-trained networks,
each on its own hidden features.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from surrogates.bnn.prior import WeightPrior
from surrogates.nn import batched_mlp_forward, layer_sizes

__all__ = ["BNNPosterior", "ParameterLayout", "member_outputs"]


@dataclass(frozen=True)
class ParameterLayout:
    """Where each tensor of a network lives in the flat parameter vector.

    Attributes
    ----------
    sizes : tuple of (fan_in, fan_out)
        One pair per layer.
    n_scales : int
        Sampled log-scales, ``0`` or ``2 * n_layers``.
    n_noise : int
        Sampled log noise precisions, ``0`` or ``1``.
    """

    sizes: tuple[tuple[int, int], ...]
    n_scales: int
    n_noise: int

    @classmethod
    def for_network(
        cls, n_inputs: int, hidden: Sequence[int], *, sample_scales: bool, sample_noise: bool
    ) -> ParameterLayout:
        """Layout of an ``n_inputs -> hidden -> 1`` network."""
        sizes = tuple(layer_sizes(n_inputs, hidden, 1))
        return cls(sizes, 2 * len(sizes) if sample_scales else 0, int(sample_noise))

    @property
    def n_network(self) -> int:
        """Number of weights and biases."""
        return sum(i * o + o for i, o in self.sizes)

    @property
    def n_params(self) -> int:
        """Length of the flat vector."""
        return self.n_network + self.n_scales + self.n_noise

    @property
    def tensor_sizes(self) -> list[int]:
        """Number of entries of ``W_1, b_1, ..., W_L, b_L``."""
        return [n for i, o in self.sizes for n in (i * o, o)]

    def unflatten(
        self, theta: torch.Tensor
    ) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor | None, torch.Tensor | None]:
        """``theta`` (n, n_params) as weights, biases, log-scales, log-precision.

        Weights and biases are contiguous copies (differentiable): CPU ``bmm`` is an order of
        magnitude slower on strided batches.

        Returns
        -------
        weights : list of Tensor of shape (n, fan_in, fan_out)
        biases : list of Tensor of shape (n, 1, fan_out)
        log_scales : Tensor of shape (n, n_scales) or None
        log_precision : Tensor of shape (n,) or None
        """
        n = theta.shape[0]
        weights, biases, k = [], [], 0
        for i, o in self.sizes:
            weights.append(theta[:, k : k + i * o].reshape(n, i, o).contiguous())
            k += i * o
            biases.append(theta[:, k : k + o].reshape(n, 1, o).contiguous())
            k += o
        log_scales = theta[:, k : k + self.n_scales] if self.n_scales else None
        log_precision = theta[:, -1] if self.n_noise else None
        return weights, biases, log_scales, log_precision

    def flatten(
        self,
        weights: Sequence[torch.Tensor],
        biases: Sequence[torch.Tensor],
        log_scales: torch.Tensor | None = None,
        log_precision: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Inverse of :meth:`unflatten`; returns a new tensor of shape (n, n_params)."""
        n = weights[0].shape[0]
        parts = [t.reshape(n, -1) for pair in zip(weights, biases, strict=True) for t in pair]
        if self.n_scales:
            parts.append(log_scales)
        if self.n_noise:
            parts.append(log_precision.reshape(n, 1))
        return torch.cat(parts, dim=1).detach()


def member_outputs(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    X: torch.Tensor,
    activation: str,
) -> torch.Tensor:
    """The (first) output of each member network, shape (n_members, n_points).

    The one forward pass of the members, for the posterior (HMC's rows) and for the ensemble's
    prediction alike. ``X`` of shape (n_points, n_inputs), shared by all members, is expanded
    to a contiguous copy (bmm's fast path, see :meth:`ParameterLayout.unflatten`); of shape
    (n_members, n_points, n_inputs) it is one batch per member.
    """
    if X.dim() == 2:
        X = X.expand(weights[0].shape[0], *X.shape).contiguous()
    return batched_mlp_forward(weights, biases, X, activation)[..., 0]


class _BatchedLinear(torch.autograd.Function):
    """``X w`` for (c, n, d) inputs and (c, d, 1) weights, with the weights' gradient from a
    stored contiguous ``X^T``: CPU ``bmm`` is about ten times slower on the transposed view that
    autograd would use, and a last layer's likelihood on 10^5 points is all such products."""

    @staticmethod
    def forward(ctx, X: torch.Tensor, XT: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(XT)
        return torch.bmm(X, w)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (XT,) = ctx.saved_tensors
        return None, None, torch.bmm(XT, grad)


class BNNPosterior:
    """Unnormalised log posterior of a network's parameters given model-space data.

    Parameters
    ----------
    X : Tensor of shape (n_points, n_inputs)
    z : Tensor of shape (n_points,)
        Standardised targets, or labels 0/1 when ``classifier``.
    layout : ParameterLayout
    prior : WeightPrior
    activation : str
        Key of :data:`surrogates.nn.ACTIVATIONS`.
    classifier : bool
        Bernoulli likelihood on the logit output; else Gaussian.
    noise_sigma : float or None
        Fixed model-space noise standard deviation; ``None`` when ``ln tau`` is in the layout.
    noise_shape, noise_rate : float
        Gamma prior of the noise precision :math:`\\tau` (shape, rate).
    point_scale : Tensor of shape (n_points,) or (n_chains, n_points), optional
        Per-point noise scales :math:`\\sigma_i` (regression); 1 when None.
    """

    def __init__(
        self,
        X: torch.Tensor,
        z: torch.Tensor,
        *,
        layout: ParameterLayout,
        prior: WeightPrior,
        activation: str,
        classifier: bool,
        noise_sigma: float | None = None,
        noise_shape: float = 1.0,
        noise_rate: float = 1.0,
        point_scale: torch.Tensor | None = None,
    ) -> None:
        self.X = X
        self.inv_scale = None if point_scale is None else 1.0 / point_scale
        self.z = z
        self.layout = layout
        self.prior = prior
        self.activation = activation
        self.classifier = classifier
        self.noise_sigma = noise_sigma
        self.noise_shape = noise_shape
        self.noise_rate = noise_rate
        self._stats = self._XT = None
        if len(layout.sizes) == 1 and not classifier:
            self._stats = self._sufficient_statistics()
        elif len(layout.sizes) == 1 and X.dim() == 3:
            self._XT = X.transpose(1, 2).contiguous()

    def outputs(self, theta: torch.Tensor, X: torch.Tensor | None = None) -> torch.Tensor:
        """Network outputs (logits for the classifier), shape (n, n_points)."""
        weights, biases, _, _ = self.layout.unflatten(theta)
        if X is None and self._XT is not None:
            return (_BatchedLinear.apply(self.X, self._XT, weights[0]) + biases[0])[..., 0]
        return member_outputs(weights, biases, self.X if X is None else X, self.activation)

    def _sufficient_statistics(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``G`` (c, d+1, d+1), ``h`` (c, d+1), ``c`` (c,) of the linear model, float64."""
        X = self.X if self.X.dim() == 3 else self.X[None]
        if self.inv_scale is not None and self.inv_scale.dim() == 2:
            X = X.expand(self.inv_scale.shape[0], *X.shape[1:])
        w = X.new_ones(X.shape[:2]) if self.inv_scale is None else self.inv_scale.expand(
            X.shape[:2]
        )
        phi = torch.cat([X, X.new_ones(*X.shape[:2], 1)], dim=2).double() * w[..., None].double()
        zt = self.z.double() * w.double()
        gram = torch.bmm(phi.transpose(1, 2), phi)
        h = torch.bmm(phi.transpose(1, 2), zt[..., None])[..., 0]
        return gram, h, (zt**2).sum(dim=1)

    def _sum_of_squares(self, theta: torch.Tensor) -> torch.Tensor:
        """Sum of squared (scaled) residuals, shape (n,)."""
        if self._stats is None:
            f = self.outputs(theta)
            r = f - self.z if self.inv_scale is None else (f - self.z) * self.inv_scale
            return (r**2).sum(dim=1)
        gram, h, c = self._stats
        # theta's network part is [W (d), b (1)]: the layout of a single layer.
        w = theta[:, : self.layout.n_network].double()
        sse = (w[:, None, :] @ gram @ w[:, :, None])[:, 0, 0] - 2 * (w * h).sum(1) + c
        return sse.to(theta.dtype)

    def log_likelihood(self, theta: torch.Tensor) -> torch.Tensor:
        """``ln p(z | theta)``, shape (n,)."""
        if self.classifier:
            f = self.outputs(theta)
            bce = torch.nn.functional.binary_cross_entropy_with_logits(
                f, self.z.expand_as(f), reduction="none"
            )
            return -bce.sum(dim=1)
        log_tau = self.log_precision(theta)
        sse = self._sum_of_squares(theta)
        n = self.z.shape[0]
        return 0.5 * n * (log_tau - math.log(2 * math.pi)) - 0.5 * torch.exp(log_tau) * sse

    def log_precision(self, theta: torch.Tensor) -> torch.Tensor:
        """``ln tau`` of each row, shape (n,)."""
        _, _, _, log_tau = self.layout.unflatten(theta)
        if log_tau is not None:
            return log_tau
        return theta.new_full((theta.shape[0],), -2 * math.log(self.noise_sigma))

    def log_prior(self, theta: torch.Tensor) -> torch.Tensor:
        """Log prior of weights, scales and (sampled) ``ln tau``, shape (n,)."""
        weights, biases, log_scales, log_tau = self.layout.unflatten(theta)
        lp = self.prior.log_density(weights, biases, log_scales)
        if log_tau is not None:  # Gamma(a, b) on tau, in ln tau (Jacobian e^u)
            a, b = self.noise_shape, self.noise_rate
            lp = lp + a * math.log(b) - math.lgamma(a) + a * log_tau - b * torch.exp(log_tau)
        return lp

    def log_prob(self, theta: torch.Tensor) -> torch.Tensor:
        """Unnormalised log posterior, shape (n,)."""
        return self.log_likelihood(theta) + self.log_prior(theta)

    def fisher_diagonal(self, theta: torch.Tensor, n_draws: int = 32) -> torch.Tensor:
        r"""Diagonal of the expected Fisher information of the posterior at ``theta``.

        For the network parameters, the likelihood's Fisher (= Gauss-Newton) diagonal
        :math:`F_{jj} = \sum_i \lambda_i (\partial f_i/\partial\theta_j)^2`
        (:math:`\lambda_i = \tau` or :math:`p_i(1-p_i)`) is estimated without per-example
        gradients as :math:`E[g_j^2]` with :math:`g = \nabla_\theta \sum_i r_i f_i` and
        pseudo-residuals :math:`r_i` drawn from the model (:math:`\sqrt\tau\,\epsilon_i`, or
        :math:`\tilde y_i - p_i` with :math:`\tilde y_i \sim \mathrm{Bernoulli}(p_i)`), over
        ``n_draws`` draws (relative error :math:`\sqrt{2/n_{\rm draws}}`); the prior adds
        :math:`1/s^2`. The hyper-parameters get their exact Fisher information: :math:`n_l/2`
        (Cauchy) or :math:`2 n_l` (Gaussian) for the log-scale of :math:`n_l` weights, and
        :math:`n/2` for :math:`\ln\tau` given :math:`n` points.

        Returns
        -------
        Tensor of shape (n, n_params)
            Positive; its inverse serves as HMC's inverse mass matrix (a fixed diagonal
            metric, cf. Girolami & Calderhead, JRSS B 73 (2011) 123).
        """
        _, _, log_scales, _ = self.layout.unflatten(theta)
        with torch.enable_grad():
            th = theta.detach().requires_grad_(True)
            f = self.outputs(th)
            if self.classifier:
                p = torch.sigmoid(f).detach()
            else:
                root_tau = torch.exp(0.5 * self.log_precision(theta))[:, None]
            fisher = torch.zeros_like(theta)
            for _ in range(n_draws):
                if self.classifier:
                    r = torch.bernoulli(p) - p
                else:
                    r = root_tau * torch.randn_like(f)
                    r = r if self.inv_scale is None else r * self.inv_scale
                (g,) = torch.autograd.grad((r * f).sum(), th, retain_graph=True)
                fisher += g * g / n_draws
        sizes = torch.tensor(self.layout.tensor_sizes, device=theta.device)
        if log_scales is None:
            inv_var = theta.new_full((theta.shape[0], self.layout.n_network), self.prior.scale**-2)
        else:
            inv_var = torch.repeat_interleave(torch.exp(-2 * log_scales), sizes, dim=1)
        fisher[:, : self.layout.n_network] += inv_var
        if log_scales is not None:
            per_weight = 0.5 if self.prior.family == "cauchy" else 2.0
            start = self.layout.n_network
            fisher[:, start : start + self.layout.n_scales] = per_weight * sizes.to(theta.dtype)
        if self.layout.n_noise:
            fisher[:, -1] = 0.5 * self.z.shape[0]
        return fisher

    def log_prob_and_grad(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log posterior (n,) and its gradient (n, n_params), one backward pass for all rows.

        Rows are independent, so the gradient of the sum is each row's own gradient.
        """
        with torch.enable_grad():
            theta = theta.detach().requires_grad_(True)
            lp = self.log_prob(theta)
            (grad,) = torch.autograd.grad(lp.sum(), theta)
        return lp.detach(), grad
