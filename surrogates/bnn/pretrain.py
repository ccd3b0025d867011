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

A classifier may learn *auxiliary labels* ``a`` (n_points, n_aux) beside its label (e.g.
which SOFTSUSY problem makes a point invalid, :mod:`surrogates.data.problems`): ``n_aux``
further logits :math:`g_j(x)`, linear in the last hidden layer, and the loss

.. math:: L = \mathrm{BCE}(f, y) + \lambda\,\frac{1}{n_\mathrm{aux}}\sum_j \mathrm{BCE}(g_j, a_j)

(multi-task learning, Caruana, Machine Learning 28 (1997) 41): the trunk learns the boundary of
each problem. The best epoch is still chosen by the label's loss alone, and the returned
networks have the auxiliary outputs removed: they serve the training only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial

import torch

from surrogates.nn import BatchedMLP, init_layer, last_hidden
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
    net: BatchedMLP, X: torch.Tensor, z: torch.Tensor, classifier: bool, selection: bool = False,
    n_aux: int = 0, aux_weight: float = 0.0,
) -> torch.Tensor:
    """Per-network mean loss, shape (n_networks,); ``X``/``z`` shared or one batch per network.

    ``selection``: the loss that picks the best epoch, the squared error of the mean (the
    classifier: the label's cross entropy) alone. With ``n_aux`` auxiliary outputs (the last
    columns of the output layer) ``z`` holds the label and then the auxiliary labels in its
    last dimension, except for the selection loss, whose ``z`` is the label alone.
    """
    w, b = list(net.weights), list(net.biases)
    X = X.expand(w[0].shape[0], *X.shape) if X.dim() == 2 else X
    h = last_hidden(w[:-1], b[:-1], X, net.activation, net.skip)
    n_main = w[-1].shape[-1] - n_aux
    f, u = output_heads(w[-1][..., :n_main], b[-1][..., :n_main], h)
    if n_aux and not selection:
        a = z[..., 1:].expand(*f.shape, n_aux)
        z = z[..., 0]
        g = torch.baddbmm(b[-1][..., n_main:], h, w[-1][..., n_main:])
        aux = torch.nn.functional.binary_cross_entropy_with_logits(g, a, reduction="none")
        aux = aux_weight * aux.mean(dim=(1, 2))
    else:
        aux = 0.0
    z = z.expand_as(f)
    if classifier:
        bce = torch.nn.functional.binary_cross_entropy_with_logits(f, z, reduction="none")
        return bce.mean(1) + aux
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
    aux: torch.Tensor | None = None,
    aux_weight: float = 1.0,
    progress: bool = False,
) -> tuple[BatchedMLP, list[float]]:
    r"""Train ``n_networks`` networks (see the module text for the schedules).

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
    aux : Tensor of shape (n_points, n_aux), optional
        Auxiliary 0/1 labels of a classifier's training points (see the module text).
    aux_weight : float
        Their weight :math:`\lambda` in the loss.

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
    if aux is not None and (not classifier or aux.dim() != 2 or aux.shape[0] != X.shape[0]):
        raise ValueError(
            "aux must be the auxiliary labels of a classifier's points, shape "
            f"({X.shape[0]}, n_aux); got shape {tuple(aux.shape)}"
            + ("" if classifier else " for a regression network")
        )
    n_outputs = 2 if heteroscedastic and not classifier else 1
    if initial is None:
        net = BatchedMLP(n_networks, X.shape[1], hidden, n_outputs, activation, skip).to(
            X.device, X.dtype
        )
    else:
        net = initial.requires_grad_(True)
    n_aux = 0 if aux is None else aux.shape[1]
    if n_aux:
        _resize_outputs(net, n_outputs + n_aux)
        z = torch.cat([z[:, None], aux.to(z)], dim=1)
    loss = partial(_loss, net, classifier=classifier, n_aux=n_aux, aux_weight=aux_weight)
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
            start = loss(X_val, z_val, selection=True)
        fit = train_members(
            net, loss, X, z, (X_val, z_val),
            optimizer=opt, scheduler=sched, epochs=epochs, batch_size=batch_size,
            selection_loss=partial(loss, selection=True),
            best_loss=start, desc=f"pre-train lr={lr:g}", progress=progress,
        )
        history.append(fit.best_loss.mean().item())
    if n_aux:
        _resize_outputs(net, n_outputs)
    return net, history


def _resize_outputs(net: BatchedMLP, n_outputs: int) -> None:
    """Keep the first ``n_outputs`` columns of the output layer, or append freshly initialised
    ones up to ``n_outputs`` (the initialisation of :class:`~surrogates.nn.BatchedMLP`)."""
    w, b = net.weights[-1].detach(), net.biases[-1].detach()
    extra = n_outputs - w.shape[-1]
    if extra > 0:
        w_new, b_new = init_layer(w.shape[0], w.shape[1], extra)
        w, b = torch.cat([w, w_new.to(w)], -1), torch.cat([b, b_new.to(b)], -1)
    net.weights[-1] = torch.nn.Parameter(w[..., :n_outputs].contiguous())
    net.biases[-1] = torch.nn.Parameter(b[..., :n_outputs].contiguous())
