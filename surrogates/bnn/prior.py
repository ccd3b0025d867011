r"""Priors of the Bayesian neural network: Cauchy or Gaussian weights with per-layer scales.

Every weight matrix and every bias vector of layer :math:`l` has its own scale
:math:`s_{l,W}`, :math:`s_{l,b}` (Kronheim et al., arXiv:2007.04506 Sec. 2; TensorBNN,
Jackson et al., arXiv:2009.14393):

.. math:: w \sim \mathrm{Cauchy}(0, s) \quad\text{or}\quad w \sim \mathcal N(0, s^2).

The scales are either fixed numbers or hyper-parameters sampled with the weights, in log space
:math:`u = \ln s`, with the half-Cauchy hyper-prior recommended for hierarchical scales by
Gelman, Bayesian Analysis 1 (2006) 515:

.. math:: p(u) = \frac{2}{\pi\beta}\,\frac{e^u}{1 + (e^u/\beta)^2}
          \qquad(\text{the } e^u \text{ is the Jacobian of } s = e^u).

All densities are evaluated for many chains or ensemble members at once: tensors carry the
member dimension first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch

__all__ = ["FAMILIES", "WeightPrior"]

FAMILIES = ("cauchy", "gaussian")

#: median of |w| for w ~ family(0, 1): used to read a scale off pre-trained weights.
_MEDIAN_ABS_UNIT = {"cauchy": 1.0, "gaussian": 0.6744897501960817}
#: Smallest scale read off pre-trained weights (keeps ln s finite for a zero bias).
_MIN_INITIAL_SCALE = 1e-3


@dataclass(frozen=True)
class WeightPrior:
    """Prior of all weights and biases of a network, with optional hyper-prior on the scales.

    Parameters
    ----------
    family : {"cauchy", "gaussian"}
        Distribution of each weight given its layer's scale.
    scale : float or None
        Fixed scale of every layer; ``None`` samples one scale per weight matrix and per bias
        vector under the half-Cauchy hyper-prior.
    hyper_scale : float
        :math:`\beta` of the half-Cauchy hyper-prior (ignored when ``scale`` is fixed).
    """

    family: Literal["cauchy", "gaussian"] = "cauchy"
    scale: float | None = None
    hyper_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"prior must be one of {', '.join(FAMILIES)}; got {self.family!r}")
        if self.scale is not None and not self.scale > 0:
            raise ValueError(f"prior_scale must be > 0 or None (sampled); got {self.scale!r}")
        if not self.hyper_scale > 0:
            raise ValueError(f"hyper_scale must be > 0; got {self.hyper_scale!r}")

    @property
    def samples_scales(self) -> bool:
        """Whether the per-layer scales are sampled hyper-parameters."""
        return self.scale is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)

    def _log_pdf(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Elementwise log density of ``x`` (n, k) under family(0, s), ``s`` of shape (n, 1)."""
        r = x / s
        if self.family == "cauchy":
            return -math.log(math.pi) - torch.log(s) - torch.log1p(r * r)
        return -0.5 * math.log(2 * math.pi) - torch.log(s) - 0.5 * r * r

    def log_density(
        self,
        weights: Sequence[torch.Tensor],
        biases: Sequence[torch.Tensor],
        log_scales: torch.Tensor | None,
    ) -> torch.Tensor:
        """Joint log prior density of weights, biases and (sampled) log-scales.

        Parameters
        ----------
        weights : sequence of Tensor of shape (n_members, fan_in, fan_out)
        biases : sequence of Tensor of shape (n_members, 1, fan_out)
        log_scales : Tensor of shape (n_members, 2 * n_layers) or None
            ``ln s`` of layer ``l``'s weights in column ``2l`` and of its biases in ``2l + 1``;
            ``None`` when the scale is fixed.

        Returns
        -------
        Tensor of shape (n_members,)
        """
        n = weights[0].shape[0]
        total = weights[0].new_zeros(n)
        for i, tensor in enumerate(t for pair in zip(weights, biases, strict=True) for t in pair):
            if log_scales is None:
                s = tensor.new_full((n, 1), self.scale)
            else:
                s = torch.exp(log_scales[:, i : i + 1])
            total = total + self._log_pdf(tensor.reshape(n, -1), s).sum(dim=1)
        if log_scales is not None:
            beta = self.hyper_scale
            hyper = (
                math.log(2 / (math.pi * beta))
                + log_scales
                - torch.log1p(torch.exp(2 * log_scales) / beta**2)
            )
            total = total + hyper.sum(dim=1)
        return total

    def initial_log_scales(
        self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor]
    ) -> torch.Tensor | None:
        """Per-layer ``ln s`` read off (pre-trained) weights: median ``|w|`` over its unit value.

        Returns
        -------
        Tensor of shape (n_members, 2 * n_layers), or None when the scale is fixed.
        """
        if not self.samples_scales:
            return None
        n = weights[0].shape[0]
        cols = [
            t.detach().reshape(n, -1).abs().median(dim=1).values / _MEDIAN_ABS_UNIT[self.family]
            for pair in zip(weights, biases, strict=True)
            for t in pair
        ]
        return torch.log(torch.stack(cols, dim=1).clamp_min(_MIN_INITIAL_SCALE))
