r"""Batched fully connected networks: many independent networks evaluated as one program.

The weights of ``n_members`` networks are stacked along a leading batch dimension, so a
forward pass is one ``torch.baddbmm`` per layer for all members (deep-ensemble members, HMC
chains or posterior samples alike).

With ``skip=True`` the output layer sees the inputs beside the last hidden layer,
:math:`f(x) = W_L\,[h_{L-1}(x), x] + b_L` (the "wide and deep" network of Cheng et al.,
arXiv:1606.07792): a part of the target that is linear in the inputs (e.g. a tree-level
approximation given as an input feature) is learnt exactly, and the hidden layers learn the
rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

import torch
from torch import nn

__all__ = [
    "ACTIVATIONS", "batched_mlp_forward", "BatchedMLP", "chunk_points", "init_layer",
    "last_hidden", "layer_sizes",
]

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "silu": nn.functional.silu,
    "gelu": nn.functional.gelu,
}

#: Floats of the widest activations per prediction chunk (1 GiB on CUDA, 8 MiB on CPU: chunks
#: of ~1,900 points for four 256-wide networks; chunks of 128 MiB were 5-40 % slower on 2
#: cores, their buffers allocated and faulted in afresh for every layer).
_CHUNK_FLOATS = {"cuda": 2**28, "cpu": 2**21}


def chunk_points(floats_per_point: int, device: torch.device) -> int:
    """Points per prediction chunk whose widest activations, ``floats_per_point`` floats per
    point (e.g. networks x width), fit the cap of ``device``'s kind; at least 256."""
    floats = _CHUNK_FLOATS["cuda" if device.type == "cuda" else "cpu"]
    return max(256, floats // max(1, floats_per_point))


#: In-place forms, used where autograd does not record (prediction under ``torch.no_grad``):
#: the out-of-place activation of a 256-wide layer costs as much as its matrix product
#: (a new tensor per layer), the in-place one a few per cent of it.
_IN_PLACE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu_,
    "tanh": torch.tanh_,
    "silu": partial(nn.functional.silu, inplace=True),
}


def layer_sizes(
    n_inputs: int, hidden: Sequence[int], n_outputs: int, skip: bool = False
) -> list[tuple[int, int]]:
    """(fan_in, fan_out) of each layer, e.g. 19 -> 5 x 50 -> 1 (the last fan-in grows by
    ``n_inputs`` with ``skip``)."""
    sizes = [n_inputs, *hidden, n_outputs]
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    if skip and hidden:
        pairs[-1] = (pairs[-1][0] + n_inputs, n_outputs)
    return pairs


def init_layer(
    n_members: int, fan_in: int, fan_out: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fresh weights (n_members, fan_in, fan_out) and biases (n_members, 1, fan_out) of one
    layer, uniform in +-1 / sqrt(fan_in) as ``torch.nn.Linear``."""
    bound = 1.0 / math.sqrt(fan_in)
    return (torch.empty(n_members, fan_in, fan_out).uniform_(-bound, bound),
            torch.empty(n_members, 1, fan_out).uniform_(-bound, bound))


def batched_mlp_forward(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    x: torch.Tensor,
    activation: str = "relu",
    skip: bool = False,
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
    skip : bool
        The output layer also sees ``x`` (see the module text).

    Returns
    -------
    Tensor of shape (n_members, n_points, n_outputs)
    """
    x = x.expand(weights[0].shape[0], *x.shape) if x.dim() == 2 else x
    h = last_hidden(weights[:-1], biases[:-1], x, activation, skip)
    return torch.baddbmm(biases[-1], h, weights[-1])


def last_hidden(
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    x: torch.Tensor,
    activation: str = "relu",
    skip: bool = False,
) -> torch.Tensor:
    """Input of the output layer: the last hidden activations (and ``x`` with ``skip``).

    ``weights``, ``biases`` are the hidden layers only; with none, ``x`` itself. ``x`` of
    shape (n_points, n_inputs) is shared by all members, (n_members, n_points, n_inputs) is
    one batch per member.

    Returns
    -------
    Tensor of shape (n_members, n_points, width (+ n_inputs))
    """
    if x.dim() == 2 and biases:
        x = x.expand(biases[0].shape[0], *x.shape)
    h = x
    act = ACTIVATIONS[activation]
    if not torch.is_grad_enabled():
        act = _IN_PLACE.get(activation, act)
    for w, b in zip(weights, biases, strict=True):
        h = act(torch.baddbmm(b, h, w))
    if skip and weights:
        h = torch.cat([h, x.expand(h.shape[0], *x.shape[1:])], dim=2)
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
    skip : bool
        The output layer also sees the inputs (see the module text).
    """

    def __init__(
        self,
        n_members: int,
        n_inputs: int,
        hidden: Sequence[int],
        n_outputs: int = 1,
        activation: str = "relu",
        skip: bool = False,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}"
            )
        self.activation = activation
        self.skip = bool(skip)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in layer_sizes(n_inputs, hidden, n_outputs, self.skip):
            w, b = init_layer(n_members, fan_in, fan_out)
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """See :func:`batched_mlp_forward`."""
        return batched_mlp_forward(
            list(self.weights), list(self.biases), x, self.activation, self.skip
        )
