r"""Pre-training of the HMC starting points.

Two schedules:

``"amsgrad_cycles"``
    Kronheim et al., arXiv:2007.04506 Sec. 4 (and TensorBNN, arXiv:2009.14393): each network
    is trained by AMSGrad (Reddi et al., arXiv:1904.09237) in cycles whose learning rates
    decrease (regression 1e-2, 1e-3, 1e-4; the classifier ten times smaller); every cycle
    starts from, and ends on, the network with the best validation loss seen in that cycle.
``"one_cycle"``
    AdamW (Loshchilov & Hutter, arXiv:1711.05101) with decoupled weight decay under one
    learning-rate cycle (Smith & Topin, arXiv:1708.07120: warm-up to the first learning rate,
    then cosine annealing to 1e-4 of it), keeping each network's best-validation epoch. With
    wide networks this reaches a lower loss in the same time than the cycles above, and is
    what the ``paper`` configurations use.

One network per HMC chain is trained, each from its own initialisation and minibatch order,
all as one batched program (:func:`surrogates.training.train_members`, the loop of the MLP
ensemble). A *heteroscedastic* regression network has a second output
:math:`u(x) = \ln\sigma(x)`, the model-space scale of its own error: a linear function of the
last hidden layer (the inputs of the output layer), trained by the Gaussian negative log
likelihood with the hidden layers and the mean held fixed (stop-gradients), so that the
network is fitted by least squares exactly as without it:

.. math:: L = \big(z - \mu(x)\big)^2 + \big(z - [\mu(x)]\big)^2 e^{-2u([h(x)])} + 2u([h(x)]),

with :math:`[\cdot]` the stop-gradient and :math:`h` the last hidden layer (a variance fitted
to a fixed mean, as the detached-mean fit of Seitzer et al., arXiv:2203.09168, Sec. 3; letting
the likelihood train the shared hidden layers too cost the m_h mean a factor 1.4 in accuracy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial

import torch

from surrogates.nn import BatchedMLP, last_hidden
from surrogates.training import train_members

__all__ = ["LOG_SCALE_RANGE", "SCHEDULES", "output_heads", "pretrain"]

SCHEDULES = ("amsgrad_cycles", "one_cycle")
#: Range of a heteroscedastic network's log error scale in model space (standardised targets):
#: from 1e-4 to 10 standard deviations of the target, so that a point far from the data cannot
#: be handed an infinite error bar (or a vanishing one).
LOG_SCALE_RANGE = (math.log(1e-4), math.log(10.0))
#: Final learning rate of the one-cycle schedule, relative to its peak.
_ONE_CYCLE_FINAL = 1e-4


def output_heads(
    w: torch.Tensor, b: torch.Tensor, h: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Mean (n_networks, n) and, for a heteroscedastic network, log error scale (clamped to
    :data:`LOG_SCALE_RANGE`) from the output layer ``w``, ``b`` and its input ``h``.

    The scale head sees the trunk's features but does not train them (stop-gradient).
    """
    mean = torch.baddbmm(b[..., :1], h, w[..., :1])[..., 0]
    if w.shape[-1] == 1:
        return mean, None
    raw = torch.baddbmm(b[..., 1:], h.detach(), w[..., 1:])[..., 0]
    return mean, raw.clamp(*LOG_SCALE_RANGE)


def _loss(
    net: BatchedMLP, X: torch.Tensor, z: torch.Tensor, classifier: bool, selection: bool = False
) -> torch.Tensor:
    """Per-network mean loss, shape (n_networks,); ``X``/``z`` shared or one batch per network.

    ``selection``: the loss that picks the best epoch, the squared error of the mean alone.
    """
    w, b = list(net.weights), list(net.biases)
    X = X.expand(w[0].shape[0], *X.shape) if X.dim() == 2 else X
    h = last_hidden(w[:-1], b[:-1], X, net.activation, net.skip)
    f, u = output_heads(w[-1], b[-1], h)
    z = z.expand_as(f)
    if classifier:
        return torch.nn.functional.binary_cross_entropy_with_logits(f, z, reduction="none").mean(1)
    sq = (f - z) ** 2
    if u is None or selection:
        return sq.mean(dim=1)
    return (sq + sq.detach() * torch.exp(-2 * u) + 2 * u).mean(dim=1)


def pretrain(
    X: torch.Tensor,
    z: torch.Tensor,
    val: tuple[torch.Tensor, torch.Tensor] | None,
    *,
    n_networks: int,
    hidden: Sequence[int],
    activation: str,
    classifier: bool,
    learning_rates: Sequence[float],
    epochs: int,
    batch_size: int,
    schedule: str = "amsgrad_cycles",
    weight_decay: float = 0.0,
    heteroscedastic: bool = False,
    skip: bool = False,
    initial: BatchedMLP | None = None,
    progress: bool = False,
) -> tuple[BatchedMLP, list[float]]:
    """Train ``n_networks`` networks (see the module text for the schedules).

    Parameters
    ----------
    X : Tensor of shape (n_points, n_inputs)
    z : Tensor of shape (n_points,)
    val : (X_val, z_val) or None
        Validation data selecting the best network of each cycle; the training data when None.
    learning_rates : sequence of float
        ``"amsgrad_cycles"``: one cycle per learning rate; ``"one_cycle"``: the peak learning
        rate is the first.
    epochs : int
        Epochs per cycle.
    schedule : {"amsgrad_cycles", "one_cycle"}
    weight_decay : float
        Decoupled weight decay of ``"one_cycle"``.
    heteroscedastic : bool
        Regression networks with a second output, the log of their error scale.
    skip : bool
        The output layer also sees the inputs (:class:`~surrogates.nn.BatchedMLP`).
    initial : BatchedMLP, optional
        Networks of this shape to continue training (a warm start), in place; default: a
        fresh initialisation.

    Returns
    -------
    net : BatchedMLP
        The networks, each at its best validation loss.
    history : list of float
        Mean best validation loss after each cycle.
    """
    X_val, z_val = val if val is not None else (X, z)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}")
    n_outputs = 2 if heteroscedastic and not classifier else 1
    if initial is None:
        net = BatchedMLP(n_networks, X.shape[1], hidden, n_outputs, activation, skip).to(
            X.device, X.dtype
        )
    else:
        net = initial.requires_grad_(True)
    steps = -(-X.shape[0] // batch_size)
    history = []
    cycles = learning_rates if schedule == "amsgrad_cycles" else learning_rates[:1]
    for lr in cycles:
        if schedule == "amsgrad_cycles":
            opt = torch.optim.Adam(net.parameters(), lr=lr, amsgrad=True)
            sched = None
        else:
            opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
            sched = torch.optim.lr_scheduler.OneCycleLR(
                opt, max_lr=lr, total_steps=epochs * steps,
                final_div_factor=1 / (_ONE_CYCLE_FINAL * 25),  # initial lr = max_lr / 25
            )
        with torch.no_grad():  # a cycle never ends on a network worse than it began with
            start = _loss(net, X_val, z_val, classifier, selection=True)
        fit = train_members(
            net, partial(_loss, net, classifier=classifier), X, z, (X_val, z_val),
            optimizer=opt, scheduler=sched, epochs=epochs, batch_size=batch_size,
            selection_loss=partial(_loss, net, classifier=classifier, selection=True),
            best_loss=start, desc=f"pre-train lr={lr:g}", progress=progress,
        )
        history.append(fit.best_loss.mean().item())
    return net, history
