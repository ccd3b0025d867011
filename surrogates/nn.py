"""Batched fully connected networks: many independent networks evaluated as one program.

The weights of ``n_members`` networks are stacked along a leading batch dimension, so a
forward pass is one ``torch.baddbmm`` per layer for all members (deep-ensemble members, HMC
chains or posterior samples alike).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "batched_mlp_forward", "BatchedMLP", "layer_sizes"]

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "silu": nn.functional.silu,
    "gelu": nn.functional.gelu,
}


def layer_sizes(n_inputs: int, hidden: Sequence[int], n_outputs: int) -> list[tuple[int, int]]:
    """(fan_in, fan_out) of each layer, e.g. 19 -> 5 x 50 -> 1."""
    sizes = [n_inputs, *hidden, n_outputs]
    return list(zip(sizes[:-1], sizes[1:], strict=True))


def batched_mlp_forward(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    x: torch.Tensor,
    activation: str = "relu",
) -> torch.Tensor:
    """Evaluate a stack of MLPs.

    Parameters
    ----------
    weights : sequence of Tensor of shape (n_members, fan_in, fan_out)
    biases : sequence of Tensor of shape (n_members, 1, fan_out)
    x : Tensor of shape (n_points, n_inputs) or (n_members, n_points, n_inputs)
        The same points for every member, or one batch per member.
    activation : str
        Key of :data:`ACTIVATIONS`, applied after every layer but the last.

    Returns
    -------
    Tensor of shape (n_members, n_points, n_outputs)
    """
    act = ACTIVATIONS[activation]
    h = x.expand(weights[0].shape[0], *x.shape) if x.dim() == 2 else x
    last = len(weights) - 1
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = torch.baddbmm(b, h, w)
        if i < last:
            h = act(h)
    return h


class BatchedMLP(nn.Module):
    """``n_members`` independent MLPs with PyTorch's default (Kaiming-uniform) initialisation.

    Parameters
    ----------
    n_members : int
    n_inputs : int
    hidden : sequence of int
        Widths of the hidden layers.
    n_outputs : int
    activation : str
        Key of :data:`ACTIVATIONS`.
    """

    def __init__(
        self,
        n_members: int,
        n_inputs: int,
        hidden: Sequence[int],
        n_outputs: int = 1,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}"
            )
        self.activation = activation
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in layer_sizes(n_inputs, hidden, n_outputs):
            bound = 1.0 / math.sqrt(fan_in)  # as torch.nn.Linear
            self.weights.append(
                nn.Parameter(torch.empty(n_members, fan_in, fan_out).uniform_(-bound, bound))
            )
            self.biases.append(
                nn.Parameter(torch.empty(n_members, 1, fan_out).uniform_(-bound, bound))
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """See :func:`batched_mlp_forward`."""
        return batched_mlp_forward(list(self.weights), list(self.biases), x, self.activation)
